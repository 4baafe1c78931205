/* OK: a static function that tail-calls; the caller reloads its packet pointers after the call. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u32);
} jt SEC(".maps");
static __attribute__((noinline)) int jump(struct __sk_buff *skb)
{
	bpf_tail_call(skb, &jt, 0);
	return 1;
}
SEC("tc")
int tail_call_static_ok(struct __sk_buff *skb)
{
	void *data, *end;
	int r = jump(skb);

	data = (void *)(long)skb->data;
	end = (void *)(long)skb->data_end;
	if (data + 14 > end)
		return 0;
	return *(volatile __u8 *)(data + 12) + r;
}
char LICENSE[] SEC("license") = "GPL";
