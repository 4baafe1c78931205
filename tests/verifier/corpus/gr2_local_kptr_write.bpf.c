/* OK: inside the RCU section of a program that cannot sleep, a job loaded from a map value's kptr
 * stays allocated: the program may write its fields (the pointer is a non-owning reference, since
 * a job can be a list node).
 * needs: clang >= 18 (kptr type tags) */
#include "gr2_common.h"

ARRAY_OF(jstash, jstashes);

SEC("tc")
int gr2_local_kptr_write(void *ctx)
{
	STASHED_JOB(j);

	j->prio = 3;
	return 1;
}

char LICENSE[] SEC("license") = "GPL";
