/* What unlinksnoop.bpf.c keeps in its `stats` global, shared with its loader (the skeleton
 * declares `struct unlink_stats stats;` and expects the definition from here). */
#ifndef UNLINKSNOOP_H
#define UNLINKSNOOP_H

struct unlink_stats {
	__u64 calls;
	__u64 in_execve;
	__u64 last_state;
	__u64 probe_addr;
	char last_name[32];
};

#endif
