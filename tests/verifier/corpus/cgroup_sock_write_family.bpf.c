/* MISTAKE: a cgroup sock program may not change the socket's family. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

SEC("cgroup/sock_create")
int cgroup_sock_write_family(struct bpf_sock *sk)
{
	sk->family = 2;
	return 1;
}
char LICENSE[] SEC("license") = "GPL";
