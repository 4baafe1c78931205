/* MISTAKE: the slice of a ring-buffer dynptr is written after the record was submitted. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} events SEC(".maps");

SEC("tracepoint/syscalls/sys_enter_getpid")
int dp_slice_after_submit(void *ctx)
{
	struct bpf_dynptr rec;
	__u64 *slot;

	bpf_ringbuf_reserve_dynptr(&events, 16, 0, &rec);
	slot = bpf_dynptr_data(&rec, 0, sizeof(*slot));
	if (!slot) {
		bpf_ringbuf_discard_dynptr(&rec, 0);
		return 0;
	}
	bpf_ringbuf_submit_dynptr(&rec, 0);
	*slot = 3;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
