"""The kernel-style log (``--log``): level 1 is the failing path, level 2 every state.

The kernel test compares our logs with the running kernel's for every corpus program, line by
line; only the text of ``ld_imm64`` map loads differs (the kernel prints the map's address).
"""

from __future__ import annotations

import re

import pytest

from bpfbuild.obj.loader import load_object_file
from bpfbuild.verifier import verify

_LD_IMM64 = re.compile(r"\(18\) (r\d+) = .*")


def _normalise(log: str) -> list[str]:
    return [_LD_IMM64.sub(r"(18) \1 = <ld_imm64>", line) for line in log.splitlines()]


def test_levels(build_corpus, corpus_lib):
    src = corpus_lib.CORPUS / "map_lookup_no_null_check.bpf.c"
    spec = load_object_file(build_corpus(src))
    prog = spec.programs[0]
    assert verify(spec, prog).log == ""
    one = verify(spec, prog, log_level=1).log.splitlines()
    assert one[0] == "0: R1=ctx() R10=fp0"
    assert one[-2] == "R0 invalid mem access 'map_value_or_null'"
    assert re.fullmatch(r"processed 7 insns \(limit 1000000\) max_states_per_insn \d+ total_states \d+ "
                        r"peak_states \d+ mark_read 0", one[-1])
    two = verify(spec, prog, log_level=2).log
    assert "Live regs before insn:" in two and two.count("\n") > len(one)


def test_accepted_program_keeps_only_the_statistics_at_level_1(build_corpus, corpus_lib):
    src = corpus_lib.CORPUS / "map_lookup_null_checked.bpf.c"
    spec = load_object_file(build_corpus(src))
    log = verify(spec, spec.programs[0], log_level=1).log
    assert log.startswith("processed ") and log.count("\n") == 1


@pytest.mark.kernel
@pytest.mark.parametrize("level", [1, 2])
def test_logs_equal_the_kernels(level, build_corpus, corpus_lib):
    from bpfbuild.kernel import verdict

    different = []
    for src in corpus_lib.corpus_sources():
        obj = build_corpus(src)
        spec = load_object_file(obj)
        for prog in spec.programs:
            ours = _normalise(verify(spec, prog, log_level=level).log)
            kernel = _normalise(verdict(obj, prog.name, log_level=level).log)
            if ours != kernel:
                different.append(src.name)
    assert different == []
