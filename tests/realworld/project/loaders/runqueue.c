// SPDX-License-Identifier: GPL-2.0
/* runqueue: the longest run queue CPU 0 had during a few seconds of context switches. */
#include <stdio.h>
#include <unistd.h>
#include <bpf/libbpf.h>
#include "runqueue.skel.h"
#include "report.h"

int main(int argc, char **argv)
{
	struct runqueue_bpf *skel = runqueue_bpf__open_and_load();
	int err;

	if (!skel) {
		fprintf(stderr, "runqueue: cannot open or load the BPF object\n");
		return 1;
	}
	if (report_wanted(argc, argv)) {
		err = report_object(skel->obj);
	} else {
		err = runqueue_bpf__attach(skel);
		if (!err) {
			sleep(3);
			printf("%llu switches, longest run queue on CPU 0: %llu\n",
			       (unsigned long long)skel->bss->switches, (unsigned long long)skel->bss->max_nr_running);
		}
	}
	runqueue_bpf__destroy(skel);
	return err ? 1 : 0;
}
