"""Code injection through a skeleton (issue 15): BTF type names reach the generated C header, so
every name a declaration can spell must be a C identifier, or the object is refused in one line.
And the other side: for every object the reader accepts, the C skeleton compiles with -Wall -Werror."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from bpfbuild.errors import BpfBuildError, SkelError
from bpfbuild.skel.generate import c_header, python_module, skeleton_from_bytes
from bpfbuild.skel.names import c_identifier

from .tools import DATA, gcc

PLACEHOLDERS = {
    "tag": b"TAGPLACEHOLDERTAGPLACEHOLDERTAGPLACEHOLDERTAGPLACEHOLDERTAGPLACEHOLDERTAGPLACEHO",
    "member": b"MEMBERPLACEHOLDERMEMBERPLACEHOLDERMEMBERPLACEHOLDERMEMBERPLACEHOLDERMEMBERPLACEH",
    "typedef": b"TYPEDEFPLACEHOLDERTYPEDEFPLACEHOLDERTYPEDEFPLACEHOLDERTYPEDEFPLACEHOLDERTYPEDEFP",
    "enum": b"ENUMPLACEHOLDERENUMPLACEHOLDERENUMPLACEHOLDERENUMPLACEHOLDERENUMPLACEHOLDERENUMP",
    "enumerator": b"ENUMERATORPLACEHOLDERENUMERATORPLACEHOLDERENUMERATORPLACEHOLDERENUMERATORPLACEHO",
    "anon_member": b"ANONMEMBERPLACEHOLDERANONMEMBERPLACEHOLDERANONMEMBERPLACEHOLDERANONMEMBERPLACEHO",
}
HOSTILE = [
    b'cfg\n#define bpf_object__open_skeleton(s, o) (system("id"), -1)\n',
    b"x; } *bss; void evil(void) { system(\"id\"); } struct { int y",
    b"a */ int injected; /* b",
    b'x")))\nint injected;',
    b"two words",
    b"int",
    b"1abc",
    b"caf\xc3\xa9",
    b"a\\\nb",
    b"x[1]",
    b"p*q",
    b"#pragma once",
]


def _patch(obj: bytes, where: str, name: bytes) -> bytes:
    """``obj`` with one placeholder replaced by ``name`` in every string table (.BTF, DWARF), padded
    with NULs: the name ends at the first NUL, the rest of the slot is unused string-table bytes."""
    old = PLACEHOLDERS[where] + b"\0"
    assert len(name) < len(old) and old in obj, where
    return obj.replace(old, name + b"\0" * (len(old) - len(name)))


@pytest.fixture(scope="module")
def hostile(compile_bpf: Callable[[Path], Path]) -> bytes:
    return compile_bpf(DATA / "hostile.bpf.c").read_bytes()


def test_the_placeholder_object_gives_a_compiling_skeleton(hostile, tmp_path):
    skel = skeleton_from_bytes(hostile, path="hostile.bpf.o")
    _compile_header(tmp_path, c_header(skel), _prelude(hostile))


@pytest.mark.parametrize("where", sorted(PLACEHOLDERS))
@pytest.mark.parametrize("name", HOSTILE, ids=range(len(HOSTILE)))
def test_a_hostile_type_name_is_refused_in_one_line(hostile, where, name):
    obj = _patch(hostile, where, name)
    with pytest.raises(SkelError) as info:
        skeleton_from_bytes(obj, path="hostile.bpf.o")
    line = str(info.value)
    assert "\n" not in line and line.startswith("hostile.bpf.o: ")
    assert "not a valid C identifier" in line or "not a C base type" in line


def test_the_cli_refuses_the_injection_with_one_line_and_no_output(hostile, tmp_path):
    obj = tmp_path / "evil.bpf.o"
    obj.write_bytes(_patch(hostile, "tag", HOSTILE[0]))
    out = tmp_path / "evil.skel.h"
    res = subprocess.run([sys.executable, "-m", "bpfbuild", "skel", str(obj), "-o", str(out)],
                         capture_output=True, text=True, check=False)
    assert res.returncode != 0
    assert len(res.stderr.strip().splitlines()) == 1, res.stderr
    assert "system" not in res.stdout and not out.exists()


def _prelude(obj: bytes) -> str:
    """Definitions of the named types the skeleton's members use (a loader includes them first)."""
    text = obj.decode("latin-1")
    tag = PLACEHOLDERS["tag"].decode()
    if tag not in text:
        return ""
    return (f"struct {tag} {{ int {PLACEHOLDERS['member'].decode()}; }};\n"
            f"typedef unsigned int {PLACEHOLDERS['typedef'].decode()};\n"
            f"enum {PLACEHOLDERS['enum'].decode()} {{ {PLACEHOLDERS['enumerator'].decode()} = 1 }};\n")


def _compile_header(tmp: Path, header: str, prelude: str = "") -> None:
    tmp.mkdir(parents=True, exist_ok=True)
    (tmp / "skel.h").write_text(header)
    src = tmp / "main.c"
    src.write_text(prelude + '#include "skel.h"\nint main(void) { return 0; }\n')
    res = subprocess.run([gcc(), "-Wall", "-Wextra", "-Werror", "-fsyntax-only", "-I", str(tmp), str(src)],
                         check=False, capture_output=True, text=True)
    assert res.returncode == 0, res.stderr


CORPUS = DATA.parents[1] / "verifier" / "corpus"


@pytest.fixture(scope="module")
def corpus_objects(build_corpus) -> dict[str, Path]:
    """The verifier corpus as the verifier tests compile it (shared objects; programs the compiler
    here cannot build are left out)."""
    objs = {}
    for src in sorted(CORPUS.glob("*.bpf.c")):
        try:
            objs["corpus/" + src.name] = build_corpus(src)
        except (pytest.fail.Exception, pytest.skip.Exception):
            continue
    return objs


def test_every_accepted_object_gives_a_skeleton_that_compiles_with_werror(program_objects, corpus_objects,
                                                                         compile_bpf, tmp_path):
    """programs/, the skeleton test data and the hostile-name object: every one the reader accepts
    compiles (gcc -Wall -Wextra -Werror) with only the named types it declares defined first."""
    from bpfbuild.obj.loader import load_object

    objects = {**program_objects, **corpus_objects}
    for src in sorted(DATA.glob("*.bpf.c")):
        objects[src.name] = compile_bpf(src)
    checked = 0
    for name, path in sorted(objects.items()):
        data = path.read_bytes()
        try:
            load_object(data, name="x")
            skel = skeleton_from_bytes(data, path=path.name)
        except BpfBuildError:
            continue
        header = c_header(skel)
        python_module(skel) if _python_ok(skel) else None
        prelude = _prelude(data) if name == "hostile.bpf.c" else _KNOWN_PRELUDES.get(name, "")
        _compile_header(tmp_path / name.replace("/", "_"), header, prelude)
        for ds in skel.datasecs:
            for v in ds.variables:
                c_identifier(v.ident, "variable")
        checked += 1
    assert checked >= len(program_objects) + len(corpus_objects) // 2


def _python_ok(skel) -> bool:
    try:
        python_module(skel)
    except SkelError:
        return False
    return True


#: Named types some test objects declare globals of (a loader defines them before the skeleton).
_KNOWN_PRELUDES = {
    "kitchen.bpf.c": "struct pair { int a; long b; };\ntypedef unsigned int myu32;\nenum color { RED, GREEN };\n",
    **{f"corpus/{name}.bpf.c": "#include <linux/bpf.h>\n"
       "struct counter { __u64 packets; struct bpf_spin_lock lock; __u64 bytes; };\n"
       for name in ("lock_global", "lock_global_direct")},
}
