/* Loader for programs/core_task.bpf.c against its skeleton: watch this process (.rodata),
 * auto-attach the tracepoint, call getppid(), check the program read our parent's tgid through
 * CO-RE (task->real_parent->tgid), destroy. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "core_task.skel.h"

int main(void)
{
	struct core_task_bpf *skel;
	long ppid;
	int err;

	skel = core_task_bpf__open();
	if (!skel) {
		fprintf(stderr, "open: %s\n", strerror(errno));
		return 2;
	}
	skel->rodata->target_tgid = getpid();
	err = core_task_bpf__load(skel);
	if (!err)
		err = core_task_bpf__attach(skel);
	if (err) {
		fprintf(stderr, "load/attach: %s\n", strerror(-err));
		goto out;
	}
	ppid = syscall(SYS_getppid);
	printf("parent_matches=%s calls>=1:%s\n", skel->bss->parent_tgid == ppid ? "yes" : "no",
	       skel->bss->calls >= 1 ? "yes" : "no");
	err = skel->bss->parent_tgid == ppid ? 0 : 1;
out:
	core_task_bpf__destroy(skel);
	return err ? 1 : 0;
}
