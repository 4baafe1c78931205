/* OK: a cgroup sock_create program reads the family and sets the mark. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

SEC("cgroup/sock_create")
int cgroup_sock_create(struct bpf_sock *sk)
{
	if (sk->family == 10)
		sk->mark = 42;
	return 1;
}
char LICENSE[] SEC("license") = "GPL";
