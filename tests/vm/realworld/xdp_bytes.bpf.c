// Packet access through helpers instead of pointers (multi-buffer-safe XDP code does this):
// bpf_xdp_load_bytes / bpf_xdp_store_bytes / bpf_xdp_get_buff_len.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

const volatile __u32 offset = 12;
const volatile __u32 length = 2;

__s64 load_rc = 1, store_rc = 1;
__u64 buff_len;
__u8 seen[8];

SEC("xdp")
int xdp_bytes(struct xdp_md *ctx)
{
	__u8 buf[8] = {};
	__u32 len = length;

	if (len > sizeof(buf))
		len = sizeof(buf);
	if (len < 1)
		len = 1;
	buff_len = bpf_xdp_get_buff_len(ctx);
	load_rc = bpf_xdp_load_bytes(ctx, offset, buf, len);
	__builtin_memcpy(seen, buf, sizeof(buf));
	buf[0] ^= 0xff;
	store_rc = bpf_xdp_store_bytes(ctx, offset, buf, len);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
