"""Hypothesis fuzzers for every reader, with a fixed small example budget (the long run is
benchmarks/fuzz.py): ELF objects, BTF, BTF.ext, specs, state files, and the CLI on files."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bpfbuild.errors import BpfBuildError

from .harness import (FILE_COMMANDS, PROGRAMS, TEXT_COMMANDS, argv_input, file_argv, garbage, mutate, probe_input,
                      run_cli, run_reader, spec_input, spec_text, state_input, state_readers, text_argv)

BUDGET = settings(max_examples=60, deadline=None, derandomize=True,
                  suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


@BUDGET
@given(seed=st.integers(0, 2**32 - 1), rounds=st.integers(1, 3))
def test_mutated_objects_give_a_spec_or_one_error(real_objects, seed, rounds):
    from bpfbuild.obj.loader import load_object

    rng = random.Random(seed)
    data = real_objects[rng.choice(sorted(real_objects))]
    for _ in range(rounds):
        data = mutate(data, rng)
    try:
        load_object(data)
    except BpfBuildError as exc:
        assert "\n" not in str(exc)


@BUDGET
@given(seed=st.integers(0, 2**32 - 1))
def test_mutated_btf_and_btf_ext_give_types_or_one_error(real_objects, seed):
    from bpfbuild.btf.ext import Ext
    from bpfbuild.btf.spec import Spec
    from bpfbuild.btf.value import btf_value
    from bpfbuild.obj.elf import read_elf

    rng = random.Random(seed)
    img = read_elf(real_objects[rng.choice(sorted(real_objects))])
    btf = next(s.data for s in img.sections if s.name == ".BTF")
    ext = next((s.data for s in img.sections if s.name == ".BTF.ext"), b"")
    try:
        spec = Spec.from_bytes(mutate(btf, rng))
        for tid in list(spec)[:50]:
            try:
                btf_value(spec, tid, bytes(64))
            except BpfBuildError:
                pass
        Ext.from_bytes(mutate(ext, rng), strings_from=spec)
    except BpfBuildError as exc:
        assert "\n" not in str(exc)


@BUDGET
@given(seed=st.integers(0, 2**32 - 1))
def test_hostile_specs_parse_or_fail_at_a_location(seed):
    from bpfbuild.vm.testspec import parse_spec

    try:
        parse_spec(spec_text(random.Random(seed)), "f.test.toml")
    except BpfBuildError as exc:
        assert str(exc).startswith("f.test.toml") and "\n" not in str(exc)


@BUDGET
@given(content=st.one_of(st.binary(max_size=200), st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda kids: st.lists(kids, max_size=4) | st.dictionaries(st.text(max_size=8), kids, max_size=4),
    max_leaves=12).map(lambda v: json.dumps(v).encode())))
def test_state_files_of_any_shape_are_ignored_or_used(tmp_path, content):
    from bpfbuild.config import ProgramSource  # noqa: F401  (record_problem takes a program)
    from bpfbuild.tasks.build import record_problem
    from bpfbuild.toolchain.discover import _valid_entries

    cache = tmp_path / ".toolchain.json"
    cache.write_bytes(content)
    entries = _valid_entries(cache)
    assert all(isinstance(v["bpf"], bool) and isinstance(v["version"], str) for v in entries.values())

    class Prog:
        source = Path("programs/x.bpf.c")

    try:
        record = json.loads(content)
    except ValueError:
        return
    problem = record_problem(Prog(), record)   # type: ignore[arg-type]
    assert problem is None or isinstance(problem, str)


@pytest.mark.parametrize("command", sorted(FILE_COMMANDS))
def test_every_file_command_on_garbage_fails_in_one_line(tmp_path, command):
    rng = random.Random(command)
    for i in range(15):
        path = tmp_path / f"in{i}.o"
        path.write_bytes(garbage(rng))
        out = run_cli(file_argv(command, path, tmp_path / "out"))
        assert out.kind == "error", (command, out)


@pytest.mark.parametrize("command", sorted(FILE_COMMANDS))
def test_every_file_command_on_mutated_objects_never_tracebacks(real_objects, tmp_path, command):
    rng = random.Random(f"m-{command}")
    names = sorted(real_objects)
    for i in range(12):
        path = tmp_path / f"m{i}.bpf.o"
        path.write_bytes(mutate(real_objects[names[i % len(names)]], rng))
        argv = file_argv(command, path, tmp_path / "out")
        if command == "run":
            argv += ["--budget", "100000"]
        out = run_cli(argv)
        assert out.kind != "traceback", (command, out.detail)


_READ_ONLY_COMMANDS = ["show", "dump", "maps", "verify", "skel", "btf", "run", "toolchain"]
_TOKENS = ["FILE", "GARBAGE", "MISSING", "DIR", "--json", "--pretty", "--format", "raw", "c", "--lang", "python",
           "--name", "x y", "-o", "OUT", "--ctx", "len=99999999999999999999", "--args", "1,2,x", "--packet", "zz",
           "--repeat", "0", "100000000000", "--budget", "-1", "--set", "a=1", "--map", "m[1]=2", "--world",
           "pid=1", "--trace", "--source", "dump", "hello", "-", "", "\x00", "--help"]


@settings(max_examples=80, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(command=st.sampled_from(_READ_ONLY_COMMANDS), tokens=st.lists(st.sampled_from(_TOKENS), max_size=6))
def test_cli_argv_of_every_reading_command_never_tracebacks(real_objects, tmp_path, command, tokens):
    obj = tmp_path / "hello.bpf.o"
    obj.write_bytes(real_objects["hello"])
    junk = tmp_path / "junk.o"
    junk.write_bytes(b"\x7fELF junk")
    paths = {"FILE": str(obj), "GARBAGE": str(junk), "MISSING": str(tmp_path / "absent.o"), "DIR": str(tmp_path),
             "OUT": str(tmp_path / "out.txt")}
    argv = [command] + [paths.get(t, t) for t in tokens]
    out = run_cli(argv)
    assert out.kind != "traceback", (argv, out.detail)
    if "GARBAGE" in tokens[:1] and out.kind == "ok" and command not in ("toolchain", "btf"):
        pytest.fail(f"exit 0 on garbage: {argv}")


# --- text inputs beside a valid object: specs of `coverage`, saved probes (probe --from, verify --kernel) ---

def _probe_base() -> dict:
    from bpfbuild.kernel.probe import FORMAT

    return {"format": FORMAT, "kernel": {"release": "6.1.0", "version": "#1", "machine": "x86_64"}, "isa": "v3",
            "prog_types": {"XDP": True, "KPROBE": "EINVAL"}, "map_types": {"HASH": True},
            "helpers": {"XDP": ["map_lookup_elem"]}, "helper_ids": {"map_lookup_elem": 1}, "kfuncs": ["bpf_x"],
            "limits": {"processed_insns": 1000000}, "sysctl": {}, "kconfig": {"CONFIG_BPF": "y"}}


@pytest.mark.parametrize("command", sorted(TEXT_COMMANDS))
def test_every_text_input_command_on_garbage_fails_and_on_hostile_text_never_tracebacks(real_objects, tmp_path,
                                                                                      command):
    rng = random.Random(f"t-{command}")
    obj = tmp_path / "hello.bpf.o"
    obj.write_bytes(real_objects["hello"])
    spec = tmp_path / "hello.test.toml"
    spec.write_text((PROGRAMS / "hello.test.toml").read_text())
    bases = [p.read_text() for p in sorted(PROGRAMS.glob("*.test.toml"))]
    kind = TEXT_COMMANDS[command][1]
    for i in range(6):
        path = tmp_path / f"in{i}{'.json' if kind == 'probe' else '.test.toml' if kind == 'spec' else '.bpf.o'}"
        is_garbage = i % 2 == 0
        if is_garbage:
            data = garbage(rng)
        elif kind == "spec":
            data = spec_input(rng, bases).encode()
        elif kind == "probe":
            data = probe_input(rng, _probe_base()).encode()
        else:
            data = mutate(real_objects["hello"], rng)
        path.write_bytes(data)
        out = run_cli(text_argv(command, path, tmp_path / "out", obj, spec))
        assert out.kind != "traceback", (command, data[:300], out.detail)
        if is_garbage:
            assert out.kind == "error", (command, data[:300], out)


@pytest.mark.parametrize("reader", ["state-cmd", "state-doit", "state-results", "state-toolchain"])
def test_state_files_of_any_content_are_used_ignored_or_one_line(tmp_path, reader):
    fn = state_readers()[reader]
    rng = random.Random(f"s-{reader}")
    for i in range(25):
        path = tmp_path / f"state{i}"
        path.write_bytes(state_input(rng))
        out = run_reader(fn, path, tmp_path)
        assert out.kind != "traceback", (reader, path.read_bytes()[:300], out.detail)


def test_cli_argv_with_fifos_specs_probes_and_targets_never_tracebacks(real_objects, tmp_path):
    import os

    rng = random.Random("argv")
    obj = tmp_path / "hello.bpf.o"
    obj.write_bytes(real_objects["hello"])
    (tmp_path / "junk.o").write_bytes(b"\x7fELF junk")
    os.mkfifo(tmp_path / "fifo")
    paths = {"FILE": str(obj), "GARBAGE": str(tmp_path / "junk.o"), "MISSING": str(tmp_path / "absent"),
             "DIR": str(tmp_path), "FIFO": str(tmp_path / "fifo"), "OUT": str(tmp_path / "out"),
             "SPEC": str(PROGRAMS / "hello.test.toml")}
    for _ in range(25):
        _, argv = argv_input(rng)
        argv = [paths.get(t, t) for t in argv]
        out = run_cli(argv)
        assert out.kind != "traceback", (argv, out.detail)
