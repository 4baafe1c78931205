// One object, two programs: `counter` uses nothing unusual; `steer` picks a socket from a
// REUSEPORT_SOCKARRAY, which the emulator does not model.  The object must still load, `counter` run.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_REUSEPORT_SOCKARRAY);
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

SEC("sk_reuseport")
int steer(struct sk_reuseport_md *reuse)
{
	__u32 key = 0;

	return bpf_sk_select_reuseport(reuse, &socks, &key, 0) == 0 ? SK_PASS : SK_DROP;
}

char LICENSE[] SEC("license") = "GPL";
