from __future__ import annotations

import platform
import re
import subprocess
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bpfbuild.abi.ctx import (
    RegKind,
    ReturnRange,
    ctx_layout,
    ctx_layouts,
    ctx_spec,
    ctx_specs,
    return_constants,
    return_range,
)
from bpfbuild.abi.progtypes import AttachType, ProgType

from .bpfsys import EXIT, Bpf, ldx, mov, stx
from .conftest import zig_include

# layouts that are not a C struct of their own (the tracepoint record is per event)
_NOT_C = {"trace_event_raw"}
# a flexible array in C: sizeof is 0, the verifier bounds it at MAX_BPF_FUNC_ARGS
_FLEXIBLE = {"bpf_raw_tracepoint_args"}


def test_layouts_are_consistent() -> None:
    for layout in ctx_layouts().values():
        names = [f.name for f in layout.fields]
        assert len(names) == len(set(names)), layout.name
        end = 0
        for f in layout.fields:
            assert f.offset >= end, (layout.name, f.name, "overlaps the field before")
            assert f.size > 0
            end = f.end
        assert end <= layout.size, layout.name
        assert sum(f.size for f in layout.fields) <= layout.size


def test_specs_refer_to_their_layout() -> None:
    for spec in ctx_specs():
        names = {f.name for f in spec.layout.fields}
        seen = set()
        for fa in spec.fields:
            assert fa.field in names, (spec.name, fa.field)
            assert fa.field not in seen, (spec.name, fa.field)
            seen.add(fa.field)
            for access in (fa.read, fa.write):
                if access is not None:
                    assert access.sizes | access.at_start <= {1, 2, 4, 8}
            if fa.reg is not RegKind.SCALAR_VALUE:
                assert fa.read is not None and fa.write is None, (spec.name, fa.field)


def test_exact_kernel_sizes() -> None:
    sizes = {name: layout.size for name, layout in ctx_layouts().items()}
    assert sizes["__sk_buff"] == 192
    assert sizes["xdp_md"] == 24
    assert sizes["pt_regs"] == 168
    assert sizes["bpf_perf_event_data"] == 184
    assert sizes["bpf_sock_addr"] == 72
    assert sizes["bpf_sock"] == 80
    assert sizes["bpf_sockopt"] == 40


def test_what_loads_become() -> None:
    tc = ctx_spec(ProgType.SCHED_CLS)
    xdp = ctx_spec(ProgType.XDP)
    sf = ctx_spec(ProgType.SOCKET_FILTER)
    assert tc and xdp and sf
    skb = tc.layout
    assert tc.load_kind(skb.field("data").offset, 4) is RegKind.PTR_TO_PACKET
    assert tc.load_kind(skb.field("data_end").offset, 4) is RegKind.PTR_TO_PACKET_END
    assert tc.load_kind(skb.field("data_meta").offset, 4) is RegKind.PTR_TO_PACKET_META
    assert tc.load_kind(skb.field("data").offset, 2) is None  # no narrow loads of pointers
    assert tc.load_kind(skb.field("mark").offset + 2, 2) is RegKind.SCALAR_VALUE
    assert tc.check(skb.field("mark").offset, 4, write=True) is not None
    assert tc.check(skb.field("mark").offset, 2, write=True) is None
    assert sf.load_kind(skb.field("data").offset, 4) is None
    assert sf.check(skb.field("cb").offset + 8, 8, write=True) is not None
    assert sf.check(skb.field("mark").offset, 4, write=True) is None
    assert xdp.load_kind(0, 4) is RegKind.PTR_TO_PACKET and xdp.load_kind(8, 4) is RegKind.PTR_TO_PACKET_META
    assert xdp.load_kind(20, 4) is None  # egress_ifindex: devmap programs only
    devmap = ctx_spec(ProgType.XDP, AttachType.XDP_DEVMAP)
    assert devmap and devmap.load_kind(20, 4) is RegKind.SCALAR_VALUE
    tp = ctx_spec(ProgType.TRACEPOINT)
    assert tp and tp.check(0, 8) is None and tp.check(8, 8) is not None and tp.check(8, 8, write=True) is None
    kprobe = ctx_spec(ProgType.KPROBE)
    assert kprobe and kprobe.check(4, 4) is not None and kprobe.check(164, 8) is None
    assert ctx_spec(ProgType.LSM) is None


def test_return_values() -> None:
    assert return_range(ProgType.XDP) is None
    assert return_range(ProgType.CGROUP_SKB, AttachType.CGROUP_INET_INGRESS) == ReturnRange(0, 1)
    assert return_range(ProgType.CGROUP_SKB, AttachType.CGROUP_INET_EGRESS) == ReturnRange(0, 3)
    assert return_range(ProgType.CGROUP_SOCK_ADDR, AttachType.CGROUP_UDP4_RECVMSG) == ReturnRange(1, 1)
    assert 2 in ReturnRange(0, 3) and 4 not in ReturnRange(0, 3) and "x" not in ReturnRange(0, 3)
    assert return_constants(ProgType.XDP)["XDP_PASS"] == 2
    assert return_constants(ProgType.SCHED_CLS)["TC_ACT_SHOT"] == 2
    assert return_constants(ProgType.SK_SKB)["SK_PASS"] == 1
    assert return_constants(ProgType.PERF_EVENT) == {}


def _offset_checks(layout_names: list[str], header_text: str | None = None) -> str:
    """``header_text``: the installed linux/bpf.h; a member it does not name is newer than those
    headers (bpf_sock_ops.skb_hwtstamp), so neither it nor its struct's size is asserted."""
    lines = ["#include <linux/bpf.h>", "#include <linux/bpf_perf_event.h>", "#include <asm/ptrace.h>"]
    for name in layout_names:
        layout = ctx_layout(name)
        struct = "struct " + layout.name
        newer = {f.name for f in layout.fields
                 if header_text is not None and name.startswith(("bpf_", "sk_")) and f.name not in header_text}
        if name not in _FLEXIBLE and not newer:
            lines.append(f'_Static_assert(sizeof({struct}) == {layout.size}, "sizeof {name}");')
        for f in layout.fields:
            if f.ctype == "padding" or f.name in newer:   # padding is unnamed in C
                continue
            where = f"{name}.{f.name}"
            lines.append(f'_Static_assert(__builtin_offsetof({struct}, {f.name}) == {f.offset}, '
                         f'"offset {where}");')
            lines.append(f'_Static_assert(sizeof((({struct} *)0)->{f.name}) == {f.size}, "size {where}");')
    return "\n".join(lines) + "\n"


def _include_sets() -> dict[str, list[str]]:
    sets: dict[str, list[str]] = {}
    multiarch = Path(f"/usr/include/{platform.machine()}-linux-gnu")
    if Path("/usr/include/linux/bpf.h").is_file() and multiarch.is_dir():
        sets["system"] = ["-I", str(multiarch), "-idirafter", "/usr/include"]   # zig cc searches no /usr/include
    zig = zig_include()
    if zig is not None and platform.machine() == "x86_64":
        sets["ziglang"] = ["-nostdinc", "-I", str(zig.parent / "x86-linux-any"), "-I", str(zig)]
    return sets


@pytest.mark.parametrize("headers", sorted(_include_sets()) or ["none"])
def test_offsets_match_the_c_headers(clang: tuple[str, ...], headers: str, tmp_path: Path) -> None:
    """Compile a C file asserting every field's offset and size (x86-64 pt_regs)."""
    sets = _include_sets()
    if headers not in sets:
        pytest.skip("no linux/bpf.h with x86-64 asm headers here")
    if platform.machine() != "x86_64":
        pytest.skip("the pt_regs layout tabulated is x86-64's")
    names = [n for n in ctx_layouts() if n not in _NOT_C]
    source = tmp_path / "offsets.c"
    header = next((Path(sets[headers][i + 1]) / "linux" / "bpf.h" for i, a in enumerate(sets[headers][:-1])
                   if a == "-I" and (Path(sets[headers][i + 1]) / "linux" / "bpf.h").is_file()),
                  Path("/usr/include/linux/bpf.h"))
    source.write_text(_offset_checks(names, header.read_text() if header.is_file() else None))
    # compiled (no code: only assertions), not -fsyntax-only, which zig cc would link after
    proc = subprocess.run([*clang, *sets[headers], "-c", str(source), "-o", str(tmp_path / "offsets.o")],
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]


def _scan_offsets(spec_name: str, size: int) -> range | list[int]:
    if spec_name == "tracepoint":  # the record is 8 KiB: its edges and start are what matter
        return [*range(64), 8184, 8188, 8190, 8191, 8192, 8200]
    return range(size + 8)


@pytest.mark.kernel
def test_access_rules_match_the_kernel(bpf: Bpf) -> None:
    """Every load and store of 1/2/4/8 bytes at every offset, for every spec and each of its
    attach types: the verifier accepts exactly what the table allows, and a load gives the
    register type the table names."""
    wrong: list[tuple[object, ...]] = []
    tried = 0
    for spec in ctx_specs():
        for attach in spec.attach_types or (None,):
            at = 0 if attach is None else int(attach)
            pt = int(spec.prog_type)
            if not bpf.loads(pt, at):
                continue
            tried += 1
            for off in _scan_offsets(spec.name, spec.layout.size):
                for size in (1, 2, 4, 8):
                    read = bpf.load(pt, [ldx(size, 0, 1, off), mov(0, 1), EXIT], at).ok
                    if read != (spec.check(off, size) is not None):
                        wrong.append((spec.name, at, "load", off, size, read))
                    write = bpf.load(pt, [mov(2, 0), stx(size, 1, 2, off), mov(0, 1), EXIT], at).ok
                    if write != (spec.check(off, size, write=True) is not None):
                        wrong.append((spec.name, at, "store", off, size, write))
                    kind = spec.load_kind(off, size)
                    if read and kind is not None and kind is not RegKind.SCALAR_VALUE:
                        log = bpf.load(pt, [ldx(size, 2, 1, off), mov(0, 1), EXIT], at, log_level=2).log
                        m = re.search(r"R2(?:_w)?=(\w+)", log.split("r2 = ")[-1])
                        if m is None or m.group(1) != kind.log_name:
                            wrong.append((spec.name, at, "type", off, size, m and m.group(1)))
    assert tried >= 20
    assert not wrong


_RETURN_CASES = [
    (ProgType.SOCKET_FILTER, None), (ProgType.KPROBE, None), (ProgType.KPROBE, AttachType.TRACE_KPROBE_SESSION),
    (ProgType.SCHED_CLS, None), (ProgType.XDP, AttachType.XDP), (ProgType.TRACEPOINT, None),
    (ProgType.PERF_EVENT, None), (ProgType.CGROUP_SKB, AttachType.CGROUP_INET_INGRESS),
    (ProgType.CGROUP_SKB, AttachType.CGROUP_INET_EGRESS), (ProgType.CGROUP_SOCK, AttachType.CGROUP_INET_SOCK_CREATE),
    (ProgType.SOCK_OPS, AttachType.CGROUP_SOCK_OPS), (ProgType.SK_SKB, AttachType.SK_SKB_STREAM_VERDICT),
    (ProgType.CGROUP_DEVICE, AttachType.CGROUP_DEVICE), (ProgType.SK_MSG, AttachType.SK_MSG_VERDICT),
    (ProgType.RAW_TRACEPOINT, None), (ProgType.CGROUP_SOCK_ADDR, AttachType.CGROUP_INET4_CONNECT),
    (ProgType.CGROUP_SOCK_ADDR, AttachType.CGROUP_INET6_BIND),
    (ProgType.CGROUP_SOCK_ADDR, AttachType.CGROUP_UDP6_RECVMSG),
    (ProgType.CGROUP_SOCK_ADDR, AttachType.CGROUP_UNIX_GETSOCKNAME),
    (ProgType.LWT_IN, None), (ProgType.FLOW_DISSECTOR, AttachType.FLOW_DISSECTOR),
    (ProgType.CGROUP_SYSCTL, AttachType.CGROUP_SYSCTL), (ProgType.CGROUP_SOCKOPT, AttachType.CGROUP_SETSOCKOPT),
    (ProgType.SK_LOOKUP, AttachType.SK_LOOKUP), (ProgType.NETFILTER, AttachType.NETFILTER),
    (ProgType.SK_REUSEPORT, AttachType.SK_REUSEPORT_SELECT),
]


@pytest.mark.kernel
def test_return_ranges_match_the_kernel(bpf: Bpf) -> None:
    wrong = []
    for prog_type, attach in _RETURN_CASES:
        at = 0 if attach is None else int(attach)
        rng = return_range(prog_type, attach)
        for value in (-1, 0, 1, 2, 3, 4, 100):
            ok = bpf.load(int(prog_type), [mov(0, value), EXIT], at).ok
            if ok != (rng is None or value in rng):
                wrong.append((prog_type.name, attach and attach.name, value, ok))
    assert not wrong


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(ctx_specs()), st.integers(-16, 9000), st.sampled_from([0, 1, 2, 3, 4, 8, 16]),
       st.booleans())
def test_check_is_total(spec: object, offset: int, size: int, write: bool) -> None:
    from bpfbuild.abi.ctx import CtxSpec

    assert isinstance(spec, CtxSpec)
    fa = spec.check(offset, size, write)
    if fa is None:
        assert write or spec.load_kind(offset, size) is None
        return
    field = spec.layout.field(fa.field)
    assert offset % size == 0
    assert field.offset <= offset < field.offset + max(field.size, size)
