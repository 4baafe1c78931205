"""``bpfbuild skel`` (skeletons for loaders) and ``bpfbuild btf dump`` (BTF as C or raw text)."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from bpfbuild.errors import BpfBuildError

__all__ = ["register"]


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("skel", help="generate a loader skeleton (C header like bpftool gen skeleton, or Python)",
                       description="Generate the skeleton of an object: a C header with the API `bpftool gen "
                       "skeleton` writes (<name>__open_and_load, skel->bss->var, ...), or a Python module with "
                       "the same shape on top of bpfbuild.kernel.  Written to stdout unless -o is given.")
    p.add_argument("object", metavar="OBJ")
    p.add_argument("--name", metavar="N", help="skeleton name (default: from the file name, hello.bpf.o -> hello_bpf)")
    p.add_argument("-o", "--output", metavar="FILE", help="write to FILE (atomically) instead of stdout")
    p.add_argument("--lang", choices=["c", "python"], default="c", help="c (default) or python")
    p.set_defaults(handler=_skel)

    p = sub.add_parser("btf", help="BTF of an object or of the kernel: dump as C (vmlinux.h) or raw",
                       description="Work with BTF (an object's .BTF section or raw BTF such as "
                       "/sys/kernel/btf/vmlinux).")
    btf_sub = p.add_subparsers(dest="btf_command", metavar="COMMAND", parser_class=type(p))
    d = btf_sub.add_parser("dump", help="print the types: --format c (a header clang compiles) or raw",
                           description="Print every type: `--format c` gives a header (vmlinux.h from "
                           "/sys/kernel/btf/vmlinux) with CO-RE preserve_access_index; `--format raw` one "
                           "record per type as bpftool btf dump prints them.")
    d.add_argument("file", metavar="FILE", help="raw BTF or an ELF object")
    d.add_argument("--format", choices=["c", "raw"], default="raw", help="raw (default) or c")
    d.add_argument("-o", "--output", metavar="FILE", help="write to FILE (atomically) instead of stdout")
    d.set_defaults(handler=_btf_dump)
    p.set_defaults(handler=lambda args: _usage(p))


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help(sys.stderr)
    return 2


def _emit(text: str, output: str | None) -> None:
    if output is None:
        sys.stdout.write(text)
        return
    out = Path(output)
    tmp = out.with_name(out.name + ".tmp")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_text(text)
        os.replace(tmp, out)
    except OSError as exc:
        raise BpfBuildError(f"cannot write: {exc.strerror or exc}", file=output) from exc


def _skel(args: argparse.Namespace) -> int:
    from bpfbuild.skel.generate import Lang, generate

    try:
        text = generate(args.object, name=args.name, lang=Lang(args.lang))
    except BpfBuildError as exc:
        raise exc.with_file(args.object) from None
    _emit(text, args.output)
    return 0


def _btf_dump(args: argparse.Namespace) -> int:
    from bpfbuild.skel.btfdump import c_dump, load_btf, raw_dump

    spec = load_btf(args.file)
    text = c_dump(spec, source=args.file) if args.format == "c" else raw_dump(spec)
    _emit(text, args.output)
    return 0
