// SPDX-License-Identifier: GPL-2.0
/* usdtprobe: count a process's myapp:request probes (usdtprobe PID BINARY). */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <bpf/libbpf.h>
#include "usdtprobe.skel.h"
#include "report.h"

int main(int argc, char **argv)
{
	struct usdtprobe_bpf *skel;
	struct bpf_link *link;
	int err = 0;

	skel = usdtprobe_bpf__open_and_load();
	if (!skel) {
		fprintf(stderr, "usdtprobe: cannot open or load the BPF object\n");
		return 1;
	}
	if (report_wanted(argc, argv)) {
		err = report_object(skel->obj);
		goto out;
	}
	if (argc < 3) {
		fprintf(stderr, "usage: %s PID BINARY | --report\n", argv[0]);
		err = 1;
		goto out;
	}
	link = bpf_program__attach_usdt(skel->progs.on_request, atoi(argv[1]), argv[2], "myapp", "request", NULL);
	if (!link) {
		fprintf(stderr, "usdtprobe: cannot attach to %s\n", argv[2]);
		err = 1;
		goto out;
	}
	skel->links.on_request = link;
	sleep(5);
	printf("%llu requests, %llu bytes, last id %ld\n", (unsigned long long)skel->bss->requests,
	       (unsigned long long)skel->bss->bytes, skel->bss->last_id);
out:
	usdtprobe_bpf__destroy(skel);
	return err ? 1 : 0;
}
