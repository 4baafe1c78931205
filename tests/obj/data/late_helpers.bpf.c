/* Helpers that reached program types late, and map fields some program types can never use:
 * bpf_get_socket_cookie in cgroup sock programs (5.7; the helper is 4.12), bpf_get_netns_cookie
 * in tc programs (6.13; the helper is 5.7), a spin lock in a map a kprobe program uses (the
 * kernel: "tracing progs cannot use bpf_spin_lock yet") and one a sleepable LSM program takes
 * (bpf_spin_lock in LSM programs 5.11; sleepable programs may hold a lock from 6.6). */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct locked {
	struct bpf_spin_lock lock;
	__u64 hits;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct locked);
} locks SEC(".maps");

SEC("cgroup/sock_create")
int sock_cookie(struct bpf_sock *ctx)
{
	return bpf_get_socket_cookie(ctx) != 0;
}

SEC("tc")
int tc_netns(struct __sk_buff *skb)
{
	return bpf_get_netns_cookie(skb) == 0;
}

SEC("kprobe/do_nanosleep")
int kp_lock(void *ctx)
{
	__u32 key = 0;
	struct locked *v = bpf_map_lookup_elem(&locks, &key);

	if (v)
		v->hits = 1;
	return 0;
}

SEC("lsm.s/file_open")
int lock_sleepable(void *ctx)
{
	__u32 key = 0;
	struct locked *v = bpf_map_lookup_elem(&locks, &key);

	if (v) {
		bpf_spin_lock(&v->lock);
		v->hits++;
		bpf_spin_unlock(&v->lock);
	}
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
