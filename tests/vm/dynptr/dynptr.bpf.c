// Dynptrs over local memory, ring-buffer records and XDP packets. Each program folds what
// the helpers and kfuncs returned into its return value, so BPF_PROG_TEST_RUN can check it.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

extern int bpf_dynptr_from_skb(struct __sk_buff *s, __u64 flags, struct bpf_dynptr *ptr__uninit) __ksym;
extern int bpf_dynptr_from_xdp(struct xdp_md *x, __u64 flags, struct bpf_dynptr *ptr__uninit) __ksym;
extern void *bpf_dynptr_slice(const struct bpf_dynptr *p, __u32 offset, void *buffer__opt,
			      __u32 buffer__szk) __ksym;
extern void *bpf_dynptr_slice_rdwr(const struct bpf_dynptr *p, __u32 offset, void *buffer__opt,
				   __u32 buffer__szk) __ksym;
extern int bpf_dynptr_adjust(const struct bpf_dynptr *p, __u32 start, __u32 end) __ksym;
extern _Bool bpf_dynptr_is_null(const struct bpf_dynptr *p) __ksym;
extern _Bool bpf_dynptr_is_rdonly(const struct bpf_dynptr *p) __ksym;
extern __u32 bpf_dynptr_size(const struct bpf_dynptr *p) __ksym;
extern int bpf_dynptr_clone(const struct bpf_dynptr *p, struct bpf_dynptr *clone__uninit) __ksym;

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} seen SEC(".maps");

char buf[16];

SEC("xdp")
int local_read_write(struct xdp_md *ctx)
{
	struct bpf_dynptr ptr;
	char out[4] = {};
	int err, r = 0;

	__builtin_memcpy(buf, "abcdefgh", 8);
	err = bpf_dynptr_from_mem(buf, 8, 0, &ptr);
	if (err)
		return 1000 - err;
	r += bpf_dynptr_read(out, 4, &ptr, 2, 0) ? 1 : 0;       /* "cdef" */
	r += bpf_dynptr_write(&ptr, 6, "XY", 2, 0) ? 10 : 0;      /* buf = "abcdefXY" */
	r += bpf_dynptr_read(out, 4, &ptr, 6, 0) == -7 ? 100 : 0; /* past the end: -E2BIG */
	r += bpf_dynptr_write(&ptr, 0, "z", 1, 1) == -22 ? 1000 : 0; /* flags: -EINVAL */
	return r + out[0] + (buf[7] << 8);                         /* 1100 + 'c' + 'Y' << 8 */
}

SEC("xdp")
int local_errors(struct xdp_md *ctx)
{
	struct bpf_dynptr ptr;
	int r = 0;

	r += bpf_dynptr_from_mem(buf, 8, 1, &ptr) == -22;                /* flags */
	r += 2 * (bpf_dynptr_read(buf, 1, &ptr, 0, 0) == -22);           /* a NULL dynptr */
	bpf_dynptr_from_mem(buf, 16, 0, &ptr);
	r += 4 * (bpf_dynptr_size(&ptr) == 16);
	r += 8 * (bpf_dynptr_adjust(&ptr, 4, 12) == 0);
	r += 16 * (bpf_dynptr_size(&ptr) == 8);
	r += 32 * (bpf_dynptr_adjust(&ptr, 6, 4) == -22);
	r += 64 * (bpf_dynptr_adjust(&ptr, 2, 9) == -34);                /* -ERANGE */
	r += 128 * !bpf_dynptr_is_null(&ptr);
	r += 256 * !bpf_dynptr_is_rdonly(&ptr);
	return r;
}

SEC("xdp")
int ringbuf_records(struct xdp_md *ctx)
{
	struct bpf_dynptr ptr, big, copy;
	__u64 v = 0x1122334455667788ULL;
	__u32 *p;
	int r = 0, err;

	err = bpf_ringbuf_reserve_dynptr(&events, 16, 0, &ptr);
	if (err) {
		bpf_ringbuf_discard_dynptr(&ptr, 0);
		return 1;
	}
	bpf_dynptr_write(&ptr, 0, &v, 8, 0);
	p = bpf_dynptr_data(&ptr, 8, 4);
	if (p)
		*p = 0xabcd;
	r += bpf_dynptr_clone(&ptr, &copy) == 0 ? 2 : 0;
	r += bpf_dynptr_size(&copy) == 16 ? 4 : 0;
	bpf_ringbuf_submit_dynptr(&ptr, 0);

	err = bpf_ringbuf_reserve_dynptr(&events, 8192, 0, &big);  /* no room: -EINVAL */
	r += err == -22 ? 8 : 0;
	r += bpf_dynptr_is_null(&big) ? 16 : 0;
	bpf_ringbuf_discard_dynptr(&big, 0);

	err = bpf_ringbuf_reserve_dynptr(&events, 8, 0, &ptr);
	if (!err)
		r += 32;
	bpf_ringbuf_discard_dynptr(&ptr, 0);
	return r;
}

SEC("xdp")
int packet_slices(struct xdp_md *ctx)
{
	struct bpf_dynptr ptr;
	__u8 buffer[4] = {};
	__u8 *eth;
	__u32 key = 0;
	__u64 *slot;
	int r = 0;

	if (bpf_dynptr_from_xdp(ctx, 0, &ptr))
		return 1;
	r += bpf_dynptr_size(&ptr);                          /* the packet's length */
	eth = bpf_dynptr_slice(&ptr, 12, buffer, sizeof(buffer));
	if (!eth)
		return 2;
	r += eth[0] << 16;                                   /* the EtherType's first byte */
	bpf_dynptr_write(&ptr, 1, "\x77", 1, 0);
	r += bpf_dynptr_read(buffer, 4, &ptr, 62, 0) == -7 ? 0x1000 : 0;  /* past 64 bytes */
	r += bpf_dynptr_slice(&ptr, 61, buffer, 4) ? 0 : 0x2000;
	r += bpf_dynptr_write(&ptr, 0, "x", 1, 1) == -22 ? 0x4000 : 0;      /* xdp: no flags */
	slot = bpf_map_lookup_elem(&seen, &key);
	if (slot)
		*slot = r;
	return r;
}

SEC("xdp")
int packet_slice_rdwr(struct xdp_md *ctx)
{
	struct bpf_dynptr ptr;
	__u8 buffer[4] = {};
	__u8 *p;

	if (bpf_dynptr_from_xdp(ctx, 0, &ptr))
		return 1;
	p = bpf_dynptr_slice_rdwr(&ptr, 0, buffer, sizeof(buffer));
	if (!p)
		return 3;
	p[0] = 0xee;                                         /* writes the packet */
	return p == buffer ? 4 : 2;                          /* a direct pointer: XDP_PASS */
}

static int skb_dynptr(struct __sk_buff *skb)
{
	struct bpf_dynptr ptr;
	__u8 buffer[2] = {};
	__u8 *p;
	int r = 0;

	if (bpf_dynptr_from_skb(skb, 0, &ptr))
		return 1;
	r += bpf_dynptr_size(&ptr);
	r += bpf_dynptr_is_rdonly(&ptr) ? 0x100 : 0;
	p = bpf_dynptr_slice(&ptr, 0, buffer, sizeof(buffer));
	if (!p)
		return 2;
	r += p[0] << 16;
	r += bpf_dynptr_write(&ptr, 0, "\x45", 1, 4) == -22 ? 0x1000 : 0;   /* unknown flag */
	r += bpf_dynptr_write(&ptr, 0, "\x46", 1, 0) == -22 ? 0x2000 : 0;   /* read-only */
	r += bpf_dynptr_data(&ptr, 0, 1) ? 0 : 0x4000;                      /* skb: never data */
	return r;
}

SEC("tc")
int tc_skb_dynptr(struct __sk_buff *skb)
{
	return skb_dynptr(skb);
}

SEC("socket")
int socket_skb_dynptr(struct __sk_buff *skb)
{
	return skb_dynptr(skb);
}

char LICENSE[] SEC("license") = "GPL";
