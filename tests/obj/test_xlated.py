"""The offline xlated image (bpfbuild.verifier.fixups), without a kernel: what the rewrites do to
small programs.  tests/obj/test_xlated_kernel.py holds the same images against the kernel's."""

from __future__ import annotations

import os

import pytest

from bpfbuild.isa.fields import InsnClass, JmpOp, Size
from bpfbuild.obj.dump import xlated_listing, xlated_text
from bpfbuild.obj.loader import load_object_file
from bpfbuild.verifier.fixups import xlated

needs_btf = pytest.mark.skipif(not os.access("/sys/kernel/btf/vmlinux", os.R_OK), reason="no kernel BTF")

SOURCE = r"""
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

const volatile int verbose = 0;

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u64);
} counts SEC(".maps");

SEC("xdp")
int rewrite_me(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	__u32 key = (end - data) & 3;
	__u64 *n;

	if (verbose)
		bpf_printk("%d bytes", (int)(end - data));
	n = bpf_map_lookup_elem(&counts, &key);
	if (n)
		*n += 1;
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
"""


@needs_btf
def test_dead_code_ctx_fields_and_lookups_are_rewritten(compile_bpf):
    spec = load_object_file(compile_bpf(SOURCE, name="rewrite"))
    prog = spec.program("rewrite_me")
    x = xlated(spec, prog)
    assert x.notes == ()
    insns = x.program.insns
    # the printk behind the frozen `verbose` = 0 is gone, and so is the branch to it
    assert not any(i.is_helper_call and i.imm == 6 for i in insns)
    assert not any(i.is_call and i.imm == 1 for i in insns)     # the lookup is inlined ...
    ldx = [i for i in insns if i.cls == InsnClass.LDX and i.src == 1]
    assert ldx and all(i.size == Size.DW for i in ldx[:2])        # ... ctx->data/data_end read 8 bytes
    assert any(i.cls == InsnClass.JMP and i.jmp_op == JmpOp.JGE and i.imm == 4 for i in insns)  # index < 4
    assert x.bytes_xlated != prog.bytes_xlated
    # jumps still land inside the program, and the listing reads
    slots = []
    for i in insns:
        slots.append(i)
        if i.is_ld_imm64:
            slots.append(None)
    for pc, i in enumerate(slots):
        if i is not None and i.is_jump and not i.is_call and not i.is_exit:
            assert 0 <= i.jump_target(pc) < len(slots)
    text = xlated_text(xlated_listing(spec, x.program, call_names=x.call_names))
    assert "map[counts]" in text and "bpf_trace_printk" not in text


def test_a_rejected_program_is_left_as_it_is(compile_bpf):
    spec = load_object_file(compile_bpf("""
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
SEC("xdp")
int bad(struct xdp_md *ctx)
{
	return *(int *)(long)ctx->data;   /* no bounds check */
}
char LICENSE[] SEC("license") = "GPL";
""", name="bad"))
    prog = spec.program("bad")
    x = xlated(spec, prog)
    assert x.program is prog and x.notes
