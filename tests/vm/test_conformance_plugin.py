"""`bpfbuild conformance-plugin` (bpfbuild/cli/run.py), the bpf_conformance plugin protocol:
MEM_HEX as the first argument, the program as hex bytes on stdin, r0 in hex on stdout."""

from __future__ import annotations

import subprocess
import sys

from bpfbuild.isa import assemble, encode


def plugin(program: str, *args: str) -> subprocess.CompletedProcess[str]:
    code = encode(assemble(program))
    stdin = " ".join(f"{b:02x}" for b in code)
    return subprocess.run([sys.executable, "-m", "bpfbuild", "conformance-plugin", *args], input=stdin,
                          capture_output=True, text=True, timeout=60, check=False)


def test_prints_r0_in_hex() -> None:
    res = plugin("r0 = -1\nexit")
    assert res.returncode == 0 and res.stdout == "ffffffffffffffff\n"


def test_memory_comes_first_in_the_runner_format() -> None:
    res = plugin("r0 = *(u16 *)(r1 + 1)\nr0 += r2\nexit", "00  11  22  33 ")
    assert res.returncode == 0 and res.stdout == f"{0x2211 + 4:x}\n"


def test_a_fault_is_a_nonzero_exit_with_one_line_on_stderr() -> None:
    res = plugin("r0 = *(u8 *)(r1 + 0)\nexit")
    assert res.returncode == 1 and res.stdout == ""
    assert "invalid read of 1 byte" in res.stderr and res.stderr.count("\n") == 1


def test_elf_input_is_refused() -> None:
    res = plugin("exit", "--elf")
    assert res.returncode == 1 and "ELF" in res.stderr
