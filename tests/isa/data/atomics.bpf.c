/* Atomic read-modify-write in every width and flavour (needs -mcpu=v3). */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

long total;
int small;

SEC("xdp")
int atomics(struct xdp_md *ctx)
{
	long old = 0;

	__sync_fetch_and_add(&total, 1);
	__sync_fetch_and_or(&total, 2);
	__sync_fetch_and_and(&total, ~4L);
	__sync_fetch_and_xor(&total, 8);
	old += __sync_fetch_and_add(&total, 16);
	old += __sync_fetch_and_or(&total, 32);
	old += __sync_fetch_and_and(&total, ~64L);
	old += __sync_fetch_and_xor(&total, 128);
	old += __sync_lock_test_and_set(&total, 3);
	old += __sync_val_compare_and_swap(&total, 3, 4);
	__sync_fetch_and_add(&small, 1);
	__sync_fetch_and_or(&small, 2);
	old += __sync_fetch_and_and(&small, 5);
	old += __sync_fetch_and_xor(&small, 6);
	old += __sync_lock_test_and_set(&small, 7);
	old += __sync_val_compare_and_swap(&small, 7, 8);
	return old > 100 ? XDP_PASS : XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";
