"""The program tag, computed offline exactly as the kernel does (``bpf_prog_calc_tag``).

The kernel hashes the instructions as loaded, with the ``imm`` of a map ``ld_imm64`` (pseudo
source MAP_FD or MAP_VALUE) and of its second slot zeroed (so fds and value offsets do not
change the tag), and keeps the first 8 bytes of the digest.  Linux switched the hash from
SHA-1 to SHA-256 in 6.18 (measured here: the user's hello is ``d35b94b4c0c10efb`` with SHA-1,
``490c48c1179970a8`` on 6.18).
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Sequence

from bpfbuild.isa.codec import encode
from bpfbuild.isa.fields import PseudoLoad
from bpfbuild.isa.instruction import LD_IMM64_OPCODE, Instruction

__all__ = ["SHA256_SINCE", "kernel_tag_hash", "program_tag"]

#: First kernel version whose program tags are SHA-256.
SHA256_SINCE = (6, 18)


def kernel_tag_hash(release: str | None = None) -> str:
    """``sha256`` or ``sha1``: the algorithm of the running kernel (or of ``release``)."""
    release = os.uname().release if release is None else release
    m = re.match(r"(\d+)\.(\d+)", release)
    version = (int(m.group(1)), int(m.group(2))) if m else (0, 0)
    return "sha256" if version >= SHA256_SINCE else "sha1"


def program_tag(insns: Sequence[Instruction], algorithm: str | None = None) -> str:
    """The 16-hex-digit tag bpftool prints (``algorithm``: sha1, sha256, or the kernel's)."""
    algorithm = algorithm or kernel_tag_hash()
    if algorithm not in ("sha1", "sha256"):
        raise ValueError(f"unknown tag hash {algorithm!r} (sha1 or sha256)")
    masked = [
        Instruction(i.opcode, i.dst, i.src, i.off, 0, 0)
        if i.opcode == LD_IMM64_OPCODE and i.src in (PseudoLoad.MAP_FD, PseudoLoad.MAP_VALUE) else i
        for i in insns
    ]
    return hashlib.new(algorithm, encode(masked)).hexdigest()[:16]
