/* OK: samples a user-space producer wrote into a user ring buffer are drained with a
 * callback that reads each one through its (read-only) dynptr. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_USER_RINGBUF);
	__uint(max_entries, 4096);
} requests SEC(".maps");

__u64 total = 0;

static long take_one(struct bpf_dynptr *sample, void *ctx)
{
	__u64 *sum = ctx;
	__u32 v = 0;

	if (bpf_dynptr_read(&v, sizeof(v), sample, 0, 0))
		return 1;	/* stop draining */
	*sum += v;
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_getpid")
int pv_user_ringbuf_drain(void *ctx)
{
	__u64 sum = 0;

	bpf_user_ringbuf_drain(&requests, take_one, &sum, 0);
	total += sum;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
