/* MISTAKE: sock_ops programs may write only reply and sk_txhash; op is read-only. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

SEC("sockops")
int sock_ops_write_op(struct bpf_sock_ops *skops)
{
	skops->op = 0;
	return 1;
}
char LICENSE[] SEC("license") = "GPL";
