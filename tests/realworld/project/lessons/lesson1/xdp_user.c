// SPDX-License-Identifier: GPL-2.0
/* Lesson 1 loader: attach the stats program to an interface and print its packet count. */
#include <net/if.h>
#include <stdio.h>
#include <unistd.h>
#include <linux/if_link.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "lesson1-xdp_kern.skel.h"
#include "../../loaders/report.h"

int main(int argc, char **argv)
{
	struct lesson1_xdp_kern_bpf *skel = lesson1_xdp_kern_bpf__open_and_load();
	struct bpf_link *link;
	int ifindex, err = 0;

	if (!skel) {
		fprintf(stderr, "lesson1: cannot open or load the BPF object\n");
		return 1;
	}
	if (report_wanted(argc, argv)) {
		err = report_object(skel->obj);
		goto out;
	}
	ifindex = argc > 1 ? (int)if_nametoindex(argv[1]) : 0;
	if (!ifindex) {
		fprintf(stderr, "usage: %s IFNAME | --report\n", argv[0]);
		err = 1;
		goto out;
	}
	link = bpf_program__attach_xdp(skel->progs.xdp_stats_prog, ifindex);
	if (!link) {
		fprintf(stderr, "lesson1: cannot attach to %s\n", argv[1]);
		err = 1;
		goto out;
	}
	skel->links.xdp_stats_prog = link;
	sleep(2);
	printf("attached to %s; see `bpfbuild map dump` for xdp_stats_map\n", argv[1]);
out:
	lesson1_xdp_kern_bpf__destroy(skel);
	return err;
}
