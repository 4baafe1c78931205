/* Loader for programs/hello.bpf.c written against its skeleton (bpftool's or bpfbuild's):
 * open_and_load, read skel->bss->counter, attach XDP to loopback, send one UDP packet to a
 * socket of our own on 127.0.0.1, check the counter went up, destroy. */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "hello.skel.h"

static int send_one(void)
{
	struct sockaddr_in addr = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(addr);
	int rx = socket(AF_INET, SOCK_DGRAM, 0), tx = socket(AF_INET, SOCK_DGRAM, 0);
	char buf[8];

	if (rx < 0 || tx < 0 || bind(rx, (struct sockaddr *)&addr, sizeof(addr)) ||
	    getsockname(rx, (struct sockaddr *)&addr, &len) ||
	    sendto(tx, "ping", 4, 0, (struct sockaddr *)&addr, sizeof(addr)) != 4 ||
	    recv(rx, buf, sizeof(buf), 0) != 4)
		return -1;
	close(rx);
	close(tx);
	return 0;
}

int main(void)
{
	struct hello_bpf *skel;
	int before, after, err = 1;

	skel = hello_bpf__open_and_load();
	if (!skel) {
		fprintf(stderr, "open_and_load: %s\n", strerror(errno));
		return 2;
	}
	before = skel->bss->counter;
	skel->links.hello = bpf_program__attach_xdp(skel->progs.hello, if_nametoindex("lo"));
	if (!skel->links.hello) {
		fprintf(stderr, "attach: %s\n", strerror(errno));
		goto out;
	}
	if (send_one()) {
		fprintf(stderr, "send: %s\n", strerror(errno));
		goto out;
	}
	after = skel->bss->counter;
	printf("before=%d increased=%s\n", before, after > before ? "yes" : "no");
	err = after > before ? 0 : 1;
out:
	hello_bpf__destroy(skel);
	return err;
}
