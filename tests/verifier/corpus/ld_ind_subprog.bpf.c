/* OK: LD_IND in a static function called twice; a failed load returns 0 from the function. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
unsigned long long load_half(void *skb, unsigned long long off) asm("llvm.bpf.load.half");
static __attribute__((noinline)) int port_at(struct __sk_buff *skb, int off)
{
	return load_half(skb, off);
}
SEC("socket")
int ld_ind_subprog(struct __sk_buff *skb)
{
	return port_at(skb, 34) == 53 || port_at(skb, 36) == 53 ? -1 : 0;
}
char LICENSE[] SEC("license") = "GPL";
