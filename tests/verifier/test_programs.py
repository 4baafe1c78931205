"""Every program of programs/ is accepted, with the kernel's processed-instruction count (within 2x)."""

from __future__ import annotations

import pytest

from bpfbuild.obj.loader import load_object_file
from bpfbuild.verifier import verify


def test_every_program_accepted(built_programs):
    for obj in built_programs:
        spec = load_object_file(obj)
        for prog in spec.programs:
            report = verify(spec, prog)
            assert report.accepted, (obj.name, prog.name, [d.format() for d in report.errors])
            assert report.processed_insns > 0
            assert report.notes == (), report.notes


@pytest.mark.kernel
def test_processed_insns_within_2x_of_kernel(built_programs):
    from bpfbuild.kernel import verdict

    for obj in built_programs:
        spec = load_object_file(obj)
        for prog in spec.programs:
            kernel = verdict(obj, prog.name, log_level=1)
            assert kernel.accepted, kernel.log
            ours = verify(spec, prog).processed_insns
            assert kernel.processed_insns is not None
            assert kernel.processed_insns / 2 <= ours <= 2 * kernel.processed_insns, (prog.name, ours, kernel)
