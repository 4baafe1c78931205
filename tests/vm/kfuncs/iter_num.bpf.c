// Open-coded number iterators and RCU sections, as bpf_for()/bpf_repeat() expand to them.
// Each program returns what the kernel's BPF_PROG_TEST_RUN returns for it.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct bpf_iter_num {
	__u64 __opaque[1];
} __attribute__((aligned(8)));

extern int bpf_iter_num_new(struct bpf_iter_num *it, int start, int end) __ksym;
extern int *bpf_iter_num_next(struct bpf_iter_num *it) __ksym;
extern void bpf_iter_num_destroy(struct bpf_iter_num *it) __ksym;
extern void bpf_rcu_read_lock(void) __ksym;
extern void bpf_rcu_read_unlock(void) __ksym;

static int sum_range(int start, int end)
{
	struct bpf_iter_num it;
	int *v, sum = 0;

	bpf_iter_num_new(&it, start, end);
	while ((v = bpf_iter_num_next(&it)))
		sum += *v;
	bpf_iter_num_destroy(&it);
	return sum;
}

SEC("xdp")
int sum_to_ten(struct xdp_md *ctx)
{
	return sum_range(0, 10);                 /* 0 + 1 + ... + 9 */
}

SEC("xdp")
int negative_range(struct xdp_md *ctx)
{
	return sum_range(-5, 3) + 100;           /* -5 ... 2: -12 */
}

SEC("xdp")
int reversed_range(struct xdp_md *ctx)
{
	struct bpf_iter_num it;
	int err, n = 0;

	err = bpf_iter_num_new(&it, 10, 3);      /* -EINVAL, and next() gives NULL */
	while (bpf_iter_num_next(&it))
		n++;
	bpf_iter_num_destroy(&it);
	return -err * 10 + n;
}

SEC("xdp")
int too_wide(struct xdp_md *ctx)
{
	struct bpf_iter_num it;
	int err, n = 0;

	err = bpf_iter_num_new(&it, 0, 8 * 1024 * 1024 + 1);   /* -E2BIG */
	while (bpf_iter_num_next(&it))
		n++;
	bpf_iter_num_destroy(&it);
	return -err * 10 + n;
}

SEC("xdp")
int in_rcu_section(struct xdp_md *ctx)
{
	int n;

	bpf_rcu_read_lock();
	n = sum_range(1, 4);                     /* 1 + 2 + 3 */
	bpf_rcu_read_unlock();
	return n;
}

char LICENSE[] SEC("license") = "GPL";
