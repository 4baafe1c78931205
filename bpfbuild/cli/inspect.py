"""``bpfbuild show``, ``dump`` and ``maps``: look inside an object without readelf/llvm-objdump/bpftool."""

from __future__ import annotations

import argparse
import json
from typing import Any

__all__ = ["register"]


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("show", help="programs, maps, tags and ELF summary of an object",
                       description="Per program: name, type, section, instructions, bytes_xlated, tag (as the "
                       "kernel computes it), license, maps used; per object: ELF header essentials, BTF, sections.")
    p.add_argument("object", metavar="OBJ")
    p.add_argument("--tag-hash", choices=["sha1", "sha256"],
                   help="tag algorithm (default: the running kernel's; sha256 since Linux 6.18)")
    p.add_argument("--sections", action="store_true", help="also list every ELF section")
    p.add_argument("--json", action="store_true", help="print JSON")
    _target_args(p)
    p.set_defaults(handler=_show)

    p = sub.add_parser("dump", help="disassemble (llvm-objdump -d/-S style, or bpftool xlated style)",
                       description="Disassemble an object: llvm-objdump -d layout by default; --source "
                       "interleaves source lines (BTF line info); --xlated shows each program as it is loaded "
                       "(subprograms appended, maps and helpers by name), like bpftool prog dump xlated.")
    p.add_argument("object", metavar="OBJ")
    p.add_argument("program", metavar="PROG", nargs="?", help="only this program")
    p.add_argument("-S", "--source", action="store_true", help="interleave source lines")
    p.add_argument("--xlated", action="store_true", help="programs as loaded, bpftool style")
    p.add_argument("--raw", action="store_true", help="instructions only, one per line (assembles back)")
    p.add_argument("--json", action="store_true", help="print JSON")
    _target_args(p)
    p.set_defaults(handler=_dump)

    p = sub.add_parser("maps", help="maps of an object (like bpftool map list), --dump NAME for contents",
                       description="List the maps an object defines (BTF .maps, legacy maps, global data as "
                       "libbpf names them), or with --dump NAME the initial contents typed by BTF.")
    p.add_argument("object", metavar="OBJ")
    p.add_argument("--dump", metavar="NAME", help="show the initial contents of map NAME")
    p.add_argument("--json", action="store_true", help="print JSON")
    _target_args(p)
    p.set_defaults(handler=_maps)


def _target_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--target", metavar="TARGET",
                   help="kernel to resolve externs and CO-RE against: running (default), default, a kernel "
                   "version (5.15), or a saved `bpfbuild probe --json` file")
    p.add_argument("--btf", metavar="FILE", help="target BTF file to use instead of the target's own")


def _load(path: str, args: argparse.Namespace | None = None) -> Any:
    from bpfbuild.abi.target import Target
    from bpfbuild.obj.loader import load_object_file

    target = None
    if args is not None and (getattr(args, "target", None) or getattr(args, "btf", None)):
        target = Target.resolve(args.target, btf_path=args.btf)
        args.resolved_target = target
    return load_object_file(path, target=target)


def _prog_record(spec: Any, prog: Any, algorithm: str) -> dict[str, Any]:
    from bpfbuild.obj.tag import program_tag

    info = prog.section_info
    return {
        "name": prog.name,
        "type": info.prog_type.name.lower() if info else "unknown",
        "section": prog.section,
        "attach": info.attach_target if info else None,
        "insns": len(prog.insns),
        "slots": prog.slot_count,
        "bytes_xlated": prog.bytes_xlated,
        "tag": program_tag(prog.insns, algorithm),
        "tag_hash": algorithm,
        "license": prog.license,
        "gpl_compatible": prog.gpl_compatible,
        "maps": sorted({spec.maps[i].name for _, i in prog.map_refs if 0 <= i < len(spec.maps)}),
    }


def _show(args: argparse.Namespace) -> int:
    from bpfbuild.obj.tag import kernel_tag_hash

    spec = _load(args.object, args)
    target = getattr(args, "resolved_target", None)   # a chosen target's kernel decides the tag hash
    algorithm = args.tag_hash or kernel_tag_hash(target.version_label if target is not None else None)
    h = spec.header
    btf = next((s for s in spec.sections if s.name == ".BTF"), None)
    ext = next((s for s in spec.sections if s.name == ".BTF.ext"), None)
    data = {
        "file": args.object,
        "elf": {"class": h.elf_class, "data": h.data, "type": h.type, "machine": h.machine,
                "machine_id": h.machine_id, "osabi": h.osabi, "flags": h.flags, "sections": h.section_count},
        "btf": {"present": btf is not None, "size": btf.size if btf else 0, "ext_size": ext.size if ext else 0,
                "types": len(spec.btf) if spec.btf is not None else 0},
        "license": spec.license,
        "gpl_compatible": spec.gpl_compatible,
        "programs": [_prog_record(spec, p, algorithm) for p in spec.programs],
        "maps": [m.name for m in spec.maps],
        "target": spec.target,
        "externs": [{"name": e.name, "kind": str(e.kind), "kfunc": e.is_func, "weak": e.weak,
                     "value": e.value_text, "source": e.source, "target_btf_id": e.target_btf_id}
                    for e in spec.externs],
        "core": None if spec.core is None else {
            "btf": spec.core.btf, "applied": spec.core.applied, "poisoned": spec.core.poisoned,
            "unapplied": spec.core.unapplied,
            "relocations": [{"section": r.section, "insn": r.slot, "kind": r.kind, "type": r.type_name,
                             "access": r.access, "old": r.old, "new": r.new, "poisoned": r.poisoned}
                            for r in spec.core.results]},
        "sections": [{"index": s.index, "name": s.name, "type": s.type, "size": s.size, "flags": s.flags}
                     for s in spec.sections],
    }
    if args.json:
        print(json.dumps(data, indent=2))
        return 0
    print(f"{args.object}: {h.elf_class} {h.type}, {h.machine} (EM {h.machine_id}), {h.data}, "
          f"{h.section_count} sections")
    if btf is not None:
        print(f"btf: {btf.size} bytes, {data['btf']['types']} types" + (f"; .BTF.ext {ext.size} bytes" if ext else ""))
    else:
        print("btf: none (compile with -g for BTF-defined maps, line info and skeletons)")
    print(f"license: {spec.license or '(none)'}" + (" (GPL-compatible)" if spec.gpl_compatible else ""))
    for rec in data["programs"]:
        attach = f"  attach {rec['attach']}" if rec["attach"] else ""
        gpl = "  gpl" if rec["gpl_compatible"] else ""
        print(f"{rec['name']}: {rec['type']}  section {rec['section']}{attach}  tag {rec['tag']}{gpl}")
        maps = ",".join(rec["maps"]) or "-"
        print(f"\txlated {rec['bytes_xlated']}B  insns {rec['slots']}  maps {maps}")
    if spec.maps:
        print("maps: " + ", ".join(f"{m.name} ({m.type_name})" for m in spec.maps))
    if spec.core is not None and spec.core.btf is None:
        print(f"core: {spec.core.unapplied} relocations not applied (the target has no BTF: compiled offsets kept)")
    elif spec.core is not None:
        poisoned = f", {spec.core.poisoned} poisoned (unresolvable)" if spec.core.poisoned else ""
        print(f"core: {spec.core.applied} relocations applied against {spec.core.btf}{poisoned}")
    if spec.externs:
        print(f"externs ({spec.target}):")
        for e in spec.externs:
            what = "kfunc" if e.is_func else str(e.kind)
            weak = " __weak" if e.weak else ""
            print(f"  {e.name:28s} {what:8s} = {e.value_text}  ({e.source}){weak}")
    if args.sections:
        print("sections:")
        for s in spec.sections:
            print(f"  [{s.index:2d}] {s.name:24s} {s.type:14s} size {s.size:<7d} flags {s.flags:#x}")
    return 0


def _dump(args: argparse.Namespace) -> int:
    from bpfbuild.errors import BpfBuildError
    from bpfbuild.isa.syntax import format_insn
    from bpfbuild.obj.dump import objdump_text, xlated_listing, xlated_text

    spec = _load(args.object, args)
    programs = spec.programs
    if args.program is not None:
        try:
            programs = (spec.program(args.program),)
        except BpfBuildError as exc:
            raise exc.with_file(args.object) from None
    if args.json:
        out = []
        for prog in programs:
            rows = []
            for row in xlated_listing(spec, prog):
                src = prog.line_at(row.pc)
                rows.append({"pc": row.pc, "opcode": f"{row.opcode:#04x}", "text": row.text, "raw": row.raw.hex(),
                             "source": None if src is None else {
                                 "file": src.location.file, "line": src.location.line,
                                 "column": src.location.column, "text": src.line_text.strip()}})
            out.append({"name": prog.name, "section": prog.section, "insns": rows})
        print(json.dumps(out, indent=2))
        return 0
    if args.raw:
        for prog in programs:
            if len(programs) > 1:
                print(f"; {prog.name}")
            for insn in prog.insns:
                print(format_insn(insn))
        return 0
    if args.xlated:
        # as the kernel keeps it after a privileged load: the verifier's rewrites applied
        from bpfbuild.verifier.fixups import xlated

        texts = []
        for p in programs:
            x = xlated(spec, p, target=getattr(args, "resolved_target", None))
            texts.append(xlated_text(xlated_listing(spec, x.program, call_names=x.call_names)))
        print("\n\n".join(texts))
        return 0
    print(objdump_text(spec, source=args.source, program=args.program, file_label=args.object), end="")
    return 0


def _map_record(index: int, m: Any) -> dict[str, Any]:
    return {"index": index, "name": m.name, "type": m.type_name, "key": m.key_size, "value": m.value_size,
            "max_entries": m.max_entries, "flags": m.flags, "section": m.section,
            "pinning": m.pinning, "inner": m.inner.name if m.inner else None}


def _maps(args: argparse.Namespace) -> int:
    from bpfbuild.errors import BpfBuildError

    spec = _load(args.object, args)
    if args.dump is None:
        records = [_map_record(i, m) for i, m in enumerate(spec.maps)]
        if args.json:
            print(json.dumps(records, indent=2))
            return 0
        for r in records:
            print(f"{r['index']}: {r['type']}  name {r['name']}  flags {r['flags']:#x}")
            print(f"\tkey {r['key']}B  value {r['value']}B  max_entries {r['max_entries']}"
                  + (f"  inner {r['inner']}" if r["inner"] else ""))
        return 0
    try:
        m = spec.map(args.dump)
    except BpfBuildError as exc:
        raise exc.with_file(args.object) from None
    entries = _initial_entries(spec, m)
    if args.json:
        print(json.dumps(entries, indent=4))
        return 0
    if not entries:
        print(f"{m.name}: no initial contents (a {m.type_name} map starts empty)")
        return 0
    for e in entries:
        print("key: " + " ".join(e["key"]) + "  value: " + " ".join(e["value"]))
        if "formatted" in e:
            print(json.dumps(e["formatted"], indent=4))
    return 0


def _initial_entries(spec: Any, m: Any) -> list[dict[str, Any]]:
    """What `bpftool map dump` shows right after load: global data with its initial bytes."""
    if m.initial is None:
        return []
    entry: dict[str, Any] = {"key": [f"0x{b:02x}" for b in bytes(m.key_size)],
                             "value": [f"0x{b:02x}" for b in m.initial]}
    if spec.btf is not None and m.variables:
        from bpfbuild.btf.value import btf_value

        values = []
        for v in m.variables:
            values.append({v.name: btf_value(spec.btf, v.type_id, m.initial[v.offset:v.offset + v.size])
                           if v.type_id else m.initial[v.offset:v.offset + v.size].hex()})
        entry["formatted"] = {"value": {m.section: values}}
    return [entry]
