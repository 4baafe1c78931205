"""What a tutorial repository of numbered lessons brings (measured on public ones): folder names
starting with a digit, kfuncs a given kernel lacks or declares otherwise, per-lesson loader
helpers, loaders with include dirs of their own or written for a newer libbpf, test programs
beside the loaders, `__ulong(map_extra, ...)`, programs an older clang cannot lower, and CO-RE
relocations against types the kernel does not have."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bpfbuild.config import config_from_table
from bpfbuild.tasks.build import backend_error_hint
from bpfbuild.tasks.loaders import loader_argv, newer_libbpf_api
from bpfbuild.tasks.skel import skeleton_ident
from tests.tasks.test_sources import XDP_COUNT, _project

VMLINUX_BTF = "/sys/kernel/btf/vmlinux"

# a kfunc no kernel has: libbpf fails the load with "not found in kernel or module BTFs"
MISSING_KFUNC = """#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
extern int bpfbuild_no_such_kfunc(int x) __ksym;
SEC("tc")
int uses_kfunc(struct __sk_buff *skb)
{
	return bpfbuild_no_such_kfunc(skb->len) ? 1 : 0;
}
char LICENSE[] SEC("license") = "GPL";
"""

# a field read through CO-RE from a type the kernel's BTF does not have (a user-space struct)
CORE_LOCAL = """#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
struct bpfbuild_user_data { int a; int c; } __attribute__((preserve_access_index));
SEC("raw_tracepoint/sys_enter")
int reads_user_struct(void *ctx)
{
	struct bpfbuild_user_data *d = (void *)0;
	int a = 0;
	bpf_probe_read_user(&a, sizeof(a), &d->c);
	return a;
}
char LICENSE[] SEC("license") = "GPL";
"""

ULONG_MAP = """#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#ifndef __ulong
#define __ulong(name, val) enum { ___bpf_concat(__unique_value, __COUNTER__) = val } name
#endif
struct {
	__uint(type, BPF_MAP_TYPE_BLOOM_FILTER);
	__type(value, __u32);
	__uint(max_entries, 64);
	__ulong(map_extra, 5);
} bloom SEC(".maps");
SEC("xdp")
int count(struct xdp_md *ctx)
{
	__u32 v = 7;
	return bpf_map_peek_elem(&bloom, &v) == 0 ? XDP_DROP : XDP_PASS;
}
char LICENSE[] SEC("license") = "GPL";
"""


def _doit(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("BPF_CLANG", "BPFBUILD_HEADERS")}
    return subprocess.run([sys.executable, "-m", "doit", *args], cwd=root, capture_output=True, text=True,
                          env=env, timeout=900)


# --- pure -----------------------------------------------------------------------------------------

def test_skeleton_names_are_identifiers_when_a_clash_names_a_program_by_a_numbered_folder():
    assert skeleton_ident("hello") == "hello_bpf"
    assert skeleton_ident("hello-func") == "hello_func_bpf"           # as bpftool derives it
    assert skeleton_ident("38-btf-uprobe-uprobe") == "_38_btf_uprobe_uprobe_bpf"
    assert len(skeleton_ident("9" * 80)) <= 63


def test_each_lesson_links_its_own_helpers_and_a_single_helpers_folder_serves_every_loader(tmp_path):
    for rel in ("16-memleak/memleak.c", "16-memleak/trace_helpers.c", "17-bio/bio.c", "17-bio/trace_helpers.c",
                "11-bootstrap/bootstrap.c", "17-bio/sub/deeper.c"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("int x;\n")
    cfg = config_from_table(tmp_path, {"loaders": ["**/*.c"], "loader_sources": ["*/trace_helpers.c"]})
    extras = {lo.name: [p.relative_to(tmp_path).as_posix() for p in lo.extra_sources] for lo in cfg.loader_sources()}
    assert extras == {"memleak": ["16-memleak/trace_helpers.c"], "bio": ["17-bio/trace_helpers.c"],
                      "deeper": ["17-bio/trace_helpers.c"], "bootstrap": []}
    (tmp_path / "helpers").mkdir()
    (tmp_path / "helpers" / "h.c").write_text("int h;\n")
    cfg = config_from_table(tmp_path, {"loaders": ["*/*.c", "!helpers/**", "!*/trace_helpers.c"],
                                       "loader_sources": ["helpers/h.c"]})
    assert all([p.name for p in lo.extra_sources] == ["h.c"] for lo in cfg.loader_sources())


def test_the_compiler_setting_chooses_the_compiler_unless_bpf_clang_is_set(tmp_path):
    cfg = config_from_table(tmp_path, {"compiler": "clang-19"})
    assert cfg.compiler_environ({"PATH": "/bin"})["BPF_CLANG"] == "clang-19"
    assert cfg.compiler_environ({"BPF_CLANG": "zig"})["BPF_CLANG"] == "zig"
    assert "BPF_CLANG" not in config_from_table(tmp_path, {}).compiler_environ({"PATH": "/bin"})


def test_loader_cflags_reach_the_loader_compile(tmp_path):
    (tmp_path / "scx").mkdir()
    (tmp_path / "scx" / "scx.c").write_text("int main(void) { return 0; }\n")
    cfg = config_from_table(tmp_path, {"loaders": ["scx/*.c"], "loader_cflags": ["-Iscx/include", "-DX=1"]})
    (loader,) = cfg.loader_sources()
    argv = loader_argv(["cc"], loader, tmp_path / "build", [*loader.cflags], ["-lbpf"])
    assert argv.index("-Iscx/include") < argv.index(str(loader.source)) and "-DX=1" in argv


GCC_TCX = """\
50-tcx/tcx_demo.c: In function 'main':
50-tcx/tcx_demo.c:109:14: error: \u2018struct bpf_prog_query_opts\u2019 has no member named \u2018count\u2019
50-tcx/tcx_demo.c:113:44: error: \u2018BPF_TCX_INGRESS\u2019 undeclared (first use in this function)
50-tcx/tcx_demo.c:192:27: warning: implicit declaration of function \u2018bpf_program__attach_tcx\u2019
50-tcx/tcx_demo.c:203:17: error: invalid application of \u2018sizeof\u2019 to incomplete type \u2018struct bpf_tcx_opts\u2019
"""
CLANG_TOKEN = ("token.c:124:18: error: no member named 'bpf_token_path' in 'struct bpf_object_open_opts'\n")


def test_a_loader_written_for_a_newer_libbpf_is_told_apart_from_other_errors():
    assert newer_libbpf_api(GCC_TCX) == ["struct bpf_prog_query_opts", "BPF_TCX_INGRESS", "bpf_program__attach_tcx",
                                         "struct bpf_tcx_opts"]
    assert newer_libbpf_api(CLANG_TOKEN) == ["struct bpf_object_open_opts"]
    # the user's own names, a syntax error, or a libbpf name missing inside a skeleton bpfbuild wrote: real errors
    assert newer_libbpf_api("x.c:3:5: error: \u2018my_helper\u2019 undeclared (first use in this function)\n") is None
    assert newer_libbpf_api("x.c:3:5: error: expected \u2018;\u2019 before \u2018}\u2019 token\n") is None
    assert newer_libbpf_api("build/x.skel.h:40:9: error: implicit declaration of function "
                            "\u2018bpf_object__open_skeleton\u2019\n") is None
    assert newer_libbpf_api("/usr/bin/ld: x.c:184: undefined reference to `partitions__load'\n") is None


def test_an_older_clangs_backend_error_names_a_newer_clang_on_path(tmp_path):
    for name in ("clang-14", "clang-19"):
        exe = tmp_path / name
        exe.write_text("#!/bin/sh\n")
        exe.chmod(0o755)
    stderr = ("fatal error: error in backend: Cannot select: 0x1: i64 = sdiv 0x2, Constant:i64<2>, x.bpf.c:40:2\n"
              "clang: error: clang frontend command failed with exit code 70\n")
    (note,) = backend_error_hint(stderr, "hid/x.bpf.c", [str(tmp_path / "clang-14"), "-c"], str(tmp_path))
    assert note.startswith("hid/x.bpf.c: note: clang-14's BPF code generator cannot compile this program")
    assert 'compiler = "clang-19"' in note
    (note,) = backend_error_hint("xdp.bpf.c:78:7: error: use of undeclared identifier 'bool'\n", "xdp.bpf.c",
                                 [str(tmp_path / "clang-14"), "-std=gnu2x", "-c"], str(tmp_path))
    assert "-std=gnu2x bool is a keyword from clang 15 on" in note and 'compiler = "clang-19"' in note
    assert backend_error_hint("xdp.bpf.c:78:7: error: use of undeclared identifier 'bool'\n", "xdp.bpf.c",
                              [str(tmp_path / "clang-14"), "-c"], str(tmp_path)) == []
    (note,) = backend_error_hint(stderr, "x.bpf.c", [str(tmp_path / "clang-19")], str(tmp_path))
    assert "18 or later" in note
    assert backend_error_hint("x.bpf.c:1:1: error: use of undeclared identifier 'y'\n", "x.bpf.c", ["clang"],
                              str(tmp_path)) == []


# --- doit in a project ----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def lessons(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, subprocess.CompletedProcess[str]]:
    root = _project(tmp_path_factory.mktemp("lessons"), {
        "1-hello/xdp.bpf.c": XDP_COUNT % ("xdp", "hello"),
        "2-count/xdp.bpf.c": XDP_COUNT % ("xdp", "count"),
        "2-count/xdp.c": '#include "xdp.skel.h"\nint main(void) { struct xdp_bpf *s = 0; return s != 0; }\n',
        "3-kfunc/kfunc.bpf.c": MISSING_KFUNC,
        "4-core/core.bpf.c": CORE_LOCAL,
        "5-bloom/bloom.bpf.c": ULONG_MAP,
        "tools/victim.c": "int main(void) { return 0; }\n",
    }, '[tool.bpfbuild]\nsources = ["*/*.bpf.c"]\nloaders = ["*/*.c", "!**/*.bpf.c"]\n'
       '[tool.bpfbuild.programs.core]\nverify = "warn"\n'
       '[tool.bpfbuild.programs.bloom]\nskeleton = "bloomy"\n').root
    return root, _doit(root, "--continue")


def test_numbered_lessons_with_one_file_name_get_skeletons_a_c_compiler_accepts(lessons):
    root, res = lessons
    assert res.returncode == 0, res.stdout + res.stderr
    header = (root / "build" / "1-hello-xdp.skel.h").read_text()
    assert "struct _1_hello_xdp_bpf {" in header
    assert "struct xdp_bpf {" in (root / "build" / "skel" / "2-count-xdp" / "xdp.skel.h").read_text()
    assert (root / "build" / "2-count-xdp").exists() or "libbpf" in res.stdout   # its loader, where libbpf-dev is
    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is not None and os.path.exists("/usr/include/bpf/libbpf.h"):
        out = root / "check.o"
        check = subprocess.run([cc, "-c", "-x", "c", "-", "-I", str(root / "build"), "-o", str(out)],
                               input='#include "1-hello-xdp.skel.h"\nint f(void) { return _1_hello_xdp_bpf__open() != 0; }\n',
                               capture_output=True, text=True, check=False)
        assert check.returncode == 0, check.stderr


def test_a_kfunc_this_kernel_lacks_is_a_warning_and_the_skeleton_is_written(lessons):
    root, res = lessons
    assert "kfunc" not in " ".join(line for line in res.stdout.splitlines() if "TaskFailed" in line)
    assert "taskid:verify:kfunc" not in res.stdout + res.stderr
    assert "taskid:skel:kfunc" not in res.stdout + res.stderr
    assert (root / "build" / "kfunc.skel.h").exists()
    if os.access(VMLINUX_BTF, os.R_OK):
        assert ("build/kfunc.bpf.o: warning: extern (func ksym) 'bpfbuild_no_such_kfunc': not found in kernel or "
                "module BTFs: this kernel cannot load the object") in res.stdout


def test_a_map_extra_given_with_ulong_is_read_as_libbpf_reads_it(lessons):
    root, res = lessons
    from bpfbuild.obj.loader import load_object_file

    spec = load_object_file(root / "build" / "bloom.bpf.o")
    (bloom,) = [m for m in spec.maps if m.name == "bloom"]
    assert bloom.map_extra == 5
    assert "taskid:verify:bloom" not in res.stdout + res.stderr


def test_a_skeleton_named_as_bpftool_gen_skeleton_name_would(lessons, tmp_path):
    root, res = lessons
    assert "struct bloomy {" in (root / "build" / "bloom.skel.h").read_text()
    from bpfbuild.errors import ConfigError

    with pytest.raises(ConfigError, match="skeleton must be a C identifier"):
        config_from_table(tmp_path, {"programs": {"x": {"skeleton": "scx-simple"}}})


def test_a_loader_including_no_skeleton_waits_for_none(lessons):
    root, res = lessons
    listing = _doit(root, "info", "--no-status", "loader:victim")
    assert listing.returncode == 0, listing.stderr
    assert "task_dep" not in listing.stdout or "skel" not in listing.stdout.split("task_dep", 1)[1].split("\n")[0]
    assert "UnmetDependency - taskid:loader:victim" not in res.stdout + res.stderr


def test_a_failed_core_relocation_is_explained_after_the_kernels_message(lessons):
    root, res = lessons
    if not os.access(VMLINUX_BTF, os.R_OK):
        pytest.skip(f"no {VMLINUX_BTF}: CO-RE relocations are left as compiled")
    lines = res.stdout.splitlines()
    error = next(i for i, line in enumerate(lines) if "failed to resolve CO-RE relocation <byte_off>" in line)
    note = next(line for line in lines[error:] if "libbpf's mark for a CO-RE relocation" in line)
    assert note.startswith("4-core/core.bpf.c:") and "bpfbuild_user_data" in note and VMLINUX_BTF in note


def test_a_tool_whose_parts_include_the_skeletons_waits_for_them(tmp_path):
    from bpfbuild.config import LoaderSource
    from bpfbuild.tasks.loaders import _skeletons_included

    (tmp_path / "bench").mkdir()
    (tmp_path / "bench" / "bench.c").write_text('#include "bench.h"\nint main(void) { return 0; }\n')
    (tmp_path / "bench" / "bench.h").write_text('#include "xdp_redirect.skel.h"\n')
    (tmp_path / "bench" / "basic.c").write_text('#include "xdp_basic.skel.h"\n')
    loader = LoaderSource("bench", tmp_path / "bench" / "bench.c", tmp_path / "build" / "bench",
                          tmp_path / "build" / "bench.loader.d", extra_sources=(tmp_path / "bench" / "basic.c",))
    assert _skeletons_included(loader) == ["xdp_redirect", "xdp_basic"]
