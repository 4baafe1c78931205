/* MISTAKE: a user ring buffer callback must return 0 (continue) or 1 (stop); this one
 * returns the sample's size. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_USER_RINGBUF);
	__uint(max_entries, 4096);
} requests SEC(".maps");

extern __u32 bpf_dynptr_size(const struct bpf_dynptr *ptr) __ksym;

static long sample_size(struct bpf_dynptr *sample, void *ctx)
{
	return bpf_dynptr_size(sample);
}

__u32 seen = 0;

SEC("tracepoint/syscalls/sys_enter_getpid")
int pv_user_ringbuf_bad_return(void *ctx)
{
	seen += bpf_user_ringbuf_drain(&requests, sample_size, NULL, 0);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
