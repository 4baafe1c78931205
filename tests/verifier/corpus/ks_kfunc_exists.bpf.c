/* OK: kfuncs called only where the loader found them (their address, an ld_imm64 of their BTF id). */
#include "ks_common.h"

const char haystack[16] = "hello, world";
const char needle[8] = "world";

SEC("xdp")
int ks_kfunc_exists(struct xdp_md *ctx)
{
	int n = 0;

	if (ks_exists(bpf_ks_no_such_kfunc))
		n += bpf_ks_no_such_kfunc(haystack);
	if (ks_exists(bpf_strnstr))
		n += bpf_strnstr(haystack, needle, sizeof(haystack));
	if (ks_exists(bpf_strlen))
		n += bpf_strlen(needle);
	return n > 0 ? XDP_PASS : XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";
