/* MISTAKE: a ring-buffer dynptr and its clone are both submitted. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} events SEC(".maps");

extern int bpf_dynptr_from_skb(struct __sk_buff *skb, __u64 flags, struct bpf_dynptr *ptr__uninit) __ksym;
extern int bpf_dynptr_from_xdp(struct xdp_md *xdp, __u64 flags, struct bpf_dynptr *ptr__uninit) __ksym;
extern void *bpf_dynptr_slice(const struct bpf_dynptr *ptr, __u32 offset, void *buffer__opt,
			      __u32 buffer__szk) __ksym;
extern __u32 bpf_dynptr_size(const struct bpf_dynptr *ptr) __ksym;
extern int bpf_dynptr_adjust(const struct bpf_dynptr *ptr, __u32 start, __u32 end) __ksym;
extern int bpf_dynptr_clone(const struct bpf_dynptr *ptr, struct bpf_dynptr *clone__init) __ksym;

SEC("tracepoint/syscalls/sys_enter_getpid")
int dp_clone_submit_twice(void *ctx)
{
	struct bpf_dynptr rec, copy;

	bpf_ringbuf_reserve_dynptr(&events, 16, 0, &rec);
	bpf_dynptr_clone(&rec, &copy);
	bpf_ringbuf_submit_dynptr(&rec, 0);
	bpf_ringbuf_submit_dynptr(&copy, 0);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
