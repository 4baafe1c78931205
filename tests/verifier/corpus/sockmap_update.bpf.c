/* A socket found by bpf_sk_lookup_tcp() stored into a sockmap and a sockhash from a tc program
 * (a sockmap value is the socket itself), then released. */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_SOCKMAP);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u64);
} socks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_SOCKHASH);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u64);
} socks_by_port SEC(".maps");

SEC("tc")
int sockmap_store(struct __sk_buff *skb)
{
	struct bpf_sock_tuple tuple = {};
	__u32 key = 0;
	struct bpf_sock *sk;

	sk = bpf_sk_lookup_tcp(skb, &tuple, sizeof(tuple.ipv4), BPF_F_CURRENT_NETNS, 0);
	if (!sk)
		return TC_ACT_OK;
	bpf_map_update_elem(&socks, &key, sk, BPF_ANY);
	key = sk->dst_port;
	bpf_map_update_elem(&socks_by_port, &key, sk, BPF_NOEXIST);
	bpf_sk_release(sk);
	return TC_ACT_OK;
}

char LICENSE[] SEC("license") = "GPL";
