"""Kernel commands, shaped like bpftool's: ``load``, ``unload``, ``prog ...``, ``map ...``.

::

    bpfbuild load build/hello.bpf.o /sys/fs/bpf/hello      # bpftool prog load
    bpfbuild load build/hello.bpf.o --all /sys/fs/bpf/hello_all   # bpftool prog loadall
    bpfbuild prog list | show {id N|name X|tag T|pinned P} [--json [--pretty]]
    bpfbuild prog dump xlated {id N|name X|tag T|pinned P} [linum] [opcodes]
    bpfbuild map list | show ... | dump {id N|name X|pinned P}
    bpfbuild unload /sys/fs/bpf/hello                       # rm the pin

They need root (or CAP_BPF): otherwise one line and exit 2.  A program the kernel's
verifier rejects prints the verifier log and exits 1.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bpfbuild.kernel.fd import Fd

__all__ = ["register"]

_SELECT_PROG = ("id", "name", "tag", "pinned")
_SELECT_MAP = ("id", "name", "pinned")
_DUMP_WORDS = ("linum", "opcodes")


def _json_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("-j", "--json", action="store_true", help="JSON output (bpftool's keys)")
    p.add_argument("-p", "--pretty", action="store_true", help="indented JSON (implies --json)")


def _bpffs_flag(p: argparse.ArgumentParser) -> None:
    p.add_argument("-f", "--bpffs", action="store_true", help="also show the pin paths (walks bpffs)")


def register(sub: Any) -> None:
    p = sub.add_parser("load", help="load an object into the kernel and pin its program (bpftool prog load)",
                       description="Load OBJ through libbpf and pin its first program at PATH, or every "
                       "program under DIR with --all (as bpftool prog loadall).")
    p.add_argument("object", metavar="OBJ", help="the .bpf.o to load")
    p.add_argument("path", metavar="PATH", nargs="?", help="bpffs path to pin the (first) program at")
    p.add_argument("--all", metavar="DIR", dest="all_dir", help="pin every program as DIR/<name>")
    p.add_argument("--prog", metavar="NAME", help="the program to pin at PATH (default: the first)")
    p.add_argument("--pinmaps", metavar="DIR", help="also pin every map as DIR/<map name, '.' -> '_'>")
    p.add_argument("--type", metavar="TYPE", dest="prog_type",
                   help="program type for sections libbpf cannot type (a section name: xdp, tc, kprobe...; "
                        "bpftool's 'type'); [tool.bpfbuild.programs.<name>] type in a project")
    p.add_argument("--attach", metavar="TARGET", help="attach target with --type (a kprobe's function...)")
    p.add_argument("--log-level", type=int, default=0, metavar="N",
                   help="verifier log level (1 instructions, 2 states, 4 stats); printed to stderr")
    _json_flags(p)
    p.set_defaults(handler=_cmd_load)

    p = sub.add_parser("unload", help="remove pins (the program goes when its last reference does)",
                       description="Remove pinned programs or maps (a directory: every pin in it).")
    p.add_argument("pins", metavar="PIN", nargs="+", help="bpffs path(s) to remove")
    _json_flags(p)
    p.set_defaults(handler=_cmd_unload)

    prog = sub.add_parser("prog", help="loaded programs: list, show, dump xlated (bpftool prog)")
    psub = prog.add_subparsers(dest="prog_command", metavar="COMMAND", parser_class=type(prog))
    for name in ("list", "show"):
        q = psub.add_parser(name, help="show loaded programs (all, or those selected)")
        q.add_argument("selector", nargs="*", metavar="{id N|name X|tag T|pinned P}")
        _json_flags(q)
        _bpffs_flag(q)
        q.set_defaults(handler=_cmd_prog_show)
    q = psub.add_parser("dump", help="dump a program's xlated instructions with source lines")
    q.add_argument("mode", choices=("xlated",), help="what to dump (xlated: as the kernel runs it)")
    q.add_argument("selector", nargs="+", metavar="{id N|name X|tag T|pinned P} [linum] [opcodes]")
    q.add_argument("--linum", action="store_true", help="show file and line of each source line")
    q.add_argument("--opcodes", action="store_true", help="show the raw bytes of each instruction")
    _json_flags(q)
    q.set_defaults(handler=_cmd_prog_dump)
    prog.set_defaults(handler=lambda args: _help(prog))

    mp = sub.add_parser("map", help="loaded maps: list, show, dump (bpftool map)")
    msub = mp.add_subparsers(dest="map_command", metavar="COMMAND", parser_class=type(mp))
    for name in ("list", "show"):
        q = msub.add_parser(name, help="show maps (all, or those selected)")
        q.add_argument("selector", nargs="*", metavar="{id N|name X|pinned P}")
        _json_flags(q)
        _bpffs_flag(q)
        q.set_defaults(handler=_cmd_map_show)
    q = msub.add_parser("dump", help="dump a map's elements (values typed by BTF)")
    q.add_argument("selector", nargs=2, metavar="{id N|name X|pinned P}")
    _json_flags(q)
    q.set_defaults(handler=_cmd_map_dump)
    mp.set_defaults(handler=lambda args: _help(mp))


def _help(parser: argparse.ArgumentParser) -> int:
    parser.print_help()
    return 2


def _emit_json(args: argparse.Namespace, value: Any) -> None:
    from bpfbuild.kernel.show import dumps

    print(dumps(value, pretty=args.pretty))


def _want_json(args: argparse.Namespace) -> bool:
    return bool(args.json or args.pretty)


def _require() -> None:
    from bpfbuild.kernel import require

    require()


def _selector(words: list[str], allowed: tuple[str, ...]) -> tuple[str, str]:
    from bpfbuild.errors import ConfigError

    if len(words) != 2 or words[0] not in allowed:
        raise ConfigError(f"expected one of {' | '.join(w + ' ' + w[0].upper() for w in allowed)}, "
                          f"got: {' '.join(words) or 'nothing'}")
    return words[0], words[1]


def _pinned_map(kind: str, wanted: bool) -> dict[int, list[str]]:
    if not wanted:
        return {}
    from bpfbuild.kernel.info import ObjKind, pinned_ids

    return pinned_ids(ObjKind.PROG if kind == "prog" else ObjKind.MAP)


# --- load / unload ---------------------------------------------------------------------------

def _cmd_load(args: argparse.Namespace) -> int:
    from pathlib import Path

    from bpfbuild.errors import ConfigError, KernelError, LoadRejected
    from bpfbuild.kernel import KernelObject
    from bpfbuild.kernel.pins import pin_name

    if (args.path is None) == (args.all_dir is None):
        raise ConfigError("load: give PATH (pin the program) or --all DIR (pin every program), not both")
    _require()
    with KernelObject.open(args.object) as obj:
        if args.prog_type is not None:
            obj.type_untyped(args.prog_type, args.attach)
        targets = obj.programs.values() if args.all_dir else [obj.program(args.prog)]
        try:
            obj.load(log_level=args.log_level, programs=[p.name for p in targets] if not args.all_dir else None)
        except KernelError as exc:
            failed = obj.last_failed
            if failed is not None and failed.log.strip():
                sys.stderr.write(failed.log if failed.log.endswith("\n") else failed.log + "\n")
                raise LoadRejected(exc.message, errno=exc.errno, file=exc.file) from exc
            raise
        if args.log_level:
            for p in targets:
                sys.stderr.write(p.log)
        pinned: list[str] = []
        try:
            for p in targets:
                where = Path(args.all_dir) / pin_name(p.name) if args.all_dir else Path(args.path)
                pinned.append(str(p.pin(where)))
            if args.pinmaps:
                for m in obj.maps.values():
                    pinned.append(str(m.pin(Path(args.pinmaps) / pin_name(m.name))))
        except KernelError:
            from bpfbuild.kernel.pins import unpin

            for done in pinned:       # all or nothing
                unpin(done)
            raise
    if _want_json(args):
        _emit_json(args, None)
    return 0


def _is_directory(path: str) -> bool:
    """A real directory (not a symlink to one); any stat error: not one (unpin then says why)."""
    import os
    import stat

    try:
        return stat.S_ISDIR(os.lstat(path).st_mode)
    except OSError:
        return False


def _cmd_unload(args: argparse.Namespace) -> int:
    from bpfbuild.kernel.pins import remove_pins, unpin

    _require()
    for pin in args.pins:
        if _is_directory(pin):
            remove_pins(pin)
        else:
            unpin(pin)
    if _want_json(args):
        _emit_json(args, None)
    return 0


# --- prog ------------------------------------------------------------------------------------

def _every_fd(kind: Any) -> list[Fd]:
    """An fd of every object of ``kind`` (an ``ObjKind``) the kernel has (one gone since it was
    listed is skipped)."""
    from bpfbuild.kernel.info import ids, open_by_id

    return [fd for obj_id in ids(kind) if (fd := open_by_id(kind, obj_id)) is not None]


def _prog_fds(selector: list[str]) -> list[Fd]:
    from bpfbuild.kernel.info import ObjKind, find_progs

    if not selector:
        return _every_fd(ObjKind.PROG)
    how, value = _selector(selector, _SELECT_PROG)
    return find_progs(how, value)


def _prog_name(fd: Fd) -> tuple[Any, str]:
    from bpfbuild.kernel.info import prog_images, prog_info
    from bpfbuild.kernel.show import full_prog_name

    info = prog_info(fd)
    if len(info.name) >= 15 and info.btf_id:
        return info, full_prog_name(info, images=prog_images(fd))
    return info, info.name


def _cmd_prog_show(args: argparse.Namespace) -> int:
    from bpfbuild.kernel.show import prog_record, prog_text

    _require()
    pins = _pinned_map("prog", args.bpffs)
    fds = _prog_fds(args.selector)
    records = []
    try:
        for fd in fds:
            info, name = _prog_name(fd)
            if _want_json(args):
                records.append(prog_record(info, name=name, pinned=pins.get(info.id, ())))
            else:
                print(prog_text(info, name=name, pinned=pins.get(info.id, ())))
    finally:
        for fd in fds:
            fd.close()
    if _want_json(args):
        _emit_json(args, records[0] if args.selector and len(records) == 1 else records)
    return 0


def _cmd_prog_dump(args: argparse.Namespace) -> int:
    from bpfbuild.errors import ConfigError
    from bpfbuild.kernel.kallsyms import KernelSymbols
    from bpfbuild.kernel.show import prog_record, prog_text, xlated_json, xlated_listing, xlated_text

    words = list(args.selector)
    linum, opcodes = args.linum, args.opcodes
    while words and words[-1] in _DUMP_WORDS:
        word = words.pop()
        linum |= word == "linum"
        opcodes |= word == "opcodes"
    if len(words) != 2:
        raise ConfigError(f"prog dump xlated: expected id N | name X | tag T | pinned P, got: {' '.join(words)}")
    _require()
    fds = _prog_fds(words)
    ksyms = KernelSymbols.load()
    outputs: list[Any] = []
    try:
        for fd in fds:
            listing = xlated_listing(int(fd), ksyms=ksyms)
            info, name = _prog_name(fd)
            if _want_json(args):
                body = xlated_json(listing, linum=linum, opcodes=opcodes)
                outputs.append({**prog_record(info, name=name), "insns": body} if len(fds) > 1 else body)
            else:
                text = xlated_text(listing, linum=linum, opcodes=opcodes)
                outputs.append(prog_text(info, name=name).splitlines()[0] + "\n" + text if len(fds) > 1 else text)
    finally:
        for fd in fds:
            fd.close()
    if _want_json(args):
        _emit_json(args, outputs if len(fds) > 1 else outputs[0])
    else:
        print("\n\n".join(outputs))
    return 0


# --- map -------------------------------------------------------------------------------------

def _map_fds(selector: list[str]) -> list[Fd]:
    from bpfbuild.kernel.info import ObjKind, find_maps

    if not selector:
        return _every_fd(ObjKind.MAP)
    how, value = _selector(selector, _SELECT_MAP)
    return find_maps(how, value)


def _cmd_map_show(args: argparse.Namespace) -> int:
    from bpfbuild.kernel.info import map_info
    from bpfbuild.kernel.show import map_record, map_text

    _require()
    pins = _pinned_map("map", args.bpffs)
    fds = _map_fds(args.selector)
    records = []
    try:
        for fd in fds:
            info = map_info(fd)
            if _want_json(args):
                records.append(map_record(info, pinned=pins.get(info.id, ())))
            else:
                print(map_text(info, pinned=pins.get(info.id, ())))
    finally:
        for fd in fds:
            fd.close()
    if _want_json(args):
        _emit_json(args, records[0] if args.selector and len(records) == 1 else records)
    return 0


def _cmd_map_dump(args: argparse.Namespace) -> int:
    from bpfbuild.kernel.info import map_info
    from bpfbuild.kernel.maps import MapHandle
    from bpfbuild.kernel.show import map_dump_json, map_dump_text, map_record

    _require()
    fds = _map_fds(list(args.selector))
    outputs: list[Any] = []
    try:
        for fd in fds:
            handle = MapHandle(fd, map_info(fd))
            if _want_json(args):
                elems = map_dump_json(handle)
                outputs.append({**map_record(handle.info), "elements": elems} if len(fds) > 1 else elems)
            else:
                outputs.append(map_dump_text(handle))
    finally:
        for fd in fds:
            fd.close()
    if _want_json(args):
        _emit_json(args, outputs if len(fds) > 1 else outputs[0])
    else:
        print("\n\n".join(outputs))
    return 0
