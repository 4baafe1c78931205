/* OK: sched_process_exec's linux_binprm argument is trusted and so is its file member (the
 * kernel lists it as safe to walk): the exec'd file's flags are read directly. */
#include "btf_kernel_types.h"

__u64 flags = 0;
__u64 argc = 0;

SEC("tp_btf/sched_process_exec")
int BPF_PROG(btf_exec_bprm_file, struct task_struct *p, int old_pid, struct linux_binprm *bprm)
{
	flags = bprm->file->f_flags;
	argc = bprm->argc;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
