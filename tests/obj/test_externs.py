"""Externs resolved against a target, offline: the .kconfig map libbpf would create (layout and
bytes), the instructions that read externs, kfunc calls, __weak defaults and libbpf's errors."""

from __future__ import annotations

import json
import os
import struct

import pytest

from bpfbuild.abi.maptypes import MapFlag, MapType
from bpfbuild.abi.target import Target
from bpfbuild.cli import main as cli_main
from bpfbuild.errors import ObjectError
from bpfbuild.isa.fields import PseudoCall, PseudoLoad
from bpfbuild.isa.instruction import LD_IMM64_OPCODE
from bpfbuild.obj.loader import load_object_file
from bpfbuild.obj.spec import ExternKind

KCONFIG = {
    "CONFIG_BPF_SYSCALL": "y",
    "CONFIG_BTRFS_FS": "m",
    "CONFIG_HZ": "1000",
    "CONFIG_LOG_BUF_SHIFT": "0x12",
    "CONFIG_DEFAULT_HOSTNAME": '"a-very-long-hostname"',
    "CONFIG_BPF_JIT": "y",
    "CONFIG_KPROBES": "y",
    "CONFIG_ARCH_HAS_SYSCALL_WRAPPER": "y",
}


def _target(tmp_path, kconfig=KCONFIG, version="5.15.300", **extra) -> Target:
    path = tmp_path / "target.json"
    path.write_text(json.dumps({"release": f"{version}-test", "version": version, "arch": "x86",
                                "kconfig": kconfig, "btf": None, "probed_by": "a future key", **extra}))
    return Target.from_file(path)


@pytest.fixture(scope="module")
def externs_obj(compile_bpf):
    return compile_bpf("externs.bpf.c")


def test_kconfig_map_layout_and_values_follow_libbpf(externs_obj, tmp_path):
    spec = load_object_file(externs_obj, target=_target(tmp_path))
    kmap = spec.map("externs.kconfig")
    assert (kmap.type, kmap.key_size, kmap.max_entries) == (MapType.ARRAY, 4, 1)
    assert kmap.flags == MapFlag.RDONLY_PROG | MapFlag.MMAPABLE and kmap.readonly
    assert [m.name for m in spec.maps] == ["externs.bss", "externs.kconfig"]   # after the data maps
    kcfg = [e for e in spec.externs if e.kind is ExternKind.KCONFIG]
    # largest alignment first, then smallest size, then name (strcmp: 'B' < '_')
    assert [(e.name, e.offset) for e in kcfg] == [
        ("CONFIG_LOG_BUF_SHIFT", 0), ("CONFIG_BTRFS_FS", 8), ("CONFIG_HZ", 12), ("LINUX_KERNEL_VERSION", 16),
        ("LINUX_SOMETHING_NEW", 20), ("CONFIG_BPFBUILD_NOT_A_REAL_OPTION", 24), ("CONFIG_BPF_JIT", 25),
        ("CONFIG_BPF_SYSCALL", 26), ("LINUX_HAS_BPF_COOKIE", 27), ("LINUX_HAS_SYSCALL_WRAPPER", 28),
        ("CONFIG_DEFAULT_HOSTNAME", 29)]
    data = kmap.initial
    assert kmap.value_size == len(data) == 37
    assert struct.unpack_from("<Q", data, 0)[0] == 0x12
    assert struct.unpack_from("<IiII", data, 8) == (2, 1000, (5 << 16) + (15 << 8) + 255, 0)   # m, HZ, saturated
    assert data[24:29] == bytes([0, ord("y"), 1, 1, 1])   # weak default, char 'y', bool y, cookie, wrapper
    assert data[29:37] == b"a-very-\0"                     # truncated to fit, NUL-terminated
    by = {e.name: e for e in spec.externs}
    assert by["CONFIG_BTRFS_FS"].value_text == "m"
    assert by["CONFIG_BPFBUILD_NOT_A_REAL_OPTION"].source.startswith("__weak default")
    assert by["LINUX_SOMETHING_NEW"].source.startswith("__weak default")
    assert by["LINUX_HAS_BPF_COOKIE"].value == 1 and "5.15" in by["LINUX_HAS_BPF_COOKIE"].source
    assert by["CONFIG_HZ"].source == str(tmp_path / "target.json")


def test_extern_reads_become_kconfig_map_loads_and_kfunc_calls(externs_obj, tmp_path):
    spec = load_object_file(externs_obj, target=_target(tmp_path))
    prog = spec.program("read_externs")
    kidx = [m.name for m in spec.maps].index("externs.kconfig")
    loads = [i for i in prog.insns if i.opcode == LD_IMM64_OPCODE and i.src == PseudoLoad.MAP_VALUE and i.imm == kidx]
    offsets = {e.name: e.offset for e in spec.externs if e.kind is ExternKind.KCONFIG}
    assert sorted({i.imm_hi for i in loads}) == sorted(set(offsets.values()))
    # no BTF and no kallsyms in this target: kfuncs and the untyped ksym stay unresolved, not fatal
    assert [n for _, n in prog.kfunc_calls] == ["bpf_task_from_pid", "bpf_task_release"]
    for pc, _ in prog.kfunc_calls:
        insn = prog.insns[[p for p, _ in _pcs(prog)].index(pc)]
        assert (insn.src, insn.imm, insn.off) == (PseudoCall.KFUNC, 0, 0)
    ksym = spec.extern("bpf_prog_put")
    assert ksym.value == 0 and "unresolved" in ksym.source and not ksym.resolved


def _pcs(prog):
    pc = 0
    for insn in prog.insns:
        yield pc, insn
        pc += insn.slots


def test_kernel_version_and_wrapper_come_from_the_target(externs_obj, tmp_path):
    no_kprobes = {k: v for k, v in KCONFIG.items() if k != "CONFIG_KPROBES"}
    spec = load_object_file(externs_obj, target=_target(tmp_path, no_kprobes, version="4.19.1"))
    by = {e.name: e for e in spec.externs}
    assert by["LINUX_KERNEL_VERSION"].value == (4 << 16) + (19 << 8) + 1
    assert by["LINUX_HAS_SYSCALL_WRAPPER"].value == 0 and "CONFIG_KPROBES" in by["LINUX_HAS_SYSCALL_WRAPPER"].source
    assert by["LINUX_HAS_BPF_COOKIE"].value == 0    # bpf_get_attach_cookie is 5.15's


def test_default_target_gives_weak_zeros_and_says_so(externs_obj):
    spec = load_object_file(externs_obj, target=Target.default())
    by = {e.name: e for e in spec.externs}
    assert by["CONFIG_HZ"].value == 0 and "no Kconfig" in by["CONFIG_HZ"].source
    assert by["CONFIG_BPF_SYSCALL"].source.startswith("unresolved")   # strong, but nothing to ask
    assert by["LINUX_KERNEL_VERSION"].value == Target.default().version_code
    assert spec.target.startswith("default")


STRONG_MISSING = """
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
extern int CONFIG_BPFBUILD_MISSING __kconfig;
int out;
SEC("xdp") int prog(void *ctx) { out = CONFIG_BPFBUILD_MISSING; return 2; }
char LICENSE[] SEC("license") = "GPL";
"""

BAD_BOOL = """
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
extern _Bool CONFIG_BTRFS_FS __kconfig;
int out;
SEC("xdp") int prog(void *ctx) { out = CONFIG_BTRFS_FS; return 2; }
char LICENSE[] SEC("license") = "GPL";
"""

SMALL_INT = """
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
extern short CONFIG_HZ __kconfig;
int out;
SEC("xdp") int prog(void *ctx) { out = CONFIG_HZ; return 2; }
char LICENSE[] SEC("license") = "GPL";
"""


UNKNOWN_LINUX = """
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
extern int LINUX_FUTURE_THING __kconfig;
int out;
SEC("xdp") int prog(void *ctx) { out = LINUX_FUTURE_THING; return 2; }
char LICENSE[] SEC("license") = "GPL";
"""


def test_libbpf_errors(compile_bpf, tmp_path):
    target = _target(tmp_path, {**KCONFIG, "CONFIG_HZ": "100000"})
    with pytest.raises(ObjectError, match=r"extern 'CONFIG_BPFBUILD_MISSING' \(strong\): not resolved"):
        load_object_file(compile_bpf(STRONG_MISSING, name="strong"), target=target)
    with pytest.raises(ObjectError, match=r"'CONFIG_BTRFS_FS': value 'm' implies tristate or char type"):
        load_object_file(compile_bpf(BAD_BOOL, name="badbool"), target=target)
    with pytest.raises(ObjectError, match=r"value '100000' doesn't fit in 2 bytes"):
        load_object_file(compile_bpf(SMALL_INT, name="smallint"), target=target)
    with pytest.raises(ObjectError, match=r"'LINUX_FUTURE_THING': unrecognized virtual extern"):
        load_object_file(compile_bpf(UNKNOWN_LINUX, name="linux"), target=_target(tmp_path))


def test_show_lists_every_extern_with_value_and_source(externs_obj, tmp_path, capsys):
    path = tmp_path / "t.json"
    path.write_text(json.dumps({"version": "6.6.1", "arch": "x86", "kconfig": KCONFIG}))
    assert cli_main(["show", str(externs_obj), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    names = [e["name"] for e in data["externs"]]
    assert "bpf_task_from_pid" in names and "CONFIG_DEFAULT_HOSTNAME" in names
    assert cli_main(["show", str(externs_obj)]) == 0
    text = capsys.readouterr().out
    assert "externs (" in text
    line = next(ln for ln in text.splitlines() if "bpf_task_from_pid" in ln)
    assert "kfunc" in line


def test_typed_ksym_is_a_btf_id_load(compile_bpf):
    if not os.access("/sys/kernel/btf/vmlinux", os.R_OK):
        pytest.skip("no kernel BTF to resolve the typed __ksym against")
    target = Target.running()
    spec = load_object_file(compile_bpf("typed_ksym.bpf.c"), target=target)
    ext = spec.extern("runqueues")
    assert ext.typed and ext.resolved and ext.source == "target BTF"
    assert target.btf.type(ext.target_btf_id).name == "runqueues"
    loads = [i for i in spec.program("this_rq").insns if i.opcode == LD_IMM64_OPCODE and i.src == PseudoLoad.BTF_ID]
    assert [(i.imm, i.imm_hi) for i in loads] == [(ext.target_btf_id, 0)]


MODULE_USER = """
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
extern int bpf_mod_kfunc(int x) __ksym;
int out;
SEC("tc") int prog(void *ctx) { out = bpf_mod_kfunc(1); return 0; }
char LICENSE[] SEC("license") = "GPL";
"""


def _split_btf(base, int_id: int) -> bytes:
    """A module's split BTF: FUNC_PROTO int(int) and FUNC bpf_mod_kfunc, ids after the base's."""
    first = len(base)
    strings = b"\0bpf_mod_kfunc\0"
    name_off = base._strings.total_len + 1
    types = struct.pack("<IIIII", 0, (13 << 24) | 1, int_id, 0, int_id)          # FUNC_PROTO, one param
    types += struct.pack("<III", name_off, (12 << 24) | 1, first)                 # FUNC, global
    header = struct.pack("<HBBIIIII", 0xEB9F, 1, 0, 24, 0, len(types), len(types), len(strings))
    return header + types + strings


def test_kfunc_in_a_module_btf_names_its_fd_index(compile_bpf, tmp_path):
    from bpfbuild.abi.target import Kconfig
    from bpfbuild.btf.spec import Spec
    from bpfbuild.obj.elf import read_elf

    kernel = compile_bpf("int kernel_int;\n", name="kernelint")
    (tmp_path / "vmlinux").write_bytes(read_elf(kernel.read_bytes()).section(".BTF").data)
    base = Spec.from_file(tmp_path / "vmlinux")
    (tmp_path / "mymod").write_bytes(_split_btf(base, base.find("int")[0]))
    target = Target("modules", None, (6, 1, 0), "x86", Kconfig({}), str(tmp_path / "vmlinux"), None, str(tmp_path))
    spec = load_object_file(compile_bpf(MODULE_USER, name="moduser"), target=target)
    ext = spec.extern("bpf_mod_kfunc")
    assert (ext.btf_module, ext.btf_fd_index, ext.target_btf_id) == ("mymod", 1, len(base) + 1)
    call = next(i for i in spec.programs[0].insns if i.src == PseudoCall.KFUNC)
    assert (call.imm, call.off) == (len(base) + 1, 1)


def test_unresolved_weak_kfunc_is_call_zero_and_address_zero(compile_bpf):
    if not os.access("/sys/kernel/btf/vmlinux", os.R_OK):
        pytest.skip("no kernel BTF to resolve kfuncs against")
    spec = load_object_file(compile_bpf("weak_kfunc.bpf.c"), target=Target.running())
    missing, present = spec.extern("bpf_bpfbuild_no_such_kfunc"), spec.extern("bpf_task_from_pid")
    assert not missing.resolved and missing.source.startswith("__weak default")
    insns = spec.programs[0].insns
    addrs = [i for i in insns if i.opcode == LD_IMM64_OPCODE and i.src in (0, PseudoLoad.BTF_ID)]
    assert [(i.src, i.imm) for i in addrs] == [(0, 0), (PseudoLoad.BTF_ID, present.target_btf_id)]
    calls = [(i.imm, i.off) for i in insns if i.opcode == 0x85 and i.src == PseudoCall.KFUNC]
    assert calls[0] == (0, 0) and calls[1] == (present.target_btf_id, 0)
