/* OK: a static function reads a packet byte with LD_ABS (a socket filter). */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

unsigned long long load_byte(void *skb, unsigned long long off) asm("llvm.bpf.load.byte");
static __attribute__((noinline)) int proto_of(struct __sk_buff *skb)
{
	return load_byte(skb, 23);
}
SEC("socket")
int ld_abs_subprog(struct __sk_buff *skb)
{
	return proto_of(skb) == 6 ? -1 : 0;
}
char LICENSE[] SEC("license") = "GPL";
