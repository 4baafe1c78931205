// SPDX-License-Identifier: GPL-2.0
/* Lesson 2 loader: the program's section name is not one libbpf knows, so the loader gives it
 * its type before loading (as pyproject.toml's `type = "xdp"` does for bpfbuild). */
#include <net/if.h>
#include <stdio.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "lesson2-xdp_kern.skel.h"
#include "../../loaders/report.h"

int main(int argc, char **argv)
{
	struct lesson2_xdp_kern_bpf *skel = lesson2_xdp_kern_bpf__open();
	struct bpf_link *link;
	int ifindex, err = 0;

	if (!skel) {
		fprintf(stderr, "lesson2: cannot open the BPF object\n");
		return 1;
	}
	bpf_program__set_type(skel->progs.xdp_icmp_echo_prog, BPF_PROG_TYPE_XDP);
	bpf_program__set_expected_attach_type(skel->progs.xdp_icmp_echo_prog, BPF_XDP);
	err = lesson2_xdp_kern_bpf__load(skel);
	if (err) {
		fprintf(stderr, "lesson2: load failed: %d\n", err);
		goto out;
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
	link = bpf_program__attach_xdp(skel->progs.xdp_icmp_echo_prog, ifindex);
	if (!link) {
		err = 1;
		goto out;
	}
	skel->links.xdp_icmp_echo_prog = link;
	sleep(2);
	printf("%llu echo requests answered\n", (unsigned long long)skel->bss->echoes);
out:
	lesson2_xdp_kern_bpf__destroy(skel);
	return err ? 1 : 0;
}
