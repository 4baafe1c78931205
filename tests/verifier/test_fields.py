"""Map value special fields (verifier/fields.py) that the corpus cannot reach.

kptrs are pointer members tagged ``btf_type_tag("kptr")``/``("kptr_untrusted")``; clang 14 (the
corpus compiler) drops type tags from BTF, so these programs are built with a clang >= 15 (a
clang-NN on PATH, else the ziglang package's: tests/bpfcc.py), and their verdicts compared with
the running kernel's.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bpfbuild.obj.loader import load_object_file
from bpfbuild.verifier import verify
from bpfbuild.verifier.api import map_infos
from bpfbuild.verifier.fields import FieldKind

_SOURCE = r"""
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct task_struct { int pid; };
struct task_struct used_so_btf_has_the_struct;   /* a pointee seen only through pointers is a FWD */

struct kval {
	__u64 hits;
	struct task_struct __attribute__((btf_type_tag("kptr"))) *owner;
	struct task_struct __attribute__((btf_type_tag("kptr_untrusted"))) *seen;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct kval);
} kptrs SEC(".maps");

#define GET struct kval *v; __u32 key = 0; v = bpf_map_lookup_elem(&kptrs, &key); if (!v) return 0

SEC("tc") int store_scalar(void *c) { GET; *(volatile __u64 *)&v->owner = bpf_get_prandom_u32(); return 0; }
SEC("tc") int narrow(void *c) { GET; return *(volatile __u32 *)&v->seen; }
SEC("tc") int misaligned(void *c) { GET; return *(volatile __u64 *)((char *)&v->owner + 4) != 0; }
SEC("tc") int xchg_untrusted(void *c) { GET; bpf_kptr_xchg(&v->seen, 0); return 0; }
SEC("tc") int xchg_not_kptr(void *c) { GET; bpf_kptr_xchg(&v->hits, 0); return 0; }
SEC("tc") int helper_value(void *c) { GET; bpf_map_update_elem(&kptrs, &key, v, BPF_ANY); return 0; }
SEC("tc") int st_zero(void *c) { GET; *(volatile __u64 *)&v->seen = 0; return 0; }
SEC("tc") int hits_only(void *c) { GET; v->hits++; return 0; }

char LICENSE[] SEC("license") = "GPL";
"""

@pytest.fixture(scope="module")
def kptr_object(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tests.bpfcc import Unavailable, find

    try:
        cc = find(min_major=15)       # BTF type tags: clang >= 15 (a clang-NN, else zig's)
    except Unavailable as exc:
        pytest.skip(str(exc))
    out = tmp_path_factory.mktemp("kptr")
    src = out / "kptr.bpf.c"
    src.write_text(_SOURCE)
    return cc.compile(src, out / "kptr.bpf.o")


def test_kptr_fields_are_found_in_the_value_type(kptr_object):
    spec = load_object_file(kptr_object)
    (info,) = [m for m in map_infos(spec.maps, spec.btf) if m.name == "kptrs"]
    fields = info.record.fields   # type: ignore[union-attr]
    assert [(f.kind, f.offset, f.pointee) for f in fields] == [
        (FieldKind.KPTR_REF, 8, "task_struct"), (FieldKind.KPTR_UNREF, 16, "task_struct")]


@pytest.mark.kernel
def test_kptr_rules_agree_with_the_kernel(kptr_object):
    from bpfbuild.kernel import verdict

    spec = load_object_file(kptr_object)
    rejected = 0
    for prog in spec.programs:
        ours = verify(spec, prog)
        kernel = verdict(kptr_object, prog.name, log_level=1)
        assert ours.verdict == ("accepted" if kernel.accepted else "rejected"), (prog.name, ours.errors)
        if not kernel.accepted:
            rejected += 1
            assert ours.errors[0].message == kernel.error_line, prog.name
    assert rejected >= 5
