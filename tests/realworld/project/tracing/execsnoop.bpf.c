// SPDX-License-Identifier: GPL-2.0
/* execsnoop: one ring-buffer record per execve(), with the parent's pid read through CO-RE.
 * Feature-gated on the kernel's configuration with __kconfig externs of every kind. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "execsnoop.h"

extern int LINUX_KERNEL_VERSION __kconfig;               /* int, always known */
extern bool CONFIG_BPF_SYSCALL __kconfig;                /* bool (y) */
extern enum libbpf_tristate CONFIG_XFS_FS __kconfig __weak;   /* tristate: y, m or n */
extern int CONFIG_HZ __kconfig __weak;                   /* int */
extern char CONFIG_LOCALVERSION[16] __kconfig __weak;    /* string */
extern bool CONFIG_BPFBUILD_NO_SUCH_OPTION __kconfig __weak;  /* absent: 0 */

const volatile pid_t target_ppid = 0;    /* 0: every process */

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} events SEC(".maps");

__u64 execs = 0;
int kernel_version = 0;
int hz = 0;
int xfs = -1;
char localversion[16] = {};

SEC("ksyscall/execve")
int BPF_KSYSCALL(execve_entry, const char *filename, const char *const *argv, const char *const *envp)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct event *e;
	pid_t ppid = BPF_CORE_READ(task, real_parent, tgid);

	if (target_ppid && ppid != target_ppid)
		return 0;
	if (!CONFIG_BPF_SYSCALL || CONFIG_BPFBUILD_NO_SUCH_OPTION)
		return 0;
	kernel_version = LINUX_KERNEL_VERSION;
	hz = CONFIG_HZ;
	xfs = CONFIG_XFS_FS;
	__builtin_memcpy(localversion, CONFIG_LOCALVERSION, sizeof(localversion));
	__sync_fetch_and_add(&execs, 1);

	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e)
		return 0;
	e->pid = bpf_get_current_pid_tgid() >> 32;
	e->ppid = ppid;
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	bpf_probe_read_user_str(e->filename, sizeof(e->filename), filename);
	bpf_ringbuf_submit(e, 0);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
