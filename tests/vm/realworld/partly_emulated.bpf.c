// One object, two programs: `counter` uses nothing unusual; `steer` looks sockets up in a
// SOCKMAP, which the emulator does not model.  The object must still load, `counter` run.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_SOCKMAP);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u64);
} socks SEC(".maps");

__u64 packets;

SEC("tc")
int counter(struct __sk_buff *skb)
{
	packets++;
	return 0;
}

SEC("sk_skb/stream_verdict")
int steer(struct __sk_buff *skb)
{
	return bpf_sk_redirect_map(skb, &socks, 0, 0);
}

char LICENSE[] SEC("license") = "GPL";
