/* Externs of every kind, resolved at load time: __kconfig values of each type libbpf supports
 * (bool, tristate, char, int, char array, the LINUX_* virtual ones, __weak defaults), an untyped
 * __ksym (a kernel function's address from kallsyms) and two kfuncs.  Every value is stored in a
 * global so nothing is dead code the verifier could remove. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

extern unsigned int LINUX_KERNEL_VERSION __kconfig;
extern _Bool LINUX_HAS_SYSCALL_WRAPPER __kconfig;
extern _Bool LINUX_HAS_BPF_COOKIE __kconfig;
extern int LINUX_SOMETHING_NEW __kconfig __weak;
extern _Bool CONFIG_BPF_SYSCALL __kconfig;
extern enum libbpf_tristate CONFIG_BTRFS_FS __kconfig __weak;
extern int CONFIG_HZ __kconfig __weak;
extern unsigned long long CONFIG_LOG_BUF_SHIFT __kconfig __weak;
extern char CONFIG_DEFAULT_HOSTNAME[8] __kconfig __weak;
extern char CONFIG_BPF_JIT __kconfig __weak;
extern _Bool CONFIG_BPFBUILD_NOT_A_REAL_OPTION __kconfig __weak;

extern const void bpf_prog_put __ksym;

struct task_struct {
	int pid;
} __attribute__((preserve_access_index));
extern struct task_struct *bpf_task_from_pid(int pid) __ksym;
extern void bpf_task_release(struct task_struct *p) __ksym;

long long out[16];
char hostname[8];

SEC("tp_btf/sys_enter")
int read_externs(void *ctx)
{
	struct task_struct *t;

	out[0] = LINUX_KERNEL_VERSION;
	out[1] = LINUX_HAS_SYSCALL_WRAPPER;
	out[2] = LINUX_HAS_BPF_COOKIE;
	out[3] = LINUX_SOMETHING_NEW;
	out[4] = CONFIG_BPF_SYSCALL;
	out[5] = CONFIG_BTRFS_FS;
	out[6] = CONFIG_HZ;
	out[7] = CONFIG_LOG_BUF_SHIFT;
	out[8] = CONFIG_BPF_JIT;
	out[9] = CONFIG_BPFBUILD_NOT_A_REAL_OPTION;
	out[10] = (long long)&bpf_prog_put;
	__builtin_memcpy(hostname, CONFIG_DEFAULT_HOSTNAME, sizeof(hostname));
	t = bpf_task_from_pid(1);
	if (t) {
		out[11] = t->pid;
		bpf_task_release(t);
	}
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
