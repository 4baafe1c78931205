/* bpf_core_type_matches: a TYPE_MATCHES relocation (clang 15 and later). */
#include "types.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

char LICENSE[] SEC("license") = "GPL";

long out;

SEC("kprobe/matches")
int matches(void *ctx)
{
	out = bpf_core_type_matches(struct cred) + bpf_core_type_matches(struct task_struct___old);
	return 0;
}
