// The ids tracers record: pid/tgid inside a pid namespace (the namespace's device and inode
// set by the loader), the traced function's address, and a socket's cookie.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

const volatile __u64 ns_dev = 0;
const volatile __u64 ns_ino = 0;

__u32 ns_pid, ns_tgid;
__s64 ns_ret;
__u64 func_ip;
__u64 cookie;

SEC("kprobe/do_unlinkat")
int probe(void *ctx)
{
	struct bpf_pidns_info ns = {};

	ns_ret = bpf_get_ns_current_pid_tgid(ns_dev, ns_ino, &ns, sizeof(ns));
	ns_pid = ns.pid;
	ns_tgid = ns.tgid;
	func_ip = bpf_get_func_ip(ctx);
	return 0;
}

/* the same namespace query where BPF_PROG_TEST_RUN can run it */
SEC("xdp")
int xdp_ns(struct xdp_md *ctx)
{
	struct bpf_pidns_info ns = {};

	ns_ret = bpf_get_ns_current_pid_tgid(ns_dev, ns_ino, &ns, sizeof(ns));
	ns_pid = ns.pid;
	ns_tgid = ns.tgid;
	return XDP_PASS;
}

SEC("tc")
int tc_cookie(struct __sk_buff *skb)
{
	cookie = bpf_get_socket_cookie(skb);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
