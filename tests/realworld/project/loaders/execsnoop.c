// SPDX-License-Identifier: GPL-2.0
/* execsnoop: print every execve() (or only those of one parent: execsnoop PPID). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <bpf/libbpf.h>
#include "execsnoop.skel.h"
#include "../tracing/execsnoop.h"
#include "report.h"

static volatile sig_atomic_t exiting;

static void on_signal(int sig)
{
	exiting = 1;
}

static int on_event(void *ctx, void *data, size_t len)
{
	const struct event *e = data;

	printf("%-16s %-7d %-7d %s\n", e->comm, e->pid, e->ppid, e->filename);
	return 0;
}

int main(int argc, char **argv)
{
	struct execsnoop_bpf *skel;
	struct ring_buffer *rb = NULL;
	int err;

	skel = execsnoop_bpf__open();
	if (!skel) {
		fprintf(stderr, "execsnoop: cannot open the BPF object\n");
		return 1;
	}
	if (argc > 1 && argv[1][0] != '-')
		skel->rodata->target_ppid = atoi(argv[1]);
	err = execsnoop_bpf__load(skel);
	if (err) {
		fprintf(stderr, "execsnoop: load failed: %d\n", err);
		goto out;
	}
	if (report_wanted(argc, argv)) {
		err = report_object(skel->obj);
		goto out;
	}
	err = execsnoop_bpf__attach(skel);
	if (err) {
		fprintf(stderr, "execsnoop: attach failed: %d\n", err);
		goto out;
	}
	rb = ring_buffer__new(bpf_map__fd(skel->maps.events), on_event, NULL, NULL);
	if (!rb) {
		err = -errno;
		goto out;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	printf("%-16s %-7s %-7s %s\n", "COMM", "PID", "PPID", "FILENAME");
	while (!exiting) {
		err = ring_buffer__poll(rb, 100);
		if (err == -EINTR) {
			err = 0;
			break;
		}
		if (err < 0)
			break;
	}
	printf("%llu execs seen (kernel %d.%d, HZ=%d)\n", (unsigned long long)skel->bss->execs,
	       skel->bss->kernel_version >> 16, (skel->bss->kernel_version >> 8) & 0xff, skel->bss->hz);
out:
	ring_buffer__free(rb);
	execsnoop_bpf__destroy(skel);
	return err ? 1 : 0;
}
