/* MISTAKE: in a sleepable program, a per-CPU kptr loaded outside an RCU read section is
 * untrusted: the helper refuses it.
 * needs: clang >= 18 (per-CPU kptr type tags) */
#include "pcpu_common.h"

SEC("syscall")
int pcpu_sleepable_untrusted(void *ctx)
{
	THIS_CPU_STATS(s);
	return s->packets;
}

char LICENSE[] SEC("license") = "GPL";
