/* OK: a new per-CPU object is stashed in the map value; the one it replaces is freed.
 * needs: clang >= 18 (per-CPU kptr type tags) */
#include "pcpu_common.h"

SEC("tc")
int pcpu_stash(struct __sk_buff *skb)
{
	struct stats percpu_kptr *p;

	HOLDER(h);
	STASH_NEW(h, p);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
