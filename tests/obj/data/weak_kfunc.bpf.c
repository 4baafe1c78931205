/* A __weak kfunc the kernel does not have, called only when its address is non-NULL (what
 * bpf_ksym_exists() expands to in newer libbpf headers): libbpf leaves the call with BTF id 0 and
 * the address 0, so the verifier proves the call dead and removes it; a kfunc that exists keeps its
 * call.  The tag is computed before dead code goes, so it is still ours. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct task_struct {
	int pid;
} __attribute__((preserve_access_index));

extern int bpf_bpfbuild_no_such_kfunc(int x) __ksym __weak;
extern struct task_struct *bpf_task_from_pid(int pid) __ksym __weak;
extern void bpf_task_release(struct task_struct *p) __ksym;

long long out[4];

SEC("tp_btf/sys_enter")
int weak_kfuncs(void *ctx)
{
	struct task_struct *t;

	if (&bpf_bpfbuild_no_such_kfunc)
		out[0] = bpf_bpfbuild_no_such_kfunc(1);
	if (&bpf_task_from_pid) {
		t = bpf_task_from_pid(1);
		if (t) {
			out[1] = t->pid;
			bpf_task_release(t);
		}
	}
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
