// SPDX-License-Identifier: GPL-2.0
/* usdtprobe: an application's USDT probe (DTRACE_PROBE2(myapp, request, id, size)) counted per
 * request size class; the arguments come from the probe's spec through libbpf's usdt.bpf.h. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/usdt.bpf.h>

__u64 requests = 0;
__u64 bytes = 0;
long last_id = 0;

SEC("usdt")
int BPF_USDT(on_request, long id, long size)
{
	__sync_fetch_and_add(&requests, 1);
	__sync_fetch_and_add(&bytes, size);
	last_id = id;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
