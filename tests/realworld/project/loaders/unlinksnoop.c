// SPDX-License-Identifier: GPL-2.0
/* unlinksnoop: count unlink calls for a few seconds, then print the last file removed. */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <bpf/libbpf.h>
#include <linux/types.h>
#include "../tracing/unlinksnoop.h"
#include "unlinksnoop.skel.h"
#include "report.h"

int main(int argc, char **argv)
{
	struct unlinksnoop_bpf *skel;
	int seconds = 5;
	int err;

	skel = unlinksnoop_bpf__open_and_load();
	if (!skel) {
		fprintf(stderr, "unlinksnoop: cannot open or load the BPF object\n");
		return 1;
	}
	if (report_wanted(argc, argv)) {
		err = report_object(skel->obj);
		goto out;
	}
	if (argc > 1)
		seconds = atoi(argv[1]);
	err = unlinksnoop_bpf__attach(skel);
	if (err) {
		fprintf(stderr, "unlinksnoop: attach failed: %d\n", err);
		goto out;
	}
	sleep(seconds);
	printf("%llu unlinks, last: %s (task state %llu)\n", (unsigned long long)skel->bss->stats.calls,
	       skel->bss->stats.last_name, (unsigned long long)skel->bss->stats.last_state);
out:
	unlinksnoop_bpf__destroy(skel);
	return err ? 1 : 0;
}
