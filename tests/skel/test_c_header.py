"""C skeletons: they compile with gcc -Wall -Werror against libbpf, embed the object byte for
byte, and expose what bpftool's skeleton of the same object exposes (members, layouts and the
function set with its signatures)."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from bpfbuild.skel.generate import c_header, skeleton_from_file

from .tools import bpftool_skeleton, gcc

# The functions of a bpftool 7.x skeleton and their types (N = the skeleton name).
FUNCTIONS = {
    "open": "struct N *(*)(void)",
    "open_opts": "struct N *(*)(const struct bpf_object_open_opts *)",
    "load": "int (*)(struct N *)",
    "open_and_load": "struct N *(*)(void)",
    "attach": "int (*)(struct N *)",
    "detach": "void (*)(struct N *)",
    "destroy": "void (*)(struct N *)",
    "elf_bytes": "const void *(*)(size_t *)",
    "create_skeleton": "int (*)(struct N *)",
    "assert": "void (*)(struct N *)",
}
KITCHEN_TYPES = "struct pair { int a; long b; };\ntypedef unsigned int myu32;\nenum color { RED, GREEN };\n"


def struct_block(header: str, name: str) -> str:
    """The text of `struct <name> { ... }` up to its C++ part: every member a loader can use."""
    start = header.index(f"struct {name} {{\n")
    return header[start:header.index("#ifdef __cplusplus", start)]


def functions(header: str, name: str) -> set[str]:
    return set(re.findall(rf"^(?:static inline )?{name}__(\w+)\(", header, re.MULTILINE)) | \
        set(re.findall(rf"[ *]{name}__(\w+)\((?:struct {name} \*|void|const struct|size_t)", header))


def build_and_run(tmp: Path, header: str, source: str, *, cxx: bool = False, run: bool = True) -> str:
    tmp.mkdir(parents=True, exist_ok=True)
    (tmp / "skel.h").write_text(header)
    src = tmp / ("main.cc" if cxx else "main.c")
    src.write_text(source)
    compiler = "g++" if cxx else gcc()
    res = subprocess.run([compiler, "-Wall", "-Wextra", "-Werror", "-I", str(tmp), str(src), "-o", str(tmp / "main"),
                          "-lbpf"], check=False, capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    if not run:
        return ""
    out = subprocess.run([str(tmp / "main")], check=False, capture_output=True)
    assert out.returncode == 0, out.stderr
    return out.stdout.decode("latin-1")


def section_members(body: str) -> list[str]:
    """Member names of a section struct body (two tabs deep; nested anonymous types skipped)."""
    names = []
    for line in body.splitlines():
        if not line.startswith("\t\t") or line.startswith("\t\t\t") or not line.endswith(";"):
            continue
        m = re.search(r"\(\*(\w+)\)", line) or re.search(r"(\w+)(?:\[\d+\])*;$", line)
        assert m is not None, line
        names.append(m.group(1))
    return names


def probe_source(skel_name: str, header: str, prelude: str = "") -> str:
    """A program using every function (by its exact type) and printing every member's size and
    offset, written from the member list of ``header``'s struct."""
    lines = [prelude, "#include <stdio.h>", "#include <stddef.h>", '#include "skel.h"', "",
             f"static void members(struct {skel_name} *s)", "{", "\t(void)s->skeleton; (void)s->obj;"]
    block = struct_block(header, skel_name)
    for group, kind in (("maps", "bpf_map"), ("progs", "bpf_program"), ("links", "bpf_link")):
        m = re.search(r"\tstruct \{\n((?:\t\t.*\n)*)\t\} " + group + ";", block)
        for ident in re.findall(rf"\t\tstruct {kind} \*(\w+);", m.group(1) if m else ""):
            lines.append(f"\t{{ struct {kind} *p = s->{group}.{ident}; (void)p; }}")
    lines += ["}", "", "int main(int argc, char **argv)", "{", f"\tstruct {skel_name} *s = NULL;", "",
              "\t(void)argv; (void)s;", "\tif (argc > 99)", "\t\tmembers(s);"]
    for body, ident in re.findall(r"\tstruct \w+ \{\n((?:\t\t.*\n)*)\t\} \*(\w+);", block):
        for var in section_members(body):   # sizeof and offsetof do not evaluate s
            lines.append(f'\tprintf("{ident}.{var} %zu %zu\\n", sizeof(s->{ident}->{var}), '
                         f"offsetof(__typeof__(*s->{ident}), {var}));")
    for fn, ctype in FUNCTIONS.items():
        decl = ctype.replace("N", skel_name).replace("(*)", f"(*f_{fn})", 1)
        lines.append(f'\t{{ {decl} = {skel_name}__{fn}; (void)f_{fn}; puts("{fn}"); }}')
    lines += ["\treturn 0;", "}", ""]
    return "\n".join(lines)


def test_every_program_header_compiles_and_embeds_the_object(program_objects: dict[str, Path],
                                                             tmp_path: Path) -> None:
    gcc()
    for name, obj in program_objects.items():
        skel = skeleton_from_file(obj)
        header = c_header(skel)
        source = ("#include <stdio.h>\n#include \"skel.h\"\nint main(void)\n{\n\tsize_t sz;\n"
                  f"\tconst void *p = {skel.name}__elf_bytes(&sz);\n\tfwrite(p, 1, sz, stdout);\n\treturn 0;\n}}\n")
        out = build_and_run(tmp_path / name, header, source)
        assert out.encode("latin-1") == obj.read_bytes(), name


def test_headers_compile_as_cxx(program_objects: dict[str, Path], kitchen: Path, tmp_path: Path) -> None:
    if shutil.which("g++") is None:
        pytest.skip("needs g++")
    gcc()
    for name, obj in [*program_objects.items(), ("kitchen", kitchen)]:
        header = c_header(skeleton_from_file(obj))
        prelude = KITCHEN_TYPES if name == "kitchen" else ""
        build_and_run(tmp_path / name, header, prelude + '#include "skel.h"\nint main() { return 0; }\n',
                      cxx=True, run=False)


def test_members_and_functions_match_bpftool(program_objects: dict[str, Path], tmp_path: Path) -> None:
    for name, obj in program_objects.items():
        skel = skeleton_from_file(obj)
        ours = c_header(skel)
        theirs = bpftool_skeleton(obj)
        assert struct_block(ours, skel.name) == struct_block(theirs, skel.name), name
        assert functions(theirs, skel.name) == set(FUNCTIONS), name
        assert functions(ours, skel.name) == set(FUNCTIONS), name
        probe = probe_source(skel.name, theirs)
        assert build_and_run(tmp_path / f"{name}-ours", ours, probe) == \
            build_and_run(tmp_path / f"{name}-bpftool", theirs, probe), name


def test_every_kind_of_global_matches_bpftool(kitchen: Path, tmp_path: Path) -> None:
    skel = skeleton_from_file(kitchen)
    ours, theirs = c_header(skel), bpftool_skeleton(kitchen)
    assert struct_block(ours, "kitchen_bpf") == struct_block(theirs, "kitchen_bpf")
    for a, b in zip(re.findall(r"s->maps\[\d+\]\.name = (\".*\");", ours),
                    re.findall(r"s->maps\[\d+\]\.name = (\".*\");", theirs), strict=True):
        assert a == b
    probe = probe_source("kitchen_bpf", theirs, KITCHEN_TYPES)
    out = build_and_run(tmp_path / "ours", ours, probe)
    assert out == build_and_run(tmp_path / "bpftool", theirs, probe)
    assert "rodata.strs 16 24" in out and "bss.fptr 8 72" in out


def test_name_override_matches_bpftool(program_objects: dict[str, Path]) -> None:
    obj = program_objects["tc_port_filter"]
    ours = c_header(skeleton_from_file(obj, name="filter"))
    theirs = bpftool_skeleton(obj, "filter")
    assert struct_block(ours, "filter") == struct_block(theirs, "filter")
    assert "#ifndef __FILTER_SKEL_H__" in ours
    assert re.findall(r'\.name = "(.*)";', ours) == re.findall(r'\.name = "(.*)";', theirs)


def test_layout_asserts_catch_a_wrong_struct(program_objects: dict[str, Path], tmp_path: Path) -> None:
    """The __assert checks are real: a header whose member drifted does not compile."""
    header = c_header(skeleton_from_file(program_objects["xdp_tail_call"]))
    broken = header.replace("\t\t__u32 checksum;\n", "\t\t__u64 checksum;\n")
    assert broken != header
    (tmp_path / "skel.h").write_text(broken)
    (tmp_path / "main.c").write_text('#include "skel.h"\nint main(void) { return 0; }\n')
    res = subprocess.run([gcc(), "-Wall", "-Werror", "-I", str(tmp_path), str(tmp_path / "main.c"), "-c",
                          "-o", str(tmp_path / "main.o")], check=False, capture_output=True, text=True)
    assert res.returncode != 0
    assert "unexpected size of 'checksum'" in res.stderr and "unexpected offset of 'udp_seen'" in res.stderr


@pytest.mark.parametrize("name", ["hello", "exec_events"])
def test_output_is_deterministic(program_objects: dict[str, Path], name: str) -> None:
    a = c_header(skeleton_from_file(program_objects[name]))
    b = c_header(skeleton_from_file(program_objects[name]))
    assert a == b
