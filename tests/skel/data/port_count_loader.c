/* Loader for tests/skel/data/port_count.bpf.c against its skeleton: set .rodata watch_port
 * before load, attach XDP to loopback, send 3 UDP packets to that port and 2 to the next one,
 * then read the hash map and .bss; print what it saw. */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "port_count.skel.h"

static int send_to(int port, int count)
{
	struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = htons(port),
				    .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	if (fd < 0)
		return -1;
	while (count--)
		if (sendto(fd, "x", 1, 0, (struct sockaddr *)&addr, sizeof(addr)) != 1)
			return -1;
	close(fd);
	return 0;
}

int main(int argc, char **argv)
{
	struct port_count_bpf *skel;
	__u16 port = argc > 1 ? atoi(argv[1]) : 4242, other = port + 1;
	__u64 hits = 0, other_hits = 0;
	int err;

	skel = port_count_bpf__open();
	if (!skel) {
		fprintf(stderr, "open: %s\n", strerror(errno));
		return 2;
	}
	printf("watch_port default=%u\n", skel->rodata->watch_port);
	skel->rodata->watch_port = port;
	err = port_count_bpf__load(skel);
	if (err) {
		fprintf(stderr, "load: %s\n", strerror(-err));
		goto out;
	}
	skel->links.port_count = bpf_program__attach_xdp(skel->progs.port_count, if_nametoindex("lo"));
	if (!skel->links.port_count) {
		err = -errno;
		fprintf(stderr, "attach: %s\n", strerror(errno));
		goto out;
	}
	if (send_to(port, 3) || send_to(other, 2)) {
		err = -errno;
		fprintf(stderr, "send: %s\n", strerror(errno));
		goto out;
	}
	bpf_map__lookup_elem(skel->maps.port_hits, &port, sizeof(port), &hits, sizeof(hits), 0);
	if (bpf_map__lookup_elem(skel->maps.port_hits, &other, sizeof(other), &other_hits, sizeof(other_hits), 0))
		other_hits = 0;
	printf("watch_port=%u hits=%llu other=%llu udp_seen>=5:%s\n", skel->rodata->watch_port,
	       (unsigned long long)hits, (unsigned long long)other_hits, skel->bss->udp_seen >= 5 ? "yes" : "no");
out:
	port_count_bpf__destroy(skel);
	return err ? 1 : 0;
}
