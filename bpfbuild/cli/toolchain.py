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
    compiler = discover(config.compiler_environ(), cache_file=config.build_dir / ".toolchain.json")
    bundled = os.environ.get("BPFBUILD_HEADERS", "auto") == "bundled"
    includes = include_set(compiler, config.build_dir / "include", bundled=bundled)
    s = config.defaults
    example = compile_argv(compiler, config.source_dir / "NAME.bpf.c", config.build_dir / "NAME.bpf.o",
                           include_flags=includes.flags, cflags=s.cflags, defines=s.defines,
                           include_dirs=s.include_dirs, mcpu=s.mcpu,
                           depfile=config.build_dir / "NAME.d", target_arch=config.target_arch,
                           launcher=config.compiler_launcher)
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
        "target_kernels": [{"name": t, "meaning": _target_meaning(t, root)} for t in config.target_kernels],
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
    if not config.target_kernels:
        print("target kernels: none configured ([tool.bpfbuild] target_kernels = [\"5.15\", \"running\", ...]); "
              "`doit verify` applies the Linux 6.18 verifier's rules only")
    else:
        print("target kernels: (`doit verify` and the summary check every object against each)")
        for item in data["target_kernels"]:  # type: ignore[attr-defined]
            print(f"  {item['name']:<14} {item['meaning']}")
    return 0


def _target_meaning(name: str, root: Path) -> str:
    """What a configured target kernel stands for, in one line."""
    if name == "running":
        return (f"this machine's kernel (Linux {os.uname().release}), probed with bpf() when checked "
                "(`bpfbuild probe`; needs root or CAP_BPF)")
    if name.endswith(".json"):
        from bpfbuild.errors import BpfBuildError
        from bpfbuild.kernel.probe import load_probe

        try:
            probe = load_probe(root / name)
        except BpfBuildError as exc:
            return f"a saved probe, unusable: {exc}"
        return (f"a saved probe: Linux {probe.release} ({probe.machine}), cpu v{probe.isa}, "
                f"{len(probe.all_helpers())} helpers, {sum(v.ok for v in probe.map_types.values())} map types, "
                f"{len(probe.kfuncs)} kfuncs")
    return (f"mainline Linux {name}: the helpers, map and program types and instruction features it added "
            "by then (bpfbuild.abi.kversions); backports of distribution kernels are not known")
