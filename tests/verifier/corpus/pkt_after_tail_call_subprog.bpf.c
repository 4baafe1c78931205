/* MISTAKE: a subprogram that makes a tail call may change packet data, so the caller's packet pointers are invalid after it. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u32);
} jt SEC(".maps");
__attribute__((noinline)) int jump(struct __sk_buff *skb)
{
	bpf_tail_call(skb, &jt, 0);
	return 0;
}
SEC("tc")
int pkt_after_tail_call_subprog(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data, *end = (void *)(long)skb->data_end;
	if (data + 14 > end)
		return 0;
	jump(skb);
	return *(volatile __u8 *)(data + 12);
}
char LICENSE[] SEC("license") = "GPL";
