/* MISTAKE: a store into the stack slots of a ring-buffer dynptr. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} events SEC(".maps");

SEC("tracepoint/syscalls/sys_enter_getpid")
int dp_overwrite_referenced(void *ctx)
{
	struct bpf_dynptr rec;

	bpf_ringbuf_reserve_dynptr(&events, 16, 0, &rec);
	*(volatile __u64 *)&rec = 0;
	bpf_ringbuf_discard_dynptr(&rec, 0);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
