"""``bpfbuild toolchain``: which compiler bpfbuild uses, why, and the exact command line."""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

__all__ = ["register"]


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("toolchain", help="show the compiler chosen, why, its version, flags and include dirs",
                       description="Show the BPF compiler bpfbuild chose for this project (order: $BPF_CLANG, "
                       "clang on PATH with the bpf target, the ziglang package), why, its version, and the "
                       "exact compile command with include dirs.")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.add_argument("-C", "--project", default=".", metavar="DIR", help="project root (default: .)")
    p.set_defaults(handler=_cmd)


def _cmd(args: argparse.Namespace) -> int:
    from bpfbuild.config import load_config
    from bpfbuild.toolchain.discover import discover, include_set
    from bpfbuild.toolchain.flags import compile_argv

    root = Path(args.project)
    config = load_config(root)
    compiler = discover(cache_file=config.build_dir / ".toolchain.json")
    bundled = os.environ.get("BPFBUILD_HEADERS", "auto") == "bundled"
    includes = include_set(compiler, config.build_dir / "include", bundled=bundled)
    s = config.defaults
    example = compile_argv(compiler, config.source_dir / "NAME.bpf.c", config.build_dir / "NAME.bpf.o",
                           include_flags=includes.flags, cflags=s.cflags, defines=s.defines,
                           include_dirs=s.include_dirs, mcpu=s.mcpu,
                           depfile=config.build_dir / "NAME.d")
    data = {
        "kind": compiler.kind.value,
        "path": compiler.path,
        "version": compiler.version,
        "reason": compiler.reason,
        "target": compiler.target,
        "mcpu": s.mcpu or compiler.default_mcpu,
        "include_flags": list(includes.flags),
        "libbpf_headers": includes.libbpf,
        "uapi_header": includes.uapi_header,
        "command": example,
    }
    if args.json:
        print(json.dumps(data, indent=2))
        return 0
    print(f"compiler:  {compiler.path}")
    print(f"kind:      {compiler.kind.value}")
    print(f"version:   {compiler.version}")
    print(f"why:       {compiler.reason}")
    print(f"target:    {compiler.target}" + (f"  (-mcpu={data['mcpu']})" if data["mcpu"] else ""))
    print(f"libbpf headers: {'system' if includes.libbpf == 'system' else 'bpfbuild bundled set'}")
    print(f"linux/bpf.h:    {includes.uapi_header or 'not found'}")
    print("include flags:  " + (" ".join(includes.flags) or "(none)"))
    print("command:        " + " ".join(example))
    return 0
