/* MISTAKE: the address of a kfunc is read-only memory of size 0: no byte of it may be read. */
#include "ks_common.h"

SEC("xdp")
int ks_kfunc_addr_read(struct xdp_md *ctx)
{
	if (!ks_exists(bpf_strlen))
		return XDP_PASS;
	return *(volatile const unsigned char *)&bpf_strlen;
}

char LICENSE[] SEC("license") = "GPL";
