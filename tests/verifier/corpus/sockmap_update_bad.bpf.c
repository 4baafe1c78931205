/* MISTAKE: a sockmap's value is a socket, not memory holding a socket's number; and sock_ops
 * programs may not update a sockmap with bpf_map_update_elem() (bpf_sock_map_update() is theirs). */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_SOCKMAP);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u64);
} bad_socks SEC(".maps");

SEC("tc")
int sockmap_store_cookie(struct __sk_buff *skb)
{
	__u64 cookie = bpf_get_socket_cookie(skb);
	__u32 key = 0;

	bpf_map_update_elem(&bad_socks, &key, &cookie, BPF_ANY);
	return TC_ACT_OK;
}

SEC("sockops")
int sockmap_from_sockops(struct bpf_sock_ops *ops)
{
	struct bpf_sock *sk = ops->sk;
	__u32 key = 0;

	if (sk)
		bpf_map_update_elem(&bad_socks, &key, sk, BPF_ANY);
	return 1;
}

char LICENSE[] SEC("license") = "GPL";
