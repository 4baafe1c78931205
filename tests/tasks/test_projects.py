"""Settings real projects need when put into bpfbuild as they are: ``!glob`` exclusions in
``sources``/``loaders``, a per-program ``verify = "warn"``, helper sources and libraries linked
into every loader, loaders that include a skeleton by the file name two sources share, loaders
that need a library this machine lacks, and placeholder attach targets a loader retargets."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bpfbuild.config import config_from_table
from bpfbuild.errors import ConfigError
from bpfbuild.tasks.loaders import loader_argv, missing_dependency
from tests.tasks.test_sources import XDP_COUNT, _project


# reads past the end of the packet without a bounds check: the kernel rejects it
REJECTED = """#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
SEC("xdp")
int unchecked(struct xdp_md *ctx)
{
	unsigned char *data = (unsigned char *)(long)ctx->data;
	return data[20] == 7 ? XDP_DROP : XDP_PASS;
}
char LICENSE[] SEC("license") = "GPL";
"""

# a placeholder target the loader replaces with bpf_program__set_attach_target before loading
PLACEHOLDER = """#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
__u64 calls = 0;
SEC("fentry/placeholder_target_the_loader_replaces")
int on_entry(void *ctx)
{
	__sync_fetch_and_add(&calls, 1);
	return 0;
}
char LICENSE[] SEC("license") = "GPL";
"""


def _have_libbpf_dev() -> bool:
    return os.path.exists("/usr/include/bpf/libbpf.h") and shutil.which(os.environ.get("CC") or "cc") is not None


def _loader(skel: str, extra: str = "") -> str:
    return f"""#include <stdio.h>
#include <bpf/libbpf.h>
#include "{skel}.skel.h"
{extra}
int main(void)
{{
	struct {skel}_bpf *skel = {skel}_bpf__open();
	if (!skel)
		return 1;
	printf("%s\\n", bpf_program__name(skel->progs.{skel}));
	{skel}_bpf__destroy(skel);
	return 0;
}}
"""


def _doit(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("BPF_CLANG", "BPFBUILD_HEADERS")}
    return subprocess.run([sys.executable, "-m", "doit", *args], cwd=root, capture_output=True, text=True,
                          env=env, timeout=600)


# --- configuration (pure) -----------------------------------------------------------------------

def _touch(root: Path, *rels: str) -> None:
    for rel in rels:
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text("")


def test_exclusions_keep_programs_and_loaders_apart(tmp_path):
    _touch(tmp_path, "minimal.bpf.c", "minimal.c", "usdt.bpf.c", "usdt.c", "vendor/lib/x.c", "vendor/y.c",
           "trace_helpers.c")
    cfg = config_from_table(tmp_path, {"sources": ["*.bpf.c"], "loaders": ["*.c", "!*.bpf.c", "**/*.c", "!vendor/**"],
                                       "loader_sources": ["trace_helpers.c"], "loader_libs": ["-lelf", "-lz"]})
    assert [p.name for p in cfg.programs()] == ["minimal", "usdt"]
    loaders = cfg.loader_sources()
    # a helper named in loader_sources is a part of every loader, not a loader of its own
    assert [lo.name for lo in loaders] == ["minimal", "usdt"]
    assert all(lo.extra_sources == (tmp_path / "trace_helpers.c",) and lo.libs == ("-lelf", "-lz") for lo in loaders)
    argv = loader_argv(["cc"], loaders[0], tmp_path / "build", [], ["-lbpf"], skel_dirs=("build/skel/x",))
    # the loader comes last among the sources (its depfile is the one -MF keeps), the libs after libbpf's
    assert argv[argv.index("-o") - 2:argv.index("-o")] == [str(tmp_path / "trace_helpers.c"), str(tmp_path / "minimal.c")]
    assert argv[-3:] == ["-lbpf", "-lelf", "-lz"] and "-Ibuild/skel/x" in argv
    # an exclusion applies to what any glob matched, wherever it is written
    cfg = config_from_table(tmp_path, {"sources": ["!usdt.bpf.c", "*.bpf.c"]})
    assert [p.name for p in cfg.programs()] == ["minimal"]


@pytest.mark.parametrize("table, message", [
    ({"sources": ["!*.bpf.c"]}, "sources has only exclusions"),
    ({"loaders": ["src/a**/*.c"]}, "'\\*\\*' must be a whole path component"),
    ({"loaders": ["*.c", "!"]}, "is not a glob"),
    ({"loader_libs": "-lelf"}, "loader_libs must be a list of strings"),
    ({"programs": {"x": {"verify": "maybe"}}}, "programs.x.verify must be"),
])
def test_bad_project_settings_are_one_line_errors(tmp_path, table, message):
    with pytest.raises(ConfigError, match=message):
        config_from_table(tmp_path, table)


def test_verify_mode_per_program(tmp_path):
    cfg = config_from_table(tmp_path, {"programs": {"lsm": {"verify": "warn"}}})
    assert (cfg.verify_mode("lsm"), cfg.verify_mode("other")) == ("warn", "error")
    assert config_from_table(tmp_path, {"verify": "warn"}).verify_mode("x") == "warn"


def test_a_missing_header_or_library_is_named():
    assert missing_dependency("profile.c:12:10: fatal error: blazesym.h: No such file or directory\n") == "<blazesym.h>"
    assert missing_dependency("x.c:1:10: fatal error: 'argp.h' file not found\n") == "<argp.h>"
    assert missing_dependency("/usr/bin/ld: cannot find -lblazesym_c: No such file or directory\n") == "-lblazesym_c"
    assert missing_dependency("x.c:3:1: error: expected ';'\n") is None


# --- doit on a project shaped like the public ones ---------------------------------------------

@pytest.fixture(scope="module")
def project(tmp_path_factory):
    """Programs and loaders side by side (*.bpf.c beside *.c), two lessons with one file name, a
    program the kernel rejects with verify = "warn", a placeholder fentry target, a helper source
    shared by the loaders and a loader that needs a library nobody has."""
    tmp = tmp_path_factory.mktemp("projects")
    helper = '#include "../helper.h"\nint helper_answer(void) { return 42; }\n'
    files = {
        "count.bpf.c": XDP_COUNT % ("xdp", "count"), "count.c": _loader("count", '#include "helper.h"'),
        "helper.h": "int helper_answer(void);\n", "helpers/helper.c": helper,
        "unchecked.bpf.c": REJECTED,
        "placeholder.bpf.c": PLACEHOLDER,
        "legacy.bpf.c": XDP_COUNT % ("xdp_legacy", "legacy"),
        "needs_lib.c": '#include <surely_not_installed_anywhere.h>\nint main(void) { return 0; }\n',
        "lesson1/hello.bpf.c": XDP_COUNT % ("xdp", "hello"), "lesson1/hello.c": _loader("hello"),
        "lesson2/hello.bpf.c": XDP_COUNT % ("xdp", "hello"), "lesson2/hello.c": _loader("hello"),
    }
    pyproject = ('[tool.bpfbuild]\nsources = ["**/*.bpf.c"]\nloaders = ["**/*.c", "!**/*.bpf.c", "!helpers/**"]\n'
                 'loader_sources = ["helpers/*.c"]\nloader_libs = ["-lm"]\n'
                 '[tool.bpfbuild.programs.unchecked]\nverify = "warn"\n')
    root = _project(tmp, files, pyproject).root
    return root, _doit(root)


def test_doit_passes_with_warnings_for_what_cannot_pass_here(project):
    root, res = project
    assert res.returncode == 0, res.stdout[-4000:] + res.stderr[-4000:]
    out = res.stdout
    # the rejection is reported, as a warning, for that program only
    assert any(line.startswith("unchecked.bpf.c:") and ": warning: " in line for line in out.splitlines())
    assert "rejected" in out
    if _have_libbpf_dev():   # without libbpf every loader gets the one "install libbpf-dev" line instead
        assert ("needs_lib.c: warning: needs <surely_not_installed_anywhere.h>, which this machine does not have"
                in out)
        assert "`doit forget loader:needs_lib` tries again" in out
    else:
        assert "install libbpf-dev" in out
    assert "Traceback" not in res.stderr


@pytest.mark.skipif(not _have_libbpf_dev(), reason="libbpf-dev (bpf/libbpf.h) or cc not installed: no loader is built")
def test_a_header_of_the_project_not_found_is_an_error_not_a_missing_library(project):
    root, _ = project
    broken = root / "broken.c"
    broken.write_text('#include "helper.h"\n#include "count_helpers.h"\nint main(void) { return 0; }\n')
    (root / "sub").mkdir(exist_ok=True)
    (root / "sub" / "count_helpers.h").write_text("")
    try:
        res = _doit(root, "loader:broken")
        assert res.returncode != 0 and "broken.c: loader build failed" in res.stdout + res.stderr
    finally:
        broken.unlink()


@pytest.mark.skipif(not os.path.exists("/sys/kernel/btf/vmlinux"), reason="no kernel BTF to look the target up in")
def test_a_placeholder_attach_target_is_unknown_with_a_note(project):
    root, res = project
    line = next(line for line in res.stdout.splitlines() if "prog 'on_entry'" in line)
    assert "unknown" in line and "bpf_program__set_attach_target" in line
    result = json.loads((root / "build" / ".results" / "placeholder.verify.json").read_text())
    assert result["verdict"] == "unknown"
    # its typed arguments cannot be built: the smoke run says so instead of faulting
    assert ("placeholder.bpf.o: warning: not emulated: on_entry's attach target "
            "placeholder_target_the_loader_replaces (not in the target kernel's BTF") in res.stderr


def test_an_untyped_section_is_unknown_and_not_run(project):
    root, res = project
    assert 'legacy.bpf.c: warning: section "xdp_legacy" has no program type libbpf recognises' in res.stdout
    line = next(line for line in res.stdout.splitlines() if "prog 'legacy'" in line)
    assert "unknown" in line and "bpf_program__set_type" in line
    assert "legacy.bpf.o: warning: not emulated: legacy's program type (section 'xdp_legacy' names none" in res.stderr
    report = json.loads((root / "build" / "report.json").read_text())
    row = next(r for r in report["programs"] if r["program"] == "legacy")
    assert [p["verdict"] for p in row["programs"]] == ["unknown"]


def test_a_clashing_program_gets_its_skeleton_under_its_file_name_too(project):
    root, _ = project
    for lesson in ("lesson1", "lesson2"):
        text = (root / "build" / "skel" / f"{lesson}-hello" / "hello.skel.h").read_text()
        assert "struct hello_bpf {" in text and "hello_bpf__open_and_load" in text
        assert f"struct {lesson}_hello_bpf {{" in (root / "build" / f"{lesson}-hello.skel.h").read_text()


@pytest.mark.skipif(not _have_libbpf_dev(), reason="libbpf-dev (bpf/libbpf.h) or cc not installed")
def test_loaders_link_the_shared_helpers_and_include_their_own_skeleton(project):
    root, res = project
    for name in ("count", "lesson1-hello", "lesson2-hello"):
        exe = root / "build" / name
        assert os.access(exe, os.X_OK), (name, res.stdout[-3000:], res.stderr[-3000:])
    record = json.loads((root / "build" / ".lesson1-hello.loader.cmd").read_text())
    assert any(p.endswith("skel/lesson1-hello/hello.skel.h") for p in record["deps"])
    assert any(p.endswith("helpers/helper.c") for p in record["deps"])
    assert not (root / "build" / "helper").exists()
    again = _doit(root)
    # nothing is compiled again, not even the loader that cannot be built here (until it changes)
    assert "compiling the loader" not in again.stdout
    needs = root / "needs_lib.c"
    needs.write_text(needs.read_text() + "/* edited */\n")
    assert "needs_lib.c: warning: needs <surely_not_installed_anywhere.h>" in _doit(root, "loader").stdout
    (root / "helpers" / "helper.c").write_text('#include "../helper.h"\nint helper_answer(void) { return 7; }\n')
    assert "count.c: compiling the loader (changed: helpers/helper.c)" in _doit(root, "loader").stdout
    assert _doit(root, "clean", "loader").returncode == 0
    assert not (root / "build" / "count").exists() and not (root / "build" / ".count.loader.cmd").exists()


def test_the_glibc_stubs_note_is_at_the_projects_own_include_that_reaches_them():
    from bpfbuild.tasks.build import missing_header_hints

    stderr = ("In file included from lesson/tc_kern.c:11:\n"
              "In file included from lesson/../common/parsing.h:27:\n"
              "In file included from /usr/include/linux/icmp.h:23:\n"
              "In file included from /usr/include/linux/if.h:28:\n"
              "/usr/include/x86_64-linux-gnu/gnu/stubs.h:7:11: fatal error: 'gnu/stubs-32.h' file not found\n")
    (note,) = missing_header_hints(stderr, machine="x86_64")
    assert note.startswith("lesson/../common/parsing.h:27: note: 'gnu/stubs-32.h' is reached through this #include")
    assert "install them (libc6-dev-i386 on Debian/Ubuntu" in note
