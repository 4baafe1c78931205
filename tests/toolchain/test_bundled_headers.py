"""bpfbuild's own BPF-side headers (bpfbuild/include/bpf): every macro family of libbpf 1.5's headers
builds with them, and where libbpf's headers are installed the same program compiles to the same code.

The programs in data/headers/ are ours, one per macro family; data/headers/types.h stands in for
vmlinux.h.  Each is compiled the way ``doit`` compiles with no libbpf-dev: bpfbuild's include set
with ``bundled=True`` and a bpf_helper_defs.h generated from the compiler's linux/bpf.h, with every
compiler found here (the discovered one, and the ziglang package's clang).  Where libbpf's headers
are present (``/usr/include/bpf``, or the directory named by ``BPFBUILD_LIBBPF_INCLUDE``), the same
source is compiled against them and the objects are compared: the bytes of every allocated section
(code, maps, data, license), each code section's relocations (offset, type, symbol) and the CO-RE
relocations of .BTF.ext (instruction, root type name, access string, kind).  BTF type ids, line info
and DWARF are not compared.  A program is compared only with a libbpf at least as new as the one
whose macros it uses (older releases expanded some macros differently)."""

from __future__ import annotations

import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from bpfbuild.btf.ext import CoreReloKind, Ext
from bpfbuild.btf.spec import Spec
from bpfbuild.btf.types import DeclTag
from bpfbuild.isa.codec import decode, iter_insns
from bpfbuild.obj.elf import ElfImage, read_elf
from bpfbuild.tasks.headers import write_helper_defs
from bpfbuild.toolchain.discover import Compiler, include_set, package_include_dir
from bpfbuild.toolchain.flags import compile_argv
from tests.bpfcc import Unavailable, compiler_of_kind

DATA = Path(__file__).parent / "data" / "headers"
SHF_ALLOC = 0x2


@dataclass(frozen=True)
class Program:
    file: str
    libbpf: tuple[int, int]      # the oldest libbpf whose headers expand its macros as 1.5 does
    arch: str = "x86"            # -D__TARGET_ARCH_<arch>
    min_clang: int = 0


PROGRAMS = {p.file: p for p in [
    Program("tracing.bpf.c", (1, 1)),
    Program("helpers.bpf.c", (1, 1)),
    Program("core_match.bpf.c", (1, 1), min_clang=15),
    Program("core.bpf.c", (1, 5)),
    Program("modern.bpf.c", (1, 5)),
    Program("arm64.bpf.c", (1, 5), arch="arm64"),
]}


# --- compilers and include sets -------------------------------------------------------------

@dataclass(frozen=True)
class Toolchain:
    compiler: Compiler
    bundled: tuple[str, ...]     # include flags as doit passes them without libbpf-dev
    rest: tuple[str, ...]        # the same without bpfbuild's two directories
    major: int
    out: Path


def _major(compiler: Compiler) -> int:
    m = re.search(r"clang version (\d+)", compiler.version)
    return int(m.group(1)) if m else 0


def _toolchain(kind: str, tmp: Path) -> Toolchain:
    try:
        compiler = compiler_of_kind(kind, tmp)
    except Unavailable as exc:
        pytest.skip(str(exc))
    gen = tmp / "include"
    includes = include_set(compiler, gen, bundled=True)
    assert includes.libbpf == "bpfbuild"
    assert includes.uapi_header and os.path.exists(includes.uapi_header), includes
    assert write_helper_defs(includes.uapi_header, gen / "bpf" / "bpf_helper_defs.h") is None
    ours = {f"-I{gen}", f"-I{package_include_dir()}"}
    rest = tuple(f for f in includes.flags if f not in ours)
    return Toolchain(compiler, includes.flags, rest, _major(compiler), tmp)


@pytest.fixture(scope="module", params=["clang", "zig"])
def toolchain(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Toolchain:
    return _toolchain(request.param, tmp_path_factory.mktemp(request.param))


def _libbpf_dir() -> tuple[Path | None, str]:
    """libbpf's headers to compare with (the directory holding bpf/), or None and why not."""
    named = os.environ.get("BPFBUILD_LIBBPF_INCLUDE")
    root = Path(named) if named else Path("/usr/include")
    if not (root / "bpf" / "bpf_helpers.h").is_file():
        return None, (f"no bpf/bpf_helpers.h under BPFBUILD_LIBBPF_INCLUDE={named}" if named
                      else "libbpf's headers (libbpf-dev) are not installed")
    return root, ""


def _libbpf_version(root: Path) -> tuple[int, int]:
    path = root / "bpf" / "libbpf_version.h"
    text = path.read_text() if path.is_file() else ""
    major = re.search(r"LIBBPF_MAJOR_VERSION\s+(\d+)", text)
    minor = re.search(r"LIBBPF_MINOR_VERSION\s+(\d+)", text)
    return (int(major.group(1)), int(minor.group(1))) if major and minor else (0, 0)


_BUILT: dict[tuple[str, str, str], tuple[Path | None, str]] = {}


def _build(tc: Toolchain, prog: Program, flags: tuple[str, ...], tag: str) -> tuple[Path | None, str]:
    key = (str(tc.out), prog.file, tag)
    if key not in _BUILT:
        out = tc.out / f"{prog.file.removesuffix('.c')}.{tag}.o"
        argv = compile_argv(tc.compiler, DATA / prog.file, out, include_flags=flags, target_arch=prog.arch)
        res = subprocess.run(argv, capture_output=True, text=True, check=False, timeout=300)
        _BUILT[key] = (out if res.returncode == 0 else None, f"{' '.join(argv)}\n{res.stderr}")
    return _BUILT[key]


def bundled(tc: Toolchain, file: str) -> ElfImage:
    prog = PROGRAMS[file]
    if tc.major < prog.min_clang:
        pytest.skip(f"{file} needs clang >= {prog.min_clang} ({tc.compiler.version})")
    out, log = _build(tc, prog, tc.bundled, "bundled")
    assert out is not None, log
    return read_elf(out.read_bytes())


# --- what is compared -------------------------------------------------------------------------

def _core_relos(img: ElfImage) -> list[tuple[str, int, str, str, str]]:
    btf, ext = img.section(".BTF"), img.section(".BTF.ext")
    if btf is None or ext is None:
        return []
    spec = Spec.from_bytes(btf.data)
    parsed = Ext.from_bytes(ext.data, spec)
    return [(sec, r.insn_off, spec.name_of(r.type_id), r.access, r.kind.name)
            for sec, relos in parsed.core_relos.items() for r in relos]


def summary(img: ElfImage) -> dict[str, object]:
    """Allocated sections' bytes, code relocations by symbol name, CO-RE relocations."""
    names = {s.index: s.name for s in img.sections}
    sections = {s.name: (s.data if not s.nobits else s.size) for s in img.sections
                if s.flags & SHF_ALLOC and not s.name.startswith(".BTF")}
    relocs = {}
    for target, rows in img.relocations.items():
        if names[target] not in sections:
            continue
        out = []
        for r in rows:
            sym = img.symbols[r.symbol]
            out.append((r.offset, r.type, f"section {names.get(sym.shndx)}" if sym.type == "STT_SECTION"
                        else sym.name))
        relocs[names[target]] = out
    return {"sections": sections, "relocations": relocs, "co-re": _core_relos(img)}


def _differences(a: dict[str, object], b: dict[str, object]) -> list[str]:
    out = []
    for part in ("sections", "relocations"):
        pa, pb = a[part], b[part]
        assert isinstance(pa, dict) and isinstance(pb, dict)
        out += [f"{part}: {name}" for name in sorted(set(pa) | set(pb)) if pa.get(name) != pb.get(name)]
    if a["co-re"] != b["co-re"]:
        out.append("CO-RE relocations")
    return out


def helper_calls(img: ElfImage, section: str) -> list[int]:
    sec = img.section(section)
    assert sec is not None, f"no section {section}"
    return [insn.imm for _, insn in iter_insns(decode(sec.data)) if insn.opcode == 0x85 and insn.src == 0]


# --- every program builds with the bundled headers ------------------------------------------------

_SEC = re.compile(r'^SEC\("([^"]+)"\)\s*$', re.MULTILINE)


@pytest.mark.parametrize("file", sorted(PROGRAMS))
def test_builds_with_bundled_headers(toolchain: Toolchain, file: str) -> None:
    img = bundled(toolchain, file)
    wanted = set(_SEC.findall((DATA / file).read_text()))
    assert wanted and wanted <= {s.name for s in img.sections}


@pytest.mark.parametrize("file", sorted(PROGRAMS))
def test_same_code_as_libbpf_headers(toolchain: Toolchain, file: str) -> None:
    root, why = _libbpf_dir()
    if root is None:
        pytest.skip(why)
    prog = PROGRAMS[file]
    have = _libbpf_version(root)
    if have < prog.libbpf:
        pytest.skip(f"libbpf {have[0]}.{have[1]} under {root} expands {file}'s macros as older releases did "
                    f"(compared from libbpf {prog.libbpf[0]}.{prog.libbpf[1]})")
    ours = bundled(toolchain, file)
    out, log = _build(toolchain, prog, (f"-I{root}", *toolchain.rest), "libbpf")
    assert out is not None, log
    theirs = read_elf(out.read_bytes())
    assert _differences(summary(theirs), summary(ours)) == []


# --- what the macros mean, checked without libbpf ----------------------------------------------------

def test_core_macros_emit_every_relocation_kind(toolchain: Toolchain) -> None:
    relos = _core_relos(bundled(toolchain, "core.bpf.c"))
    kinds = {kind for *_, kind in relos}
    expected = {k.name for k in CoreReloKind} - {"TYPE_MATCHES"}
    assert expected <= kinds
    # the flavour keeps its suffix locally; the loader matches it against task_struct
    assert any(name == "task_struct___old" for _, _, name, _, _ in relos)
    if toolchain.major >= 15:
        matches = _core_relos(bundled(toolchain, "core_match.bpf.c"))
        assert {kind for *_, kind in matches} == {"TYPE_MATCHES"}


def test_read_chain_is_one_probe_read_per_hop(toolchain: Toolchain) -> None:
    img = bundled(toolchain, "core.bpf.c")
    # every member reached by a CO-RE read is relocated (task_struct members: start_time 6,
    # real_parent 7, group_leader 8, mm 9, cred 10, comm 11, children_pids 12; tgid 2), the
    # hops into other structs against their own type
    relos = {(r[2], r[3]) for r in _core_relos(img) if r[0] == "kprobe/wake_up_new_task"}
    assert relos >= {("task_struct", f"0:{i}") for i in (2, 6, 7, 8, 9, 10, 11)} | {
        ("task_struct", "0:12:2"), ("mm_struct", "0:1"), ("cred", "0:0")}
    calls = helper_calls(img, "kprobe/wake_up_new_task")
    assert calls.count(113) >= 10       # bpf_probe_read_kernel
    assert 115 in calls                 # bpf_probe_read_kernel_str (BPF_CORE_READ_STR_INTO)
    assert 112 in calls and 114 in calls  # bpf_probe_read_user and _user_str


def test_ksyscall_reads_the_user_registers(toolchain: Toolchain) -> None:
    img = bundled(toolchain, "tracing.bpf.c")
    relos = [r for r in _core_relos(img) if r[0] == "ksyscall/openat"]
    # x86-64 kernel pt_regs: di is member 14, si 13, dx 12 and the 4th syscall argument r10, member 7
    assert {(name, access) for _, _, name, access, _ in relos} >= {
        ("pt_regs", "0:14"), ("pt_regs", "0:13"), ("pt_regs", "0:12"), ("pt_regs", "0:7")}
    assert ("pt_regs", "0:11") not in {(r[2], r[3]) for r in relos}     # never rcx
    names = {img.symbols[r.symbol].name for rows in img.relocations.values() for r in rows}
    assert "LINUX_HAS_SYSCALL_WRAPPER" in names


def test_printk_picks_the_helper_by_argument_count(toolchain: Toolchain) -> None:
    calls = helper_calls(bundled(toolchain, "helpers.bpf.c"), "kprobe/printing")
    # 0, 1 and 3 arguments: bpf_trace_printk (6); 4 and 7: bpf_trace_vprintk (177); bpf_snprintf (165)
    assert calls == [6, 6, 6, 177, 177, 165]


def test_global_function_argument_tags_reach_btf(toolchain: Toolchain) -> None:
    img = bundled(toolchain, "modern.bpf.c")
    btf = img.section(".BTF")
    assert btf is not None
    spec = Spec.from_bytes(btf.data)
    tags = {t.name for t in spec.types() if isinstance(t, DeclTag)}
    assert {"arg:ctx", "arg:trusted", "arg:nonnull", "arg:nullable"} <= tags
    names = {s.name for s in img.symbols}
    assert {"bpf_iter_num_new", "bpf_iter_num_next", "bpf_iter_num_destroy", "bpf_task_from_pid"} <= names


# --- pt_regs of every architecture -----------------------------------------------------------

# (member read by PARM1..PARM5, RC, SP, IP, FP, the first and the fourth syscall argument,
#  the struct the registers are read from or None for the pt_regs passed in)
ARCH_REGS: dict[str, tuple[list[str], str | None]] = {
    "x86": (["di", "si", "dx", "cx", "r8", "ax", "sp", "ip", "bp", "di", "r10"], None),
    "x86-uapi": (["rdi", "rsi", "rdx", "rcx", "r8", "rax", "rsp", "rip", "rbp", "rdi", "r10"], None),
    "arm64": (["regs[0]", "regs[1]", "regs[2]", "regs[3]", "regs[4]", "regs[0]", "sp", "pc", "regs[29]",
               "orig_x0", "regs[3]"], "structuser_pt_regs"),
    "s390": (["gprs[2]", "gprs[3]", "gprs[4]", "gprs[5]", "gprs[6]", "gprs[2]", "gprs[15]", "psw.addr",
              "gprs[11]", "orig_gpr2", "gprs[5]"], "user_pt_regs"),
    "arm": (["uregs[0]", "uregs[1]", "uregs[2]", "uregs[3]", "__unsupported__", "uregs[0]", "uregs[13]",
             "uregs[12]", "uregs[11]", "uregs[0]", "uregs[3]"], None),
    "mips": (["regs[4]", "regs[5]", "regs[6]", "regs[7]", "regs[8]", "regs[2]", "regs[29]", "cp0_epc",
              "regs[30]", "regs[4]", "regs[7]"], None),
    "powerpc": (["gpr[3]", "gpr[4]", "gpr[5]", "gpr[6]", "gpr[7]", "gpr[3]", "sp", "nip", "__unsupported__",
                 "orig_gpr3", "gpr[6]"], None),
    "sparc": (["u_regs[UREG_I0]", "u_regs[UREG_I1]", "u_regs[UREG_I2]", "u_regs[UREG_I3]", "u_regs[UREG_I4]",
               "u_regs[UREG_I0]", "u_regs[UREG_FP]", "pc", "__unsupported__", "u_regs[UREG_I0]",
               "u_regs[UREG_I3]"], None),
    "riscv": (["a0", "a1", "a2", "a3", "a4", "a0", "sp", "pc", "s0", "orig_a0", "a3"], "structuser_regs_struct"),
    "arc": (["scratch.r0", "scratch.r1", "scratch.r2", "scratch.r3", "scratch.r4", "scratch.r0", "scratch.sp",
             "scratch.ret", "scratch.fp", "scratch.r0", "scratch.r3"], "structuser_regs_struct"),
    "loongarch": (["regs[4]", "regs[5]", "regs[6]", "regs[7]", "regs[8]", "regs[4]", "regs[3]", "csr_era",
                   "regs[22]", "regs[4]", "regs[7]"], "structuser_pt_regs"),
}
_MACROS = ["PT_REGS_PARM1", "PT_REGS_PARM2", "PT_REGS_PARM3", "PT_REGS_PARM4", "PT_REGS_PARM5", "PT_REGS_RC",
           "PT_REGS_SP", "PT_REGS_IP", "PT_REGS_FP", "PT_REGS_PARM1_SYSCALL", "PT_REGS_PARM4_SYSCALL"]
# where a syscall wrapper's own argument is not a pt_regs of the user's registers
_REGS_ARE_CTX = {"powerpc", "arc", "loongarch"}


def test_pt_regs_of_every_arch(toolchain: Toolchain) -> None:
    lines = [f"@{m} {m}(ctx)" for m in _MACROS] + ["@SYSREGS PT_REGS_SYSCALL_REGS(ctx)"]
    for arch, (members, cast) in ARCH_REGS.items():
        source = toolchain.out / f"regs-{arch}.c"
        vmlinux = "#define __VMLINUX_H__\n" if arch == "x86" else ""
        source.write_text(f"{vmlinux}#include <bpf/bpf_tracing.h>\n" + "\n".join(lines) + "\n")
        target = "x86" if arch == "x86-uapi" else arch
        argv = [*compile_argv(toolchain.compiler, source, "-", include_flags=toolchain.bundled,
                              target_arch=target)]
        argv[argv.index("-c")] = "-E"
        argv.remove("-o")
        argv.remove("-")
        res = subprocess.run(argv, capture_output=True, text=True, check=False, timeout=120)
        assert res.returncode == 0, res.stderr
        got = {}
        for line in res.stdout.splitlines():
            if line.startswith("@"):
                name, _, text = line[1:].partition(" ")
                got[name] = re.sub(r"\s+", "", text)
        for macro, member in zip(_MACROS, members):
            text = got[macro]
            assert text.endswith(f"->{member})"), (arch, macro, text)
            if cast and not (macro == "PT_REGS_PARM1_SYSCALL" and member.startswith("orig_")):
                assert f"(const{cast}*)" in text, (arch, macro, text)
        if arch in ("arm64", "s390", "riscv"):     # orig_x0 / orig_gpr2 / orig_a0: the kernel's pt_regs
            assert f"structpt_regs___{arch}" in got["PT_REGS_PARM1_SYSCALL"]
        if arch in _REGS_ARE_CTX:
            assert got["SYSREGS"] == "ctx", arch
        else:
            assert got["SYSREGS"].startswith("((structpt_regs*)"), (arch, got["SYSREGS"])


def test_register_macros_without_target_arch_fail_with_the_fix(toolchain: Toolchain) -> None:
    source = toolchain.out / "no-arch.bpf.c"
    source.write_text('#include "types.h"\n#include <bpf/bpf_helpers.h>\n#include <bpf/bpf_tracing.h>\n'
                      "long f(struct pt_regs *ctx) { return PT_REGS_PARM1(ctx); }\n")
    argv = compile_argv(toolchain.compiler, source, toolchain.out / "no-arch.o",
                        include_flags=(*toolchain.bundled, f"-I{DATA}"))
    res = subprocess.run(argv, capture_output=True, text=True, check=False, timeout=120)
    assert res.returncode != 0
    assert "Must specify a BPF target arch via __TARGET_ARCH_xxx" in res.stderr
