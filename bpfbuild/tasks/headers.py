"""Helper declarations for bpfbuild's own header set, generated from the kernel UAPI header.

Used only where libbpf's headers are absent (a machine with only Python): the list of helpers
and their prototypes come from the ``linux/bpf.h`` the compiler will include (system or the one
the ziglang package ships), so programs see exactly the helpers that header knows.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bpfbuild.errors import BpfBuildError, format_error

if TYPE_CHECKING:
    from doit.exceptions import TaskFailed

__all__ = ["TEMPLATE", "helper_defs_model", "write_helper_defs"]

TEMPLATE = Path(__file__).resolve().parent.parent / "skel" / "templates" / "bpf_helper_defs.h.j2"

# Kernel-internal types in the UAPI documentation -> what a BPF program passes.
_CONTEXT_TYPES = {
    "struct bpf_map": "void",
    "struct sk_buff": "struct __sk_buff",
    "struct xdp_buff": "struct xdp_md",
    "struct sk_msg_buff": "struct sk_msg_md",
    "struct bpf_sock_ops_kern": "struct bpf_sock_ops",
    "struct bpf_sock_addr_kern": "struct bpf_sock_addr",
    "struct bpf_sk_lookup_kern": "struct bpf_sk_lookup",
    "struct bpf_sysctl_kern": "struct bpf_sysctl",
    "struct sk_reuseport_kern": "struct sk_reuseport_md",
}
_INT_TYPES = {"u8": "__u8", "u16": "__u16", "u32": "__u32", "u64": "__u64",
              "s8": "__s8", "s16": "__s16", "s32": "__s32", "s64": "__s64", "size_t": "__u64"}
# Helpers the kernel's verifier treats as bpf_fastcall (it inlines the call and the caller's
# r1-r5 survive it), marked as libbpf marks them so clang >= 20 spills around them as it would
# with libbpf's header.
_FASTCALL = frozenset({"bpf_get_smp_processor_id"})
_WORD = re.compile(r"\b(u8|u16|u32|u64|s8|s16|s32|s64|size_t)\b")
_STRUCT = re.compile(r"\bstruct\s+(\w+)")


def _ctype(text: str) -> str:
    for kernel, user in _CONTEXT_TYPES.items():
        text = re.sub(rf"\b{kernel}\b", user, text)
    return _WORD.sub(lambda m: _INT_TYPES[m.group(1)], text)


def _join(ctype: str, name: str) -> str:
    if not name:
        return ctype
    return f"{ctype}{'' if ctype.endswith('*') else ' '}{name}"


def helper_defs_model(header_text: str, source: str) -> dict[str, Any]:
    from bpfbuild.abi.uapi import parse_helpers

    helpers = []
    structs: set[str] = set()
    for doc in parse_helpers(header_text):
        ret = _ctype(doc.ret_type)
        params = [_join(_ctype(p.ctype), p.name) for p in doc.params] or ["void"]
        if doc.other_prototypes and doc.params:
            # documented once per context type (bpf_sk_assign, bpf_get_socket_cookie): the
            # context is `void *ctx`, as in libbpf's declarations, so every program type may pass its own
            params[0] = "void *ctx"
        for text in [ret, *params]:
            structs.update(_STRUCT.findall(text))
        summary = (doc.description.split(". ")[0].split("\n")[0].strip().rstrip(".") or doc.name)
        helpers.append({"id": doc.id, "name": doc.name, "ret": ret if ret.endswith("*") else ret + " ",
                        "params": ", ".join(params), "fastcall": doc.name in _FASTCALL, "summary": summary.replace("*/", "* /")})
    if not helpers:
        raise BpfBuildError("no helper list found (not a linux/bpf.h?)", file=source)
    return {"source": source, "helpers": helpers, "structs": sorted(structs)}


def write_helper_defs(uapi_header: str, output: Path) -> TaskFailed | None:
    """The action of ``headers``: an unreadable or unusable header fails the task with one
    line (``file: what is wrong``), not a traceback."""
    from doit.exceptions import TaskFailed

    from bpfbuild.skel.render import render

    from bpfbuild.inputs import MAX_TEXT_BYTES, read_input

    try:
        text = read_input(uapi_header, limit=MAX_TEXT_BYTES).decode("utf-8", "replace")
        content = render("bpf_helper_defs.h.j2", **helper_defs_model(text, uapi_header))
    except BpfBuildError as exc:
        return TaskFailed(format_error(exc.with_file(uapi_header)))
    output.parent.mkdir(parents=True, exist_ok=True)
    tmp = output.with_name(output.name + ".tmp")
    tmp.write_text(content)
    os.replace(tmp, output)
    return None
