"""The ctypes structs have the C layout: every field offset and struct size, checked by a C compiler."""

from __future__ import annotations

import ctypes
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from bpfbuild.kernel import _ffi

# ctypes struct -> (C struct name, header that declares it)
STRUCTS = {
    _ffi.BpfProgInfo: "bpf_prog_info",
    _ffi.BpfMapInfo: "bpf_map_info",
    _ffi.BpfBtfInfo: "bpf_btf_info",
    _ffi.BtfType: "btf_type",
    _ffi.BtfVarSecinfo: "btf_var_secinfo",
    _ffi.ObjectOpenOpts: "bpf_object_open_opts",
    _ffi.TestRunOpts: "bpf_test_run_opts",
    _ffi.ProgLoadOpts: "bpf_prog_load_opts",
    _ffi.XdpAttachOpts: "bpf_xdp_attach_opts",
}


def _c_fields(cls: type[ctypes.Structure]) -> list[str]:
    """Named, non-bitfield fields: the ones C can take offsetof() of."""
    return [f[0] for f in cls._fields_ if not f[0].startswith("_") and len(f) == 2]


@pytest.fixture(scope="module")
def c_layout(tmp_path_factory: pytest.TempPathFactory) -> dict[str, int]:
    cc = shutil.which("cc") or shutil.which("gcc") or shutil.which("clang")
    if cc is None:
        pytest.skip("no C compiler to check the struct layouts against")
    if not Path("/usr/include/bpf/libbpf.h").exists():
        pytest.skip("libbpf-dev headers not installed (/usr/include/bpf)")
    lines = ["#include <stddef.h>", "#include <stdio.h>", "#include <linux/bpf.h>", "#include <linux/btf.h>",
             "#include <bpf/bpf.h>", "#include <bpf/libbpf.h>", "int main(void) {"]
    for cls, cname in STRUCTS.items():
        lines.append(f'printf("{cname} sizeof %zu\\n", sizeof(struct {cname}));')
        for field in _c_fields(cls):
            lines.append(f'printf("{cname} {field} %zu\\n", offsetof(struct {cname}, {field}));')
    lines += ["return 0;", "}"]
    work = tmp_path_factory.mktemp("layout")
    src, exe = work / "layout.c", work / "layout"
    src.write_text("\n".join(lines) + "\n")
    res = subprocess.run([cc, str(src), "-o", str(exe)], capture_output=True, text=True, check=False)
    if res.returncode != 0:
        pytest.fail(f"layout probe did not compile:\n{res.stderr}")
    out = subprocess.run([str(exe)], capture_output=True, text=True, check=True).stdout
    layout = {}
    for line in out.splitlines():
        struct, field, value = line.split()
        layout[f"{struct}.{field}"] = int(value)
    os.unlink(exe)
    return layout


@pytest.mark.parametrize("cls", list(STRUCTS), ids=list(STRUCTS.values()))
def test_struct_layout_matches_c(cls: type[ctypes.Structure], c_layout: dict[str, int]) -> None:
    cname = STRUCTS[cls]
    assert ctypes.sizeof(cls) == c_layout[f"{cname}.sizeof"]
    for field in _c_fields(cls):
        assert getattr(cls, field).offset == c_layout[f"{cname}.{field}"], field


def test_bitfield_gpl_compatible_is_bit_zero_after_ifindex() -> None:
    info = _ffi.BpfProgInfo()
    raw = bytearray(bytes(info))
    raw[_ffi.BpfProgInfo.ifindex.offset + 4] = 1
    assert _ffi.BpfProgInfo.from_buffer_copy(bytes(raw)).gpl_compatible == 1


def test_sized_options_carry_their_size() -> None:
    opts = _ffi.sized(_ffi.TestRunOpts, repeat=3)
    assert opts.sz == ctypes.sizeof(_ffi.TestRunOpts)
    assert opts.repeat == 3
