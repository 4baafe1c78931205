/* OK: a sock_ops program reads its op and ports and sets a callback flag. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

SEC("sockops")
int sock_ops_fields(struct bpf_sock_ops *skops)
{
	if (skops->op == BPF_SOCK_OPS_TCP_CONNECT_CB && skops->remote_port == bpf_htonl(80))
		bpf_sock_ops_cb_flags_set(skops, BPF_SOCK_OPS_STATE_CB_FLAG);
	skops->reply = skops->local_port;
	return 1;
}
char LICENSE[] SEC("license") = "GPL";
