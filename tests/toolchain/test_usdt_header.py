"""bpfbuild's own <bpf/usdt.bpf.h>: a USDT program builds with the bundled header set, and the two
maps and specs libbpf's user space fills (bpf_program__attach_usdt) have libbpf's exact layout.

Compiled with the compiler bpfbuild discovers (clang, else the ziglang package's clang); where
libbpf's own usdt.bpf.h is installed the same program is compiled with it too and compared."""

import os
import subprocess
from pathlib import Path

import pytest

from bpfbuild.btf.types import Enum, Struct
from bpfbuild.errors import ToolchainError
from bpfbuild.obj.loader import load_object_file
from bpfbuild.obj.spec import ObjectSpec
from bpfbuild.tasks.headers import write_helper_defs
from bpfbuild.toolchain.discover import Compiler, discover, include_set, package_include_dir
from bpfbuild.toolchain.flags import compile_argv

SYSTEM_USDT = "/usr/include/bpf/usdt.bpf.h"
ARCH = {"x86_64": "x86", "aarch64": "arm64"}.get(os.uname().machine)

# Headers only from the UAPI set (no vmlinux.h): struct pt_regs from <linux/ptrace.h>, and `bool`,
# which the arg spec uses, from <stdbool.h> (vmlinux.h has it as a typedef).
PROGRAM = r"""
#include <linux/types.h>
#include <linux/bpf.h>
#include <linux/ptrace.h>
#include <stdbool.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/usdt.bpf.h>

long total = 0;
long count = 0;
long cookie = 0;
long last12 = 0;

SEC("usdt")
int BPF_USDT(on_two, long id, int size)
{
	total += size;
	count = bpf_usdt_arg_cnt(ctx);
	cookie = bpf_usdt_cookie(ctx);
	return id == 0;
}

SEC("usdt/./app:myapp:none")
int BPF_USDT(on_none)
{
	long v;

	return bpf_usdt_arg(ctx, 0, &v);
}

SEC("usdt")
int BPF_USDT(on_twelve, long a1, long a2, long a3, long a4, long a5, long a6, long a7, long a8,
	     long a9, long a10, long a11, long a12)
{
	last12 = a1 + a12;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
"""

# What libbpf's usdt.c writes: (name, map type, key size, value size, max_entries).
LIBBPF_MAPS = {
    "__bpf_usdt_specs": ("ARRAY", 4, 208, 256),
    "__bpf_usdt_ip_to_spec_id": ("HASH", 8, 4, 1024),
}
# (member, byte offset, size) and the struct's size.
ARG_SPEC = ([("val_off", 0, 8), ("arg_type", 8, 4), ("reg_off", 12, 2), ("arg_signed", 14, 1),
             ("arg_bitshift", 15, 1)], 16)
SPEC = ([("args", 0, 192), ("usdt_cookie", 192, 8), ("arg_cnt", 200, 2)], 208)


@pytest.fixture(scope="module")
def compiler(tmp_path_factory: pytest.TempPathFactory) -> Compiler:
    if ARCH is None:
        pytest.skip(f"bpf_tracing.h has no pt_regs for {os.uname().machine}")
    try:
        return discover(cache_file=tmp_path_factory.mktemp("tc") / "toolchain.json")
    except ToolchainError as exc:
        pytest.skip(str(exc))


def _compile(compiler: Compiler, out: Path, *, bundled: bool, defines=()) -> ObjectSpec:
    """PROGRAM built as `doit` builds it: the include set, then (bundled) a generated helper header."""
    out.mkdir(parents=True, exist_ok=True)
    gen = out / "include"
    includes = include_set(compiler, gen, bundled=bundled, min_libbpf=(0, 0))   # libbpf's own, of any release
    if bundled:
        assert includes.libbpf == "bpfbuild"
        assert includes.uapi_header and os.path.exists(includes.uapi_header)
        assert write_helper_defs(includes.uapi_header, gen / "bpf" / "bpf_helper_defs.h") is None
    elif includes.libbpf != "system" or not os.path.exists(SYSTEM_USDT):
        pytest.skip("libbpf's headers (libbpf-dev) are not installed")
    src = out / "usdt_demo.bpf.c"
    src.write_text(PROGRAM)
    obj = out / "usdt_demo.bpf.o"
    argv = compile_argv(compiler, src, obj, include_flags=includes.flags, target_arch=ARCH, defines=defines,
                        depfile=out / "usdt_demo.d")
    res = subprocess.run(argv, capture_output=True, text=True, check=False)
    assert res.returncode == 0, f"{' '.join(argv)}\n{res.stderr}"
    deps = (out / "usdt_demo.d").read_text()
    expected_dir = str(package_include_dir() / "bpf") if bundled else "/usr/include/bpf"
    assert f"{expected_dir}/usdt.bpf.h" in deps
    return load_object_file(obj)


def _maps(obj: ObjectSpec) -> dict[str, tuple[str, int, int, int]]:
    return {m.name: (m.type.name, m.key_size, m.value_size, m.max_entries)
            for m in obj.maps if m.name.startswith("__bpf_usdt")}


def _layout(obj: ObjectSpec, name: str) -> tuple[list[tuple[str, int, int]], int]:
    btf = obj.btf
    assert btf is not None
    t = btf.type(btf.find_one(name, Struct))
    assert isinstance(t, Struct)
    return [(m.name, m.byte_offset, btf.size_of(m.type)) for m in t.members], t.size


def _enum(obj: ObjectSpec) -> list[tuple[str, int]]:
    btf = obj.btf
    assert btf is not None
    t = btf.type(btf.find_one("__bpf_usdt_arg_type", Enum))
    return [(v.name, v.value) for v in t.values]


@pytest.fixture(scope="module")
def bundled_obj(compiler: Compiler, tmp_path_factory: pytest.TempPathFactory) -> ObjectSpec:
    return _compile(compiler, tmp_path_factory.mktemp("bundled"), bundled=True)


def test_bundled_header_builds_usdt_programs(bundled_obj):
    sections = {p.name: p.section for p in bundled_obj.programs}
    assert sections == {"on_two": "usdt", "on_none": "usdt/./app:myapp:none", "on_twelve": "usdt"}
    assert bundled_obj.program("on_two").section_info is not None


def test_bundled_maps_have_libbpfs_layout(bundled_obj):
    assert _maps(bundled_obj) == LIBBPF_MAPS
    assert _layout(bundled_obj, "__bpf_usdt_arg_spec") == ARG_SPEC
    assert _layout(bundled_obj, "__bpf_usdt_spec") == SPEC
    assert _enum(bundled_obj) == [("BPF_USDT_ARG_CONST", 0), ("BPF_USDT_ARG_REG", 1), ("BPF_USDT_ARG_REG_DEREF", 2)]


def test_helpers_are_weak_hidden_functions_and_the_cookie_flag_a_kconfig(bundled_obj):
    # libbpf marks __hidden globals static for the verifier; the loader model records them
    assert {"bpf_usdt_arg", "bpf_usdt_arg_cnt", "bpf_usdt_cookie"} <= bundled_obj.hidden_funcs
    kconfig = [v.name for m in bundled_obj.maps if m.section == ".kconfig" for v in m.variables]
    assert kconfig == ["LINUX_HAS_BPF_COOKIE"]


def test_map_sizes_can_be_overridden(compiler, tmp_path):
    obj = _compile(compiler, tmp_path, bundled=True, defines=[("BPF_USDT_MAX_SPEC_CNT", "16")])
    assert _maps(obj) == {"__bpf_usdt_specs": ("ARRAY", 4, 208, 16),
                          "__bpf_usdt_ip_to_spec_id": ("HASH", 8, 4, 64)}
    obj = _compile(compiler, tmp_path / "ip", bundled=True, defines=[("BPF_USDT_MAX_IP_CNT", "1")])
    assert _maps(obj)["__bpf_usdt_ip_to_spec_id"] == ("HASH", 8, 4, 1)


@pytest.mark.skipif(not os.path.exists(SYSTEM_USDT), reason="libbpf's usdt.bpf.h (libbpf-dev) is not installed")
def test_same_maps_and_structs_as_libbpfs_header(compiler, bundled_obj, tmp_path):
    theirs = _compile(compiler, tmp_path, bundled=False)
    assert _maps(theirs) == _maps(bundled_obj) == LIBBPF_MAPS
    for name in ("__bpf_usdt_arg_spec", "__bpf_usdt_spec"):
        assert _layout(theirs, name) == _layout(bundled_obj, name)
    assert _enum(theirs) == _enum(bundled_obj)
    assert {p.name: p.section for p in theirs.programs} == {p.name: p.section for p in bundled_obj.programs}
    assert [v.name for m in theirs.maps if m.section == ".kconfig" for v in m.variables] == ["LINUX_HAS_BPF_COOKIE"]
