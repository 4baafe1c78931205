"""Fixtures for the BTF tests: the user's programs compiled by the compiler ``doit`` would use
(``bpf_cc``: clang, else zig's), and vmlinux BTF."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

PROGRAMS = Path(__file__).resolve().parents[2] / "programs"
VMLINUX = Path("/sys/kernel/btf/vmlinux")

# A program with CO-RE relocations of several kinds (no kernel headers needed).
CORE_SOURCE = r"""
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

struct task_struct {
	int pid;
	int tgid;
	unsigned int flags: 3;
} __attribute__((preserve_access_index));

enum core_mode { MODE_A = 1, MODE_B = 2 };

SEC("raw_tp/sys_enter")
int core_prog(void *ctx)
{
	struct task_struct *t = (void *)bpf_get_current_task();
	int pid = BPF_CORE_READ(t, pid);
	int has = bpf_core_field_exists(t->tgid);
	int size = bpf_core_type_size(struct task_struct);
	int val = bpf_core_enum_value(enum core_mode, MODE_B);
	return pid + has + size + val;
}

char LICENSE[] SEC("license") = "GPL";
"""


@dataclass(frozen=True)
class Compiled:
    name: str
    source: Path
    obj: Path
    btf: bytes
    ext: bytes


def _sections(obj: Path) -> tuple[bytes, bytes]:
    from elftools.elf.elffile import ELFFile

    with obj.open("rb") as f:
        elf = ELFFile(f)
        btf = elf.get_section_by_name(".BTF")
        ext = elf.get_section_by_name(".BTF.ext")
        assert btf is not None and ext is not None, f"{obj} has no .BTF/.BTF.ext"
        return btf.data(), ext.data()


def _compile(cc: Any, source: Path, out_dir: Path) -> Compiled:
    obj = cc.compile(source, out_dir / (source.name.removesuffix(".c") + ".o"))
    btf, ext = _sections(obj)
    return Compiled(source.name.removesuffix(".bpf.c"), source, obj, btf, ext)


@pytest.fixture(scope="session")
def compiled(bpf_cc: Any, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Compiled]:
    """Every programs/*.bpf.c compiled with -g -O2, plus a CO-RE sample (``core``)."""
    pytest.importorskip("elftools")
    out = tmp_path_factory.mktemp("btf-objs")
    result = {}
    for source in sorted(PROGRAMS.glob("*.bpf.c")):
        item = _compile(bpf_cc, source, out)
        result[item.name] = item
    core = out / "core.bpf.c"
    core.write_text(CORE_SOURCE)
    result["core"] = _compile(bpf_cc, core, out)
    return result


@pytest.fixture(scope="session")
def vmlinux_bytes() -> bytes:
    if not VMLINUX.exists():
        pytest.skip("/sys/kernel/btf/vmlinux absent (kernel without CONFIG_DEBUG_INFO_BTF)")
    return VMLINUX.read_bytes()


@pytest.fixture(scope="session")
def vmlinux(vmlinux_bytes: bytes):  # type: ignore[no-untyped-def]
    from bpfbuild.btf.spec import Spec

    return Spec.from_bytes(vmlinux_bytes)
