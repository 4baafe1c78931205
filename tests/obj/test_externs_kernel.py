"""Externs and CO-RE against the kernel: each test object loaded by libbpf (bpfbuild.kernel) has the
tag, bytes_xlated and maps bpfbuild computed offline for the running kernel, and the .kconfig map
holds the bytes we laid out."""

from __future__ import annotations

import errno
import os

import pytest

from bpfbuild.abi.maptypes import MapType
from bpfbuild.errors import KernelError
from bpfbuild.obj.loader import load_object_file
from bpfbuild.obj.tag import kernel_tag_hash, program_tag
from bpfbuild.verifier.fixups import xlated

pytestmark = pytest.mark.kernel

CASES = [("externs.bpf.c", "default"), ("weak_kfunc.bpf.c", "default"), ("typed_ksym.bpf.c", "default"),
         ("core_reads.bpf.c", "default"), ("core_reads.bpf.c", "clang>=18")]


@pytest.fixture(scope="module")
def kernel_objects():
    if os.geteuid() != 0:
        pytest.skip("loading programs needs root (CAP_BPF)")
    try:
        from bpfbuild.kernel.objects import KernelObject
    except KernelError as exc:   # pragma: no cover - libbpf missing
        pytest.skip(str(exc))
    return KernelObject


@pytest.mark.parametrize(("source", "cc"), CASES)
def test_tags_xlated_and_maps_equal_libbpfs(compile_bpf, kernel_objects, source, cc):
    obj = compile_bpf(source, cc=cc)
    spec = load_object_file(obj)
    with kernel_objects.open(obj) as kobj:
        try:
            kobj.load(log_level=1)
        except KernelError as exc:
            log = kobj.last_failed.log if getattr(kobj, "last_failed", None) is not None else ""
            if "failed to find the address for kernel symbol" in log:
                pytest.skip(f"this kernel cannot resolve typed __ksym variables (no CONFIG_KALLSYMS_ALL): {exc}")
            if exc.errno in (errno.EPERM, errno.EOPNOTSUPP, errno.EINVAL) and "verifier" not in str(exc):
                pytest.skip(f"this kernel refuses the program type: {exc}")
            raise
        for prog in spec.programs:
            info = kobj.program(prog.name).info()
            assert info.tag == program_tag(prog.insns, kernel_tag_hash()), prog.name
            # after the verifier's rewrites: relocated constants make branches dead, removed code.
            # Where our verifier does not model a kfunc its run is partial, and so is the image.
            ours = xlated(spec, prog)
            if ours.notes:
                assert prog.kfunc_calls, (prog.name, ours.notes)
            else:
                assert info.bytes_xlated == ours.bytes_xlated, prog.name
        kernel_maps = sorted((m.info().name, m.info().type, m.info().key_size, m.info().value_size,
                              m.info().max_entries, m.info().flags) for m in kobj.maps.values())
        ours = sorted((m.name[:15], int(MapType(m.type)), m.key_size, m.value_size, m.max_entries, m.flags)
                      for m in spec.maps)
        assert ours == kernel_maps
        for m in spec.maps:
            if m.section == ".kconfig":
                assert kobj.map(m.name).handle().lookup(0) == m.initial


def test_a_saved_probe_resolves_kconfig_as_the_running_kernel(compile_bpf, kernel_objects, tmp_path, capsys):
    """`bpfbuild probe --json > FILE` as a target: the same .kconfig bytes as the running kernel's."""
    from bpfbuild.abi.target import Target
    from bpfbuild.cli import main as cli_main

    if cli_main(["probe", "--json"]) != 0:
        pytest.skip("bpfbuild probe failed here")
    probe = tmp_path / "probe.json"
    probe.write_text(capsys.readouterr().out)
    obj = compile_bpf("externs.bpf.c")
    saved = load_object_file(obj, target=Target.from_file(probe))
    running = load_object_file(obj, target=Target.running())
    assert saved.map("externs.kconfig").initial == running.map("externs.kconfig").initial
    assert saved.extern("LINUX_KERNEL_VERSION").source.startswith(str(probe))
