"""Our verdict on every corpus program equals the kernel's recorded one (verdict, message, line)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bpfbuild.obj.loader import load_object_file
from bpfbuild.verifier import verify

CORPUS = Path(__file__).resolve().parent / "corpus"
SOURCES = sorted(CORPUS.glob("*.bpf.c"))


def _ids(paths: list[Path]) -> list[str]:
    return [p.name.removesuffix(".bpf.c") for p in paths]


def test_corpus_size_and_balance(corpus_lib):
    verdicts = [label["verdict"] for src in SOURCES for label in corpus_lib.read_expect(src).values()]
    assert len(SOURCES) >= 50
    assert verdicts.count("accepted") >= 25
    assert verdicts.count("rejected") >= 25


def test_every_rejected_program_names_its_mistake(corpus_lib):
    for src in SOURCES:
        rejected = any(label["verdict"] == "rejected" for label in corpus_lib.read_expect(src).values())
        assert src.read_text().startswith("/* MISTAKE") == rejected, src.name


@pytest.mark.parametrize("src", SOURCES, ids=_ids(SOURCES))
def test_agrees_with_kernel_label(src, build_corpus, corpus_lib, corpus_cc):
    """Our verdict on the object is the kernel's label.  Instruction indices and processed
    counts are compared where the labels' compiler built the object (another compiler's code
    differs: verdict, message and source line must still agree)."""
    bpf_cc = corpus_cc(src)
    same_code = corpus_lib.built_by_recorder(src, bpf_cc)
    labels = corpus_lib.read_expect(src, None if same_code else bpf_cc.compiler.version)
    spec = load_object_file(build_corpus(src))
    assert sorted(p.name for p in spec.programs) == sorted(labels)
    for prog in spec.programs:
        label = labels[prog.name]
        report = verify(spec, prog)
        assert report.verdict == label["verdict"], report.errors
        if label["verdict"] == "rejected":
            (diag,) = report.errors
            assert diag.message == label["message"]
            if "line" in label:
                assert diag.location is not None
                assert diag.location.line == label["line"]
                if same_code:
                    assert diag.insn == label["insn"]
        else:
            assert report.errors == ()
        if "processed_insns" in label and same_code:
            kernel = label["processed_insns"]
            assert kernel / 2 <= report.processed_insns <= 2 * kernel


@pytest.mark.kernel
@pytest.mark.parametrize("src", SOURCES, ids=_ids(SOURCES))
def test_relabel_from_kernel(src, build_corpus, corpus_lib, kernel_lacks, corpus_cc):
    """The stored labels are what the running kernel says (BPFBUILD_RELABEL=1 rewrites them).

    Processed-instruction counts are compared exactly on the kernel build the labels were
    recorded on; on another build a different count is drift, reported as a skip naming both."""
    bpf_cc = corpus_cc(src)
    obj = build_corpus(src)
    kernel_lacks.skip(obj)
    labels = corpus_lib.kernel_labels(obj)
    recorder = not corpus_lib.expect_path(src).exists() or corpus_lib.built_by_recorder(src, bpf_cc)
    if recorder and (os.environ.get("BPFBUILD_RELABEL") or not corpus_lib.expect_path(src).exists()):
        corpus_lib.write_expect(src, labels, bpf_cc.compiler.version)
    drift = corpus_lib.processed_drift(src, obj)
    stored = corpus_lib.read_expect(src)
    if not corpus_lib.built_by_recorder(src, bpf_cc):
        # another compiler's code: instruction indices and counts are not the label's, and a
        # verdict that differs for this code is stored as a [[variant]] of this compiler
        def same(label):
            return {k: v for k, v in label.items() if k not in ("insn", "processed_insns")}
        now = {n: same(v) for n, v in labels.items()}
        if os.environ.get("BPFBUILD_RELABEL"):
            corpus_lib.write_variants(src, bpf_cc.compiler.version,
                                      {n: v for n, v in now.items() if v != same(stored[n])})
        stored = corpus_lib.read_expect(src, bpf_cc.compiler.version)
        assert {n: same(v) for n, v in stored.items()} == now
        pytest.skip(f"labels recorded from {corpus_lib.recorded_compiler(src)}'s code, this is "
                    f"{bpf_cc.compiler.version}'s: verdicts, messages and lines agree")
    for name, (label_count, _) in drift.items():
        labels[name] = {**labels[name], "processed_insns": label_count}
    assert stored == labels
    if drift:
        pytest.skip("processed-insns drift (verdicts agree): " + corpus_lib.drift_text(src, drift))
