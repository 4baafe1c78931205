/* CO-RE: when the loader's own process calls getppid(), read its parent's tgid through
 * task->real_parent->tgid.  The field offsets are relocated by libbpf against the running
 * kernel's BTF at load time (BPF_CORE_READ), so the object runs on kernels whose struct
 * task_struct differs from the one it was compiled against.
 *
 * Types: build/vmlinux.h (`doit vmlinux`, from /sys/kernel/btf/vmlinux) when the build puts it
 * on the include path; otherwise, or with -DCORE_TASK_NO_VMLINUX, the two fields below, which
 * is all CO-RE needs (it matches names, not layouts).
 */
#if !defined(CORE_TASK_NO_VMLINUX) && defined(__has_include) && __has_include("vmlinux.h")
#include "vmlinux.h"
#else
#include <linux/bpf.h>

struct task_struct {
	int tgid;
	struct task_struct *real_parent;
} __attribute__((preserve_access_index));
#endif
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

const volatile int target_tgid = 0;   /* set before load (skel->rodata): the process to watch */

int parent_tgid = 0;                  /* what the program read, for the loader to compare */
__u64 calls = 0;

SEC("tracepoint/syscalls/sys_enter_getppid")
int core_task(void *ctx)
{
	struct task_struct *task;

	if ((int)(bpf_get_current_pid_tgid() >> 32) != target_tgid)
		return 0;
	task = (struct task_struct *)bpf_get_current_task();
	parent_tgid = BPF_CORE_READ(task, real_parent, tgid);
	__sync_fetch_and_add(&calls, 1);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
