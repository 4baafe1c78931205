"""The object reader against the kernel: after loading each programs/ object with bpftool, the maps
the kernel holds and the programs' tags are the ones `bpfbuild maps` / `bpfbuild show` predicted."""

from __future__ import annotations

import json
import os
import shutil
import subprocess

import pytest

from bpfbuild.abi.maptypes import MapType
from bpfbuild.obj.loader import load_object_file
from bpfbuild.obj.tag import kernel_tag_hash, program_tag
from bpfbuild.verifier.fixups import xlated

pytestmark = pytest.mark.kernel


def _bpftool(*args: str) -> object:
    res = subprocess.run(["bpftool", *args, "-j"], capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    return json.loads(res.stdout)


@pytest.fixture
def pin_dir():
    if shutil.which("bpftool") is None:
        pytest.skip("bpftool not installed")
    d = f"/sys/fs/bpf/bpfbuild-objtest-{os.getpid()}"
    os.makedirs(f"{d}/maps")
    try:
        yield d
    finally:
        shutil.rmtree(d, ignore_errors=True)


def test_maps_and_tags_equal_the_kernels(objects, pin_dir):
    for obj in objects:
        spec = load_object_file(obj)
        sub = f"{pin_dir}/{obj.stem.replace('.', '_')}"
        os.makedirs(f"{sub}/maps")
        res = subprocess.run(["bpftool", "prog", "loadall", str(obj), f"{sub}/progs", "pinmaps", f"{sub}/maps"],
                             capture_output=True, text=True)
        assert res.returncode == 0, f"{obj.name}: {res.stderr[-2000:]}"
        kernel_maps = sorted(
            (m["name"], m["type"], m["bytes_key"], m["bytes_value"], m["max_entries"], m["flags"])
            for m in (_bpftool("map", "show", "pinned", f"{sub}/maps/{p}") for p in os.listdir(f"{sub}/maps")))
        ours = sorted((m.name, MapType(m.type).name.lower(), m.key_size, m.value_size, m.max_entries, m.flags)
                      for m in spec.maps)
        assert ours == kernel_maps, obj.name
        for prog in spec.programs:
            # CO-RE programs too: the object reader applies the relocations against the running
            # kernel's BTF, as libbpf does before the kernel hashes the program
            info = _bpftool("prog", "show", "pinned", f"{sub}/progs/{prog.name}")
            assert info["tag"] == program_tag(prog.insns, kernel_tag_hash()), f"{obj.name}:{prog.name}"
            assert info["name"] == prog.name[:15]
            # bytes_xlated is measured after the verifier's rewrites (dead code, inlined lookups...)
            assert info["bytes_xlated"] == xlated(spec, prog).bytes_xlated, f"{obj.name}:{prog.name}"
