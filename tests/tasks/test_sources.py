"""Real projects' layouts and friction: source globs and name clashes, untyped sections with a
`type` override, vmlinux.h with no configuration, __TARGET_ARCH, compiler launchers, the notes
after a missing header, and loaders without libbpf's development files."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from bpfbuild.config import config_from_table, target_arch, unique_names
from bpfbuild.errors import ConfigError
from bpfbuild.tasks.build import missing_header_hints
from bpfbuild.toolchain import discover as disc
from bpfbuild.toolchain.flags import compile_argv

REPO = Path(__file__).resolve().parents[2]

XDP_COUNT = """#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
__u64 packets = 0;
SEC("%s")
int %s(struct xdp_md *ctx)
{
	__sync_fetch_and_add(&packets, 1);
	return XDP_PASS;
}
char LICENSE[] SEC("license") = "GPL";
"""


class _Proj:
    def __init__(self, root: Path, env: dict[str, str]) -> None:
        self.root, self.env = root, env

    def doit(self, *args: str, env: dict[str, str] | None = None, check: bool = True) -> subprocess.CompletedProcess[str]:
        res = subprocess.run([sys.executable, "-m", "doit", *args], cwd=self.root, capture_output=True, text=True,
                             env={**self.env, **(env or {})}, timeout=900)
        if check and res.returncode != 0:
            raise AssertionError(f"doit {' '.join(args)} failed ({res.returncode}):\n{res.stdout}\n{res.stderr}")
        return res


def _project(tmp_path: Path, files: dict[str, str], pyproject: str = "[tool.bpfbuild]\n") -> _Proj:
    root = tmp_path / "proj"
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    shutil.copy(REPO / "dodo.py", root / "dodo.py")
    (root / "pyproject.toml").write_text(pyproject)
    env = {k: v for k, v in os.environ.items() if k not in ("BPF_CLANG", "BPFBUILD_HEADERS")}
    return _Proj(root, env)


def _compiled(res: subprocess.CompletedProcess[str]) -> list[str]:
    return [line.split(": compiling", 1)[0] for line in res.stdout.splitlines() if ": compiling (" in line]


# --- configuration (pure) -----------------------------------------------------------------------

def test_unique_names_grow_with_parent_folders_only_where_stems_clash():
    paths = [Path("lessons/lesson1/xdp_kern.c"), Path("lessons/lesson2/xdp_kern.c"), Path("programs/hello.bpf.c"),
             Path("a/x/y.bpf.c"), Path("b/x/y.bpf.c")]
    assert unique_names(paths, Path(".")) == ["lesson1-xdp_kern", "lesson2-xdp_kern", "hello", "a-x-y", "b-x-y"]


def test_sources_default_and_globs(tmp_path):
    for rel in ("programs/a.bpf.c", "programs/notes.c", "lessons/l1/x_kern.c", "lessons/l2/deep/x_kern.c"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("")
    default = config_from_table(tmp_path, {})
    assert [p.name for p in default.programs()] == ["a"]
    cfg = config_from_table(tmp_path, {"sources": ["programs/*.bpf.c", "lessons/**/*_kern.c"]})
    progs = {p.name: p for p in cfg.programs()}
    assert set(progs) == {"a", "l1-x_kern", "deep-x_kern"}
    assert progs["l1-x_kern"].object == tmp_path / "build" / "l1-x_kern.bpf.o"
    assert progs["l1-x_kern"].spec == tmp_path / "lessons" / "l1" / "x_kern.test.toml"
    # source_dir keeps working when sources is not set
    assert [p.name for p in config_from_table(tmp_path, {"source_dir": "lessons/l1",
                                                         "sources": ["lessons/l1/*.c"]}).programs()] == ["x_kern"]


@pytest.mark.parametrize("table, message", [
    ({"sources": "programs/*.c"}, "sources must be a list of strings"),
    ({"sources": []}, "sources must name at least one glob"),
    ({"target_arch": "vax"}, "target_arch must be one of"),
    ({"programs": {"x": {"attach": "eth0"}}}, "attach needs a type"),
    ({"programs": {"x": {"type": 3}}}, "type must be a non-empty string"),
    ({"programs": {"x": {"loaders": []}}}, "unknown key 'loaders'"),
])
def test_bad_settings_are_one_line_errors(tmp_path, table, message):
    with pytest.raises(ConfigError, match=message):
        config_from_table(tmp_path, table)


def test_target_arch_names_follow_bpf_tracing_h():
    assert [target_arch(m) for m in ("x86_64", "aarch64", "s390x", "ppc64le", "riscv64", "armv7l", "loongarch64")] \
        == ["x86", "arm64", "s390", "powerpc", "riscv", "arm", "loongarch"]


def test_compile_argv_defines_the_target_arch_unless_the_user_does():
    comp = disc.Compiler(disc.CompilerKind.CLANG, ("clang",), "/usr/bin/clang", "clang 14", "test", "bpf", None)
    assert "-D__TARGET_ARCH_arm64" in compile_argv(comp, "a.c", "a.o", target_arch="arm64")
    argv = compile_argv(comp, "a.c", "a.o", target_arch="x86", defines=[("__TARGET_ARCH_arm64", "1")])
    assert not any(a.startswith("-D__TARGET_ARCH_x86") for a in argv)
    argv = compile_argv(comp, "a.c", "a.o", target_arch="x86", cflags=["-D__TARGET_ARCH_s390"])
    assert not any(a.startswith("-D__TARGET_ARCH_x86") for a in argv)
    assert compile_argv(comp, "a.c", "a.o", launcher=["ccache"])[:2] == ["ccache", "clang"]


# --- notes after a missing header ----------------------------------------------------------------

def test_missing_header_notes_follow_clangs_errors_at_the_users_include():
    stderr = ("In file included from prog.bpf.c:3:\n"
              "In file included from /usr/include/linux/icmp.h:23:\n"
              "/usr/include/x86_64-linux-gnu/gnu/stubs.h:7:11: fatal error: 'gnu/stubs-32.h' file not found\n"
              "# include <gnu/stubs-32.h>\n"
              "1 error generated.\n")
    notes = missing_header_hints(stderr, machine="x86_64")
    assert len(notes) == 1
    assert notes[0].startswith("prog.bpf.c:3: note: 'gnu/stubs-32.h' is reached through this #include:")
    assert "libc6-dev-i386" in notes[0]
    direct = missing_header_hints("x.bpf.c:1:10: fatal error: 'vmlinux.h' file not found\n"
                                  "y.bpf.c:2:10: fatal error: 'asm/types.h' file not found\n"
                                  "z.bpf.c:4:10: fatal error: 'bpf/bpf_helpers.h' file not found\n"
                                  "w.bpf.c:4:10: fatal error: 'mylib.h' file not found\n", machine="aarch64")
    assert [n.split(": note: ")[0] for n in direct] == ["x.bpf.c:1:10", "y.bpf.c:2:10", "z.bpf.c:4:10"]
    assert "BTF" in direct[0] and "/usr/include/aarch64-linux-gnu" in direct[1] and "libbpf-dev" in direct[2]


def test_a_glibc_header_in_bpf_code_builds_and_a_missing_header_gets_clangs_error_then_a_note(tmp_path):
    # <linux/icmp.h> reaches glibc's <gnu/stubs.h>, which wants <gnu/stubs-32.h> under -target bpf:
    # bpfbuild's fallback fills it where libc6-dev-i386 is not installed
    proj = _project(tmp_path, {"programs/icmp.bpf.c": "#include <linux/bpf.h>\n#include <linux/icmp.h>\n"
                               + XDP_COUNT % ("xdp", "icmp"),
                               "programs/arch.h": "#include <asm/bpfbuild_no_such_header.h>\n",
                               "programs/other.bpf.c": '#include "arch.h"\n' + XDP_COUNT % ("xdp", "other")})
    res = proj.doit("--continue", check=False)
    assert res.returncode != 0
    assert (tmp_path / "proj" / "build" / "icmp.bpf.o").is_file(), res.stderr
    lines = res.stderr.splitlines()
    assert not any("stubs-32.h" in line for line in lines), res.stderr
    error = next(i for i, line in enumerate(lines)
                 if "fatal error: 'asm/bpfbuild_no_such_header.h' file not found" in line)
    assert lines[error].startswith("programs/arch.h:1:10: ")    # clang's own line, unchanged
    note = next(line for line in lines if ": note: " in line and "bpfbuild_no_such_header.h" in line)
    assert note.startswith("programs/other.bpf.c:1: note: ")
    assert lines.index(note) > error


# --- untyped sections and the type override -----------------------------------------------------

@pytest.fixture(scope="module")
def legacy(tmp_path_factory):
    proj = _project(tmp_path_factory.mktemp("legacy"), {"src/old_kern.c": XDP_COUNT % ("xdp_count", "xdp_count_prog")},
                    '[tool.bpfbuild]\nsources = ["src/*_kern.c"]\n')
    return proj


def test_an_untyped_section_is_named_with_the_setting_that_fixes_it(legacy):
    res = legacy.doit("build", check=False)
    assert ('src/old_kern.c: warning: section "xdp_count" has no program type libbpf recognises; '
            'set [tool.bpfbuild.programs.old_kern] type = "xdp"') in res.stdout


def test_the_type_override_types_the_program_for_every_stage(legacy):
    (legacy.root / "pyproject.toml").write_text('[tool.bpfbuild]\nsources = ["src/*_kern.c"]\n'
                                                '[tool.bpfbuild.programs.old_kern]\ntype = "xdp"\n')
    res = legacy.doit()
    assert "has no program type" not in res.stdout
    report = json.loads((legacy.root / "build" / "report.json").read_text())
    (row,) = report["programs"]
    assert [(p["type"], p["verdict"]) for p in row["programs"]] == [("xdp", "accepted")]
    (legacy.root / "pyproject.toml").write_text('[tool.bpfbuild]\nsources = ["src/*_kern.c"]\n'
                                                '[tool.bpfbuild.programs.old_kern]\ntype = "xdpp"\n')
    bad = legacy.doit("verify", check=False)
    assert bad.returncode != 0
    assert '[tool.bpfbuild.programs.old_kern]: type = "xdpp" is not a program type libbpf knows' in bad.stderr + bad.stdout
    assert "Traceback" not in bad.stderr


# --- vmlinux.h, __TARGET_ARCH, launcher ---------------------------------------------------------

KPROBE = """#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
__u64 calls = 0;
SEC("kprobe/do_unlinkat")
int BPF_KPROBE(on_unlink, int dfd)
{
	__sync_fetch_and_add(&calls, 1);
	return dfd;
}
char LICENSE[] SEC("license") = "GPL";
"""


@pytest.mark.skipif(not os.path.exists("/sys/kernel/btf/vmlinux"), reason="no kernel BTF to generate vmlinux.h from")
def test_vmlinux_h_and_the_target_arch_need_no_configuration(tmp_path):
    proj = _project(tmp_path, {"programs/probe.bpf.c": KPROBE,
                               "programs/deep.bpf.c": '#include "common.h"\n' + KPROBE.replace('#include "vmlinux.h"\n', "")
                               .replace("on_unlink", "on_unlink2"),
                               "programs/common.h": '#include "vmlinux.h"\n'})
    res = proj.doit()
    assert (proj.root / "build" / "vmlinux.h").exists()
    assert sorted(_compiled(res)) == ["programs/deep.bpf.c", "programs/probe.bpf.c"]
    for name in ("probe", "deep"):
        record = json.loads((proj.root / "build" / f".{name}.bpf.o.cmd").read_text())
        assert record["vmlinux"] is True
        assert "-Ibuild" in record["argv"]
        assert f"-D__TARGET_ARCH_{target_arch()}" in record["argv"]
    entries = json.loads((proj.root / "compile_commands.json").read_text())
    assert all(f"-D__TARGET_ARCH_{target_arch()}" in e["arguments"] for e in entries)
    # quiet afterwards (a header-included vmlinux.h may cost one confirming rebuild)
    proj.doit()
    assert _compiled(proj.doit()) == []


def test_the_compiler_launcher_runs_in_front_and_changes_nothing_recorded(project, tmp_path):
    log = tmp_path / "launched.log"
    launcher = tmp_path / "fake-ccache"
    launcher.write_text(f'#!/bin/sh\necho "$1" >> {log}\nexec "$@"\n')
    launcher.chmod(launcher.stat().st_mode | stat.S_IEXEC)
    project.doit("build")
    (project.root / "pyproject.toml").write_text(f'[tool.bpfbuild]\ncompiler_launcher = "{launcher}"\n')
    assert _compiled(project.doit("build")) == []       # the launcher alone rebuilds nothing
    src = project.root / "programs" / "hello.bpf.c"
    src.write_text(src.read_text() + "\n/* edited */\n")
    assert _compiled(project.doit()) == ["programs/hello.bpf.c"]
    assert log.read_text().split() == [disc.discover().command[0]]
    entries = json.loads((project.root / "compile_commands.json").read_text())
    assert not any(str(launcher) in e["arguments"] for e in entries)


# --- loaders ------------------------------------------------------------------------------------

LOADER = """#include <stdio.h>
#include <bpf/libbpf.h>
#include "count.skel.h"
int main(void)
{
	struct count_bpf *skel = count_bpf__open();
	if (!skel)
		return 1;
	printf("%d\\n", bpf_object__load(skel->obj) == 0);
	count_bpf__destroy(skel);
	return 0;
}
"""


def _hidden_libbpf_env(tmp_path: Path) -> dict[str, str]:
    """A C compiler that sees the system headers except libbpf's, and no pkg-config entry."""
    gcc = shutil.which("gcc")
    if gcc is None:
        pytest.skip("gcc not installed")
    inc = tmp_path / "include-without-libbpf"
    inc.mkdir()
    for entry in os.listdir("/usr/include"):
        if entry != "bpf":
            (inc / entry).symlink_to(Path("/usr/include") / entry)
    own = subprocess.run([gcc, "-print-file-name=include"], capture_output=True, text=True).stdout.strip()
    arch = inc / f"{os.uname().machine}-linux-gnu"
    cc = f"{gcc} -nostdinc -isystem {own} -isystem {arch} -isystem {inc}"
    return {"CC": cc, "PKG_CONFIG_LIBDIR": str(tmp_path / "no-pkgconfig")}


@pytest.mark.skipif(not os.path.exists("/usr/include/bpf/libbpf.h"), reason="libbpf-dev not installed")
def test_loaders_build_after_their_skeleton_and_rebuild_on_header_edits(tmp_path):
    proj = _project(tmp_path, {"programs/count.bpf.c": XDP_COUNT % ("xdp", "count"),
                               "user/count_user.c": LOADER.replace("<stdio.h>", '<stdio.h>\n#include "helper.h"'),
                               "user/helper.h": "#define HELPER 1\n"},
                    '[tool.bpfbuild]\n[tool.bpfbuild.programs.count]\nloader = "user/count_user.c"\n')
    res = proj.doit()
    order = [line for line in res.stdout.splitlines() if line.startswith((".  skel:", ".  loader:"))]
    assert order == [".  skel:count", ".  loader:count_user"]
    exe = proj.root / "build" / "count_user"
    assert os.access(exe, os.X_OK)
    assert "compiling the loader" not in proj.doit().stdout
    helper = proj.root / "user" / "helper.h"
    helper.write_text("#define HELPER 2\n")
    assert "user/count_user.c: compiling the loader (changed: user/helper.h)" in proj.doit().stdout


def test_without_libbpf_dev_the_loader_says_so_and_doit_passes(tmp_path):
    proj = _project(tmp_path, {"programs/count.bpf.c": XDP_COUNT % ("xdp", "count"),
                               "loaders/count.c": LOADER},
                    '[tool.bpfbuild]\nloaders = ["loaders/*.c"]\n')
    res = proj.doit(env=_hidden_libbpf_env(tmp_path))
    warnings = [line for line in res.stdout.splitlines() if "libbpf's development files were not found" in line]
    assert len(warnings) == 1 and warnings[0].startswith("loaders/count.c: warning: ")
    assert not (proj.root / "build" / "count").exists()
    assert (proj.root / "build" / "count.skel.h").exists()
    assert "program" in res.stdout and "count" in res.stdout     # the summary still printed


def test_type_and_attach_give_what_the_matching_section_would():
    from bpfbuild.abi.progtypes import ProgType
    from bpfbuild.obj.overrides import section_info_for, suggest_type

    info = section_info_for("kprobe_sys_open", "kprobe", "do_sys_openat2")
    assert (info.section, info.prog_type, info.attach_target) == ("kprobe_sys_open", ProgType.KPROBE, "do_sys_openat2")
    xdp = section_info_for("xdp_icmp_echo", "xdp")
    assert xdp.prog_type is ProgType.XDP and xdp.attach_target is None
    assert section_info_for("sock", "cgroup/skb").prog_type is ProgType.CGROUP_SKB
    assert [suggest_type(s) for s in ("xdp_icmp_echo", "socket1", "kprobe_x", "mystery")] == \
        ["xdp", "socket", "kprobe", None]
