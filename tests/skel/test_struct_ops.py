"""struct_ops maps in C skeletons: the map, its link and the ``struct_ops`` shadow of its value,
named as bpftool's skeletons name them, so loaders written for bpftool compile unchanged."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from bpfbuild.skel.generate import c_header, skeleton_from_file

from .test_c_header import build_and_run, struct_block
from .tools import DATA

LOADER = """#include <stdio.h>
#include "skel.h"
int main(void)
{
	struct struct_ops_bpf *skel = struct_ops_bpf__open();
	if (!skel)
		return 1;
	struct bpf_map *map = skel->maps.demo;
	struct bpf_link **link = &skel->links.demo;
	printf("%s %d %d\\n", bpf_map__name(map), bpf_map__type(map) == BPF_MAP_TYPE_STRUCT_OPS, *link == NULL);
	if (skel->struct_ops.demo) {            /* libbpf >= 1.4 gives the value */
		struct bpf_program *init = skel->struct_ops.demo->init;
		skel->struct_ops.demo->flags = 5;
		skel->struct_ops.demo->timeout = 9;
		(void)init;
	}
	struct_ops_bpf__destroy(skel);
	return 0;
}
"""


def test_struct_ops_shadow_type_follows_bpftool(compile_bpf: Callable[[Path], Path]) -> None:
    header = c_header(skeleton_from_file(compile_bpf(DATA / "struct_ops.bpf.c")))
    body = struct_block(header, "struct_ops_bpf")
    assert "struct bpf_map *demo;" in body and "struct bpf_link *demo;" in body
    shadow = body[body.index("\tstruct {\n\t\tstruct {"):body.index("} struct_ops;")]
    members = [line.strip().rstrip(";") for line in shadow.splitlines()[2:] if line.startswith("\t\t\t")]
    # callbacks are programs; scalars stay; the array and the bitfields become padding, named
    # after the member that follows it (bpftool's __padding_<index>)
    assert members == ["struct bpf_program *init", "unsigned int flags", "char __padding_5[20]",
                       "long long timeout", "struct bpf_program *exit"]
    assert "bpf_map__initial_value(skel->maps.demo, NULL)" in header


def test_a_loader_written_for_bpftools_skeleton_compiles(compile_bpf: Callable[[Path], Path], tmp_path: Path) -> None:
    header = c_header(skeleton_from_file(compile_bpf(DATA / "struct_ops.bpf.c")))
    assert build_and_run(tmp_path, header, LOADER).split() == ["demo", "1", "1"]
