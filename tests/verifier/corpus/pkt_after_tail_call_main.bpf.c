/* OK: packet pointers checked before a tail call in the main program are used on the path where the tail call failed. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u32);
} jt SEC(".maps");
SEC("tc")
int pkt_after_tail_call_main(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data, *end = (void *)(long)skb->data_end;
	if (data + 14 > end)
		return 0;
	bpf_tail_call(skb, &jt, 0);
	return *(volatile __u8 *)(data + 12);
}
char LICENSE[] SEC("license") = "GPL";
