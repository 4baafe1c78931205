/* MISTAKE: the job a map value's kptr holds still belongs to the map: loading the pointer gives
 * no reference to it, and bpf_obj_drop() frees only objects the program owns (bpf_kptr_xchg()
 * takes it out of the map).
 * needs: clang >= 18 (kptr type tags) */
#include "gr2_common.h"

ARRAY_OF(jstash, jstashes);

SEC("tc")
int gr2_local_kptr_drop(void *ctx)
{
	STASHED_JOB(j);

	drop_obj(j);
	return 1;
}

char LICENSE[] SEC("license") = "GPL";
