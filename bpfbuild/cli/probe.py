"""``bpfbuild probe``: the running kernel's BPF features (the ``running`` target)."""

from __future__ import annotations

import argparse
import json
import sys

__all__ = ["register"]


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("probe", help="list the running kernel's BPF features (program/map types, helpers, kfuncs, ISA)",
                       description="Ask the running kernel which program types, map types, helpers (per program "
                       "type), kfuncs, instruction set level and limits it offers, by loading tiny programs "
                       "(needs root or CAP_BPF). `--json > FILE` saves a target description that "
                       "`target_kernels = [\"FILE\"]` and `bpfbuild verify --kernel FILE` use on any machine.")
    p.add_argument("--json", action="store_true", help="print the full probe as JSON (a target description)")
    p.add_argument("--helpers", action="store_true", help="also list the helpers of each program type")
    p.add_argument("--kfuncs", action="store_true", help="also list the kfuncs")
    p.add_argument("--from", dest="source", metavar="FILE", help="show a saved probe instead of probing")
    p.set_defaults(handler=_cmd)


def _cmd(args: argparse.Namespace) -> int:
    from bpfbuild.kernel.probe import load_probe, probe_kernel, shown_config

    probe = load_probe(args.source) if args.source else probe_kernel()
    if args.json:
        json.dump(probe.to_json(), sys.stdout, indent=1, sort_keys=False)
        print()
        return 0
    out = [f"kernel:        Linux {probe.release} {probe.version} ({probe.machine})"]
    if probe.note:
        out.append(f"note:          {probe.note}")
    out.append(f"isa:           cpu v{probe.isa} (clang -mcpu=v{probe.isa} objects load)")
    lim = probe.limits
    out.append(f"limits:        processed insns {lim.get('processed_insns')}; "
               f"bounded loops {'yes' if lim.get('bounded_loops') else 'no'}; "
               f"programs over 4,096 insns {'yes' if lim.get('more_than_4096_insns') else 'no'}; "
               f"last helper id {lim.get('last_helper_id')}")
    for key, value in probe.sysctl.items():
        out.append(f"{key + ':':<40} {'unreadable' if value is None else value}")
    good = [k.lower() for k, v in probe.prog_types.items() if v.ok]
    bad = [f"{k.lower()} ({v.error})" for k, v in probe.prog_types.items() if not v.ok]
    out.append(f"program types: {len(good)}: {' '.join(good)}")
    if bad:
        out.append(f"  unavailable: {', '.join(bad)}")
    good = [k.lower() for k, v in probe.map_types.items() if v.ok]
    bad = [f"{k.lower()} ({v.error})" for k, v in probe.map_types.items() if not v.ok]
    out.append(f"map types:     {len(good)}: {' '.join(good)}")
    if bad:
        out.append(f"  unavailable: {', '.join(bad)}")
    known = probe.all_helpers()
    missing = sorted(set(probe.helper_ids) - known)
    out.append(f"helpers:       {len(known)} of the {len(probe.helper_ids)} bpfbuild knows are callable from "
               f"some program type" + (f"; no probed program type may call: {', '.join('bpf_' + m for m in missing)}" if missing else ""))
    for pt, names in probe.helpers.items():
        line = f"  {pt.lower():<24} {len(names)}"
        if args.helpers:
            line += ": " + " ".join(names)
        out.append(line)
    not_probed = [k.lower() for k, v in probe.prog_types.items() if v.ok and k not in probe.helpers]
    if not_probed:
        out.append(f"  not probed (need an attach target): {', '.join(not_probed)}")
    out.append(f"kfuncs:        {len(probe.kfuncs)} (functions of the kernel BTF tagged bpf_kfunc)"
               + (": " + " ".join(probe.kfuncs) if args.kfuncs else ""))
    config = shown_config(probe)
    out.append("config:        " + ("(no /proc/config.gz or /boot/config-RELEASE)" if not probe.config else ""))
    if probe.config:
        out.extend(f"  {k}={v}" for k, v in config.items())
    print("\n".join(out))
    return 0
