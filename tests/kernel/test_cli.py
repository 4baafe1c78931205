"""The bpftool-shaped commands, compared with bpftool on the same loaded program."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from bpfbuild.kernel import ObjKind, open_by_id

from .conftest import REPO

Cli = Callable[..., tuple[int, str, str]]
pytestmark = pytest.mark.kernel

SHOW_KEYS = ("id", "type", "name", "tag", "gpl_compatible", "uid", "bytes_xlated", "jited", "bytes_jited",
             "bytes_memlock", "map_ids", "btf_id")


def bpftool_out(bpftool: str, *args: str) -> str:
    return subprocess.run([bpftool, *args], capture_output=True, text=True, check=True).stdout


def squeeze(text: str) -> list[str]:
    """Listing lines with all whitespace removed (bpftool writes ``(r6 +0)``, we ``(r6 + 0)``)."""
    return ["".join(line.split()) for line in text.splitlines() if line.strip()]


@pytest.fixture
def loaded(objects: dict[str, Path], pin_dir: Path, cli: Cli) -> Path:
    pin = pin_dir / "hello"
    code, out, err = cli("load", str(objects["hello"]), str(pin))
    assert (code, out, err) == (0, "", "")
    assert pin.exists()
    return pin


def test_prog_show_json_equals_bpftool(loaded: Path, cli: Cli, bpftool: str) -> None:
    code, out, _ = cli("prog", "show", "pinned", str(loaded), "--json")
    ours = json.loads(out)
    ref = json.loads(bpftool_out(bpftool, "prog", "show", "pinned", str(loaded), "--json"))
    assert code == 0
    assert {k: ours[k] for k in SHOW_KEYS} == {k: ref[k] for k in SHOW_KEYS}
    assert abs(ours["loaded_at"] - ref["loaded_at"]) <= 1
    assert list(ours) == [k for k in ref if k in ours]        # same keys, same order


def test_prog_show_text_equals_bpftool(loaded: Path, cli: Cli, bpftool: str) -> None:
    code, out, _ = cli("prog", "show", "pinned", str(loaded))
    ref = bpftool_out(bpftool, "prog", "show", "pinned", str(loaded))
    strip_time = re.compile(r"loaded_at \S+")
    assert code == 0
    assert strip_time.sub("loaded_at T", out) == strip_time.sub("loaded_at T", ref)


def test_prog_show_by_id_and_tag_and_in_list(loaded: Path, cli: Cli) -> None:
    _, out, _ = cli("prog", "show", "pinned", str(loaded), "-j")
    rec = json.loads(out)
    for selector in (["id", str(rec["id"])], ["tag", rec["tag"]]):
        code, out, _ = cli("prog", "show", *selector, "--json")
        found = json.loads(out)
        found = found if isinstance(found, list) else [found]
        assert code == 0 and rec["id"] in [p["id"] for p in found]
    code, out, _ = cli("prog", "list", "--json")
    assert rec["id"] in [p["id"] for p in json.loads(out)]
    code, out, _ = cli("prog", "show", "--bpffs", "id", str(rec["id"]))
    assert f"\tpinned {loaded}\n" in out


def test_dump_xlated_lists_the_same_instructions_as_bpftool(loaded: Path, cli: Cli, bpftool: str) -> None:
    code, out, _ = cli("prog", "dump", "xlated", "pinned", str(loaded))
    ref = bpftool_out(bpftool, "prog", "dump", "xlated", "pinned", str(loaded))
    assert code == 0
    assert squeeze(out) == squeeze(ref)
    insns = [line for line in out.splitlines() if re.match(r"^\s*\d+: \(", line)]
    assert len(insns) == 10                                  # 12 slots: two are ld_imm64 pairs
    assert re.search(r"^   0: \(18\) r6 = map\[id:\d+\]\[0\]\+0$", out, re.MULTILINE)
    assert re.search(r"^   6: \(85\) call bpf_trace_printk#-?\d+$", out, re.MULTILINE)
    assert "; bpf_printk(\"Hello World %d\", counter);" in out
    for option in ("linum", "opcodes"):           # bpftool 7.1 takes one of them at a time
        code, out, _ = cli("prog", "dump", "xlated", "pinned", str(loaded), option)
        ref = bpftool_out(bpftool, "prog", "dump", "xlated", "pinned", str(loaded), option)
        assert squeeze(out) == squeeze(ref), option


def test_dump_xlated_by_name(loaded: Path, cli: Cli, bpftool: str) -> None:
    _, out, _ = cli("prog", "show", "pinned", str(loaded), "-j")
    prog_id = json.loads(out)["id"]
    code, out, _ = cli("prog", "dump", "xlated", "name", "hello")
    ref = bpftool_out(bpftool, "prog", "dump", "xlated", "id", str(prog_id))
    assert code == 0
    joined = "\n".join(squeeze(out))
    assert "\n".join(squeeze(ref)) in joined                 # other programs called hello may be listed too


def test_dump_xlated_json_keys(loaded: Path, cli: Cli, bpftool: str) -> None:
    code, out, _ = cli("prog", "dump", "xlated", "pinned", str(loaded), "--json")
    assert code == 0
    ours = json.loads(out)
    ref = json.loads(bpftool_out(bpftool, "--json", "prog", "dump", "xlated", "pinned", str(loaded)))
    assert [sorted(r) for r in ours] == [sorted(r) for r in ref]
    assert ["".join(r["disasm"].split()) for r in ours] == ["".join(r["disasm"].split()) for r in ref]
    assert [r.get("src") for r in ours] == [r.get("src") for r in ref]


def test_map_dump_shows_the_format_string(loaded: Path, cli: Cli, bpftool: str) -> None:
    code, out, _ = cli("map", "dump", "name", "hello.rodata")
    assert code == 0
    assert '"hello.____fmt": "Hello World %d"' in out
    _, out, _ = cli("prog", "show", "pinned", str(loaded), "-j")
    rodata_id = json.loads(out)["map_ids"][1]
    code, out, _ = cli("map", "dump", "id", str(rodata_id), "--json")
    assert json.loads(out) == json.loads(bpftool_out(bpftool, "--json", "map", "dump", "id", str(rodata_id)))
    code, out, _ = cli("map", "dump", "id", str(rodata_id))
    assert json.loads(out) == json.loads(bpftool_out(bpftool, "map", "dump", "id", str(rodata_id)))


def test_map_show_equals_bpftool(loaded: Path, cli: Cli, bpftool: str) -> None:
    _, out, _ = cli("prog", "show", "pinned", str(loaded), "-j")
    for map_id in json.loads(out)["map_ids"]:
        code, out, _ = cli("map", "show", "id", str(map_id), "--json")
        assert json.loads(out) == json.loads(bpftool_out(bpftool, "--json", "map", "show", "id", str(map_id)))
        code, out, _ = cli("map", "show", "id", str(map_id))
        assert out == bpftool_out(bpftool, "map", "show", "id", str(map_id))
    code, out, _ = cli("map", "list", "-p")
    assert code == 0 and isinstance(json.loads(out), list)


def _gone(prog_id: int, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        fd = open_by_id(ObjKind.PROG, prog_id)
        if fd is None:
            return True
        fd.close()
        time.sleep(0.05)
    return False


def test_unload_removes_the_pin_and_the_program_goes(loaded: Path, cli: Cli) -> None:
    _, out, _ = cli("prog", "show", "pinned", str(loaded), "-j")
    prog_id = json.loads(out)["id"]
    assert cli("unload", str(loaded)) == (0, "", "")
    assert not loaded.exists()
    assert _gone(prog_id)
    code, _, err = cli("unload", str(loaded))
    assert code == 2 and err.count("\n") == 1 and "no such pin" in err


def test_load_all_pins_every_program_and_maps(objects: dict[str, Path], pin_dir: Path, cli: Cli) -> None:
    code, _, err = cli("load", str(objects["hello-func"]), "--all", str(pin_dir / "progs"),
                       "--pinmaps", str(pin_dir / "maps"))
    assert (code, err) == (0, "")
    assert sorted(p.name for p in (pin_dir / "progs").iterdir()) == ["hello"]
    assert sorted(p.name for p in (pin_dir / "maps").iterdir()) == ["hello_fu_rodata"]
    assert cli("unload", str(pin_dir / "progs"), str(pin_dir / "maps"))[0] == 0
    assert list(pin_dir.iterdir()) == []


def test_rejected_program_prints_the_log_and_exits_1(objects: dict[str, Path], pin_dir: Path, cli: Cli) -> None:
    code, out, err = cli("load", str(objects["bad"]), str(pin_dir / "bad"))
    assert (code, out) == (1, "")
    assert "R0 invalid mem access 'map_value_or_null'" in err
    assert "processed" in err                                 # the whole verifier log
    assert err.splitlines()[-1].startswith(f"{objects['bad']}: prog 'bad': rejected by the kernel verifier")
    assert not (pin_dir / "bad").exists()


def test_usage_errors_are_one_line(cli: Cli, pin_dir: Path, objects: dict[str, Path]) -> None:
    for args in (["prog", "show", "color", "red"], ["prog", "show", "id", "999999999"],
                 ["map", "dump", "name", "no_such_map_x1"], ["load", str(objects["hello"])],
                 ["load", str(objects["hello"]), "/tmp/not-bpffs"]):
        code, out, err = cli(*args)
        assert code == 2, args
        assert out == "" and err.count("\n") == 1, (args, err)


def _unprivileged_python() -> str | None:
    """A Python 3.11+ that user nobody can run (pyenv shims under /root are not)."""
    for candidate in (sys.executable, "/usr/bin/python3"):
        res = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", candidate, "-c",
                              "import sys; assert sys.version_info >= (3, 11)"],
                             capture_output=True, check=False)
        if res.returncode == 0:
            return candidate
    return None


def test_without_root_one_line_and_exit_2(objects: dict[str, Path], tmp_path: Path) -> None:
    if os.geteuid() != 0 or shutil.which("setpriv") is None:
        pytest.skip("needs root and setpriv to drop privileges")
    python = _unprivileged_python()
    if python is None:
        pytest.skip("no Python user nobody can run")
    hidden = next((d for d in REPO.resolve().parents if not d.stat().st_mode & 0o001), None)
    if hidden is not None:
        pytest.skip(f"the checkout is under {hidden}, which user nobody cannot enter")
    obj = tmp_path / "hello.bpf.o"
    shutil.copy(objects["hello"], obj)
    tmp_path.chmod(0o755)
    obj.chmod(0o644)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    for args in (["prog", "list"], ["prog", "show", "name", "hello"], ["map", "dump", "name", "hello.rodata"],
                 ["load", str(obj), "/sys/fs/bpf/nobody_hello"], ["unload", "/sys/fs/bpf/x"]):
        res = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", python,
                              "-m", "bpfbuild", *args], capture_output=True, text=True, env=env, cwd="/", check=False)
        assert res.returncode == 2, (args, res.stderr)
        assert res.stdout == ""
        assert res.stderr.count("\n") == 1, res.stderr
        assert res.stderr.startswith("bpfbuild: not root: the bpf() syscall needs root or CAP_BPF")


def test_kernel_tag_equals_the_offline_tag(objects: dict[str, Path], loaded: Path, cli: Cli) -> None:
    _, out, _ = cli("prog", "show", "pinned", str(loaded), "--json")
    kernel = json.loads(out)
    code, out, _ = cli("show", str(objects["hello"]), "--json")
    if code != 0:
        pytest.skip("`bpfbuild show` is not available")
    (offline,) = [p for p in json.loads(out)["programs"] if p["name"] == "hello"]
    assert (offline["tag"], offline["bytes_xlated"]) == (kernel["tag"], kernel["bytes_xlated"])


def test_typed_map_dumps_equal_bpftool(objects: dict[str, Path], pin_dir: Path, cli: Cli, bpftool: str) -> None:
    import struct

    from bpfbuild.kernel import MapHandle, find_maps

    assert cli("load", str(objects["maps"]), str(pin_dir / "prog"), "--pinmaps", str(pin_dir / "maps"))[0] == 0
    (fd,) = find_maps("pinned", str(pin_dir / "maps" / "pairs"))
    with MapHandle(fd, own=True) as pairs:
        pairs.update(1, struct.pack("<IH6s", 5, 6, b"ab"))
        pairs.update(2, struct.pack("<IH6s", 7, 8, b"\x01\x02"))     # not a string: a list of numbers
    for name in ("pairs", "hits", "maps_rodata", "maps_bss"):
        pin = str(pin_dir / "maps" / name)
        code, out, _ = cli("map", "dump", "pinned", pin)
        assert code == 0
        assert json.loads(out) == json.loads(bpftool_out(bpftool, "map", "dump", "pinned", pin)), name
        code, out, _ = cli("map", "dump", "pinned", pin, "--json")
        assert json.loads(out) == json.loads(bpftool_out(bpftool, "--json", "map", "dump", "pinned", pin)), name
