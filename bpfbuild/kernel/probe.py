"""What the running kernel offers BPF programs: ``bpfbuild probe``, the ``running`` target.

Everything is asked of the kernel itself (raw ``bpf(2)`` through libc, no libbpf needed):

- program types: a trivial program (``r0 = 0; exit``) of each type is loaded with the expected
  attach type libbpf uses for its default section; types that need an attach target (tracing,
  ext, lsm, struct_ops) count as present when the verifier gets far enough to complain about
  the attach target (an unknown type is refused before any log is written);
- map types: each is created with sizes its rules allow (with a one-int BTF for the storage
  maps, an inner array for map-in-map types); the errno is kept when it fails;
- helpers per program type: a program calling the helper (every argument 0) is loaded.  The
  verifier checks whether the program type may call a helper *before* it looks at the
  arguments, so the answer is read from the log: ``program of this type cannot use helper``
  (the helper is not offered to this type, 5.x-6.x wording also ``unknown func``) or
  ``invalid func`` (the id is past the kernel's last helper) mean no; any other outcome, an
  argument complaint included, means the type may call it.  (bpftool 7.1 only looks for
  ``invalid func``/``unknown func`` and so lists every helper as available on 6.18.)
- kfuncs: functions of the kernel's BTF that carry the ``bpf_kfunc`` declaration tag (pahole
  writes it for every function of a registered kfunc set; kernels built without it report none);
- the instruction set level (cpu v1-v4) by loading one program per level, the verifier limits
  (instructions, bounded loops), sysctls (unprivileged BPF, JIT) and the kernel configuration
  (``/proc/config.gz`` or ``/boot/config-RELEASE``) values that ``.kconfig`` externs read.

A :class:`Probe` round-trips through JSON (:meth:`Probe.to_json`, :func:`load_probe`), so a
probe saved on one machine is a target description on another.  About 7,000 loads take well
under a second here; the helper matrix runs on a few threads (each ``bpf()`` call releases
the GIL).
"""

from __future__ import annotations

import ctypes
import errno as errno_mod
import gzip
import json
import os
import platform
import re
import struct
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from bpfbuild.errors import BpfBuildError

__all__ = ["DEFAULT_ATTACH", "FORMAT", "HelperVerdict", "Availability", "Probe", "ProbeError", "classify_helper_log",
           "load_probe", "probe_kernel"]

FORMAT = "bpfbuild-probe/1"
_SYS_BPF = {"x86_64": 321, "aarch64": 280, "armv7l": 386, "riscv64": 280, "ppc64le": 361, "s390x": 351}
_MAP_CREATE, _PROG_LOAD, _BTF_LOAD = 0, 5, 18
_SLEEPABLE = 1 << 4
_VMLINUX = Path("/sys/kernel/btf/vmlinux")

# Expected attach type per program type (libbpf's default section's), as bpf_attach_type names.
DEFAULT_ATTACH: Mapping[str, str] = {
    "XDP": "XDP", "CGROUP_SOCK": "CGROUP_INET_SOCK_CREATE", "SOCK_OPS": "CGROUP_SOCK_OPS",
    "SK_SKB": "SK_SKB_STREAM_VERDICT", "CGROUP_DEVICE": "CGROUP_DEVICE", "SK_MSG": "SK_MSG_VERDICT",
    "CGROUP_SOCK_ADDR": "CGROUP_INET4_CONNECT", "SK_REUSEPORT": "SK_REUSEPORT_SELECT",
    "FLOW_DISSECTOR": "FLOW_DISSECTOR", "CGROUP_SYSCTL": "CGROUP_SYSCTL", "CGROUP_SOCKOPT": "CGROUP_GETSOCKOPT",
    "SK_LOOKUP": "SK_LOOKUP", "NETFILTER": "NETFILTER", "TRACING": "TRACE_FENTRY", "LSM": "LSM_MAC",
    "CGROUP_SKB": "CGROUP_INET_INGRESS",
}
# Types loaded sleepable (their helpers include the sleepable ones).
_SLEEPABLE_TYPES = frozenset({"SYSCALL"})
# Other attach types a type that needs a target is tried with when the default one is refused.
_MORE_ATTACH = {"TRACING": (23, 28)}   # BPF_TRACE_RAW_TP (tp_btf), BPF_TRACE_ITER
# Types that cannot load without an attach target: their helper sets are not probed.
_NEEDS_TARGET = frozenset({"TRACING", "EXT", "LSM", "STRUCT_OPS"})

# Configuration values worth showing in the text output (all are kept in the JSON).
_SHOWN_CONFIG = ("CONFIG_BPF", "CONFIG_BPF_SYSCALL", "CONFIG_BPF_JIT", "CONFIG_BPF_JIT_ALWAYS_ON",
                 "CONFIG_BPF_UNPRIV_DEFAULT_OFF", "CONFIG_BPF_LSM", "CONFIG_BPF_EVENTS", "CONFIG_DEBUG_INFO_BTF",
                 "CONFIG_DEBUG_INFO_BTF_MODULES", "CONFIG_ARCH_HAS_SYSCALL_WRAPPER", "CONFIG_NET_CLS_BPF",
                 "CONFIG_NET_ACT_BPF", "CONFIG_XDP_SOCKETS", "CONFIG_IPV6_SEG6_BPF", "CONFIG_BPF_KPROBE_OVERRIDE",
                 "CONFIG_CGROUP_BPF", "CONFIG_LWTUNNEL_BPF", "CONFIG_BPF_STREAM_PARSER", "CONFIG_HZ")


class ProbeError(BpfBuildError):
    """The kernel cannot be probed (no bpf(), no permission) or a probe file is unusable."""


class HelperVerdict:
    """What a load calling a helper says about it (strings, so JSON stays readable)."""

    ALLOWED = "allowed"        # the program type may call it (whatever else the verifier said)
    DENIED = "denied"          # "program of this type cannot use helper" / "unknown func"
    UNKNOWN = "unknown"        # "invalid func": the id is past this kernel's last helper


def classify_helper_log(ok: bool, log: str) -> str:
    """The verdict of one helper-call load from its outcome and verifier log."""
    if ok:
        return HelperVerdict.ALLOWED
    if "invalid func " in log:
        return HelperVerdict.UNKNOWN
    if "program of this type cannot use helper" in log or "unknown func " in log:
        return HelperVerdict.DENIED
    return HelperVerdict.ALLOWED


@dataclass(frozen=True, slots=True)
class Availability:
    """A program or map type: it loads/creates here (``ok``), or the errno name the kernel
    answered (``EPERM``: known but refused, e.g. by configuration or lockdown)."""

    ok: bool
    error: str | None = None


@dataclass(frozen=True)
class Probe:
    """The BPF features of one kernel (the running one, or one saved to a file)."""

    release: str
    version: str                                  # `uname -v`: the build identity
    machine: str
    prog_types: Mapping[str, Availability]        # ProgType name -> a program of it loads, or why not
    map_types: Mapping[str, Availability]             # MapType name -> created or errno
    helpers: Mapping[str, tuple[str, ...]]        # ProgType name -> helper names it may call
    helper_ids: Mapping[str, int]                 # helper name -> id (as probed)
    kfuncs: tuple[str, ...]
    isa: int                                      # highest cpu version (1-4) that loads
    limits: Mapping[str, Any]
    sysctl: Mapping[str, int | None]
    config: Mapping[str, str]                     # CONFIG_* -> value as the file spells it (y, m, 100, "text")
    externs: Mapping[str, int] = field(default_factory=dict)   # libbpf's virtual .kconfig values
    attach: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_ATTACH))
    note: str = ""                                # e.g. how a fake probe was made

    # --- questions -----------------------------------------------------------------------

    @property
    def identity(self) -> str:
        return f"Linux {self.release} ({self.version})" + (f" [{self.note}]" if self.note else "")

    def has_prog_type(self, name: str) -> bool:
        probe = self.prog_types.get(name)
        return probe is not None and probe.ok

    def prog_type_error(self, name: str) -> str | None:
        probe = self.prog_types.get(name)
        return "not probed" if probe is None else probe.error

    def has_map_type(self, name: str) -> bool:
        probe = self.map_types.get(name)
        return probe is not None and probe.ok

    def map_error(self, name: str) -> str | None:
        probe = self.map_types.get(name)
        return "not probed" if probe is None else probe.error

    def helper_allowed(self, helper: str, prog_type: str) -> bool | None:
        """None where this program type's helpers were not probed."""
        names = self.helpers.get(prog_type)
        return None if names is None else _bare(helper) in names

    def helper_known(self, helper: str) -> bool:
        """Whether any probed program type may call ``helper``."""
        name = _bare(helper)
        return any(name in names for names in self.helpers.values())

    def helper_prog_types(self, helper: str) -> frozenset[str]:
        name = _bare(helper)
        return frozenset(pt for pt, names in self.helpers.items() if name in names)

    def all_helpers(self) -> frozenset[str]:
        return frozenset(n for names in self.helpers.values() for n in names)

    def has_kfunc(self, name: str) -> bool:
        return name in self.kfuncs

    # --- derived probes (tests simulate other kernels with these) ------------------------

    def without(self, *, helpers: Iterable[str] = (), map_types: Iterable[str] = (),
                prog_types: Iterable[str] = (), kfuncs: Iterable[str] = ()) -> Probe:
        """This probe as if the kernel lacked some features (configured out)."""
        gone_helpers = {_bare(h) for h in helpers}
        gone_maps, gone_types, gone_kfuncs = set(map_types), set(prog_types), set(kfuncs)
        what = sorted(gone_helpers | gone_maps | gone_types | gone_kfuncs)
        return replace(
            self,
            prog_types={k: (Availability(False, "absent (fake probe)") if k in gone_types else v)
                        for k, v in self.prog_types.items()},
            map_types={k: (Availability(False, "absent (fake probe)") if k in gone_maps else v)
                       for k, v in self.map_types.items()},
            helpers={k: tuple(n for n in v if n not in gone_helpers) for k, v in self.helpers.items()
                     if k not in gone_types},
            kfuncs=tuple(k for k in self.kfuncs if k not in gone_kfuncs),
            note=(self.note + "; " if self.note else "") + "fake probe without " + ", ".join(what),
        )

    # --- JSON ------------------------------------------------------------------------------

    def to_json(self) -> dict[str, Any]:
        from bpfbuild.abi.target import target_arch

        numeric = re.match(r"\d+\.\d+(?:\.\d+)?", self.release)
        return {
            "format": FORMAT,
            # what bpfbuild.abi.target.Target.from_file reads (externs, CO-RE): a saved probe is a
            # target there too; "btf" is null (a BTF file of this machine means nothing elsewhere)
            "release": self.release,
            "version": numeric.group(0) if numeric else self.release,
            "arch": target_arch(self.machine),
            "btf": None,
            "kernel": {"release": self.release, "version": self.version, "machine": self.machine},
            "note": self.note,
            "isa": f"v{self.isa}",
            "limits": dict(self.limits),
            "sysctl": dict(self.sysctl),
            "prog_types": {k: (True if v.ok else v.error) for k, v in self.prog_types.items()},
            "attach": dict(self.attach),
            "map_types": {k: (True if v.ok else v.error) for k, v in self.map_types.items()},
            "helper_ids": dict(self.helper_ids),
            "helpers": {k: list(v) for k, v in self.helpers.items()},
            "kfuncs": list(self.kfuncs),
            "externs": dict(self.externs),
            "kconfig": dict(self.config),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any], *, file: str | None = None) -> Probe:
        if not isinstance(data, Mapping) or data.get("format") != FORMAT:
            raise ProbeError(f"not a bpfbuild probe (expected \"format\": \"{FORMAT}\")", file=file)
        try:
            kernel = data["kernel"]
            maps = {str(k): Availability(v is True, None if v is True else str(v)) for k, v in data["map_types"].items()}
            return cls(
                release=str(kernel["release"]), version=str(kernel.get("version", "")),
                machine=str(kernel.get("machine", "")),
                prog_types={str(k): Availability(v is True, None if v is True else str(v))
                            for k, v in data["prog_types"].items()},
                map_types=maps,
                helpers={str(k): tuple(str(n) for n in v) for k, v in data["helpers"].items()},
                helper_ids={str(k): int(v) for k, v in data.get("helper_ids", {}).items()},
                kfuncs=tuple(str(k) for k in data.get("kfuncs", ())),
                isa=int(str(data.get("isa", "v1")).lstrip("v")),
                limits=dict(data.get("limits", {})),
                sysctl=dict(data.get("sysctl", {})),
                config={str(k): str(v) for k, v in (data.get("kconfig") or data.get("config") or {}).items()},
                externs={str(k): int(v) for k, v in data.get("externs", {}).items()},
                attach=dict(data.get("attach", DEFAULT_ATTACH)),
                note=str(data.get("note", "")),
            )
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ProbeError(f"malformed probe: {exc}", file=file) from exc


def load_probe(path: str | os.PathLike[str]) -> Probe:
    """A probe saved with ``bpfbuild probe --json > FILE``."""
    from bpfbuild.inputs import read_text_input

    text = read_text_input(path, limit=64 << 20, error=ProbeError)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ProbeError(f"{exc.lineno}:{exc.colno}: error: not JSON: {exc.msg}", file=str(path)) from exc
    return Probe.from_json(data, file=str(path))


def _bare(name: str) -> str:
    return name if not name.startswith("bpf_") else name[4:]


# --- bpf(2) --------------------------------------------------------------------------------

def _insn(code: int, dst: int = 0, src: int = 0, off: int = 0, imm: int = 0) -> bytes:
    return struct.pack("<BBhi", code, (src << 4) | dst, off, imm)


_EXIT = _insn(0x95)
_R0_0 = _insn(0xB7, 0)


class _Sys:
    """Raw bpf(2); every fd it gets back is closed at once."""

    def __init__(self) -> None:
        nr = _SYS_BPF.get(platform.machine())
        if nr is None:
            raise ProbeError(f"no bpf() syscall number known for {platform.machine()}")
        self.nr = nr
        self.libc = ctypes.CDLL(None, use_errno=True)
        self.libc.syscall.restype = ctypes.c_long

    def call(self, cmd: int, attr: ctypes.Array[ctypes.c_char]) -> tuple[int, int]:
        ret = self.libc.syscall(ctypes.c_long(self.nr), ctypes.c_long(cmd), attr, ctypes.c_uint(len(attr)))
        return int(ret), ctypes.get_errno()

    def load(self, prog_type: int, code: bytes, attach: int = 0, *, flags: int = 0, attach_btf_id: int = 0,
             log_size: int = 4096, log_level: int = 1) -> tuple[bool, int, str]:
        buf = ctypes.create_string_buffer(code, len(code))
        lic = ctypes.create_string_buffer(b"GPL")
        log = ctypes.create_string_buffer(log_size)
        attr = ctypes.create_string_buffer(144)
        struct.pack_into("<IIQQIIQII", attr, 0, prog_type, len(code) // 8, ctypes.addressof(buf),
                         ctypes.addressof(lic), log_level, len(log) if log_level else 0,
                         ctypes.addressof(log) if log_level else 0, 0, flags)
        struct.pack_into("<I", attr, 68, attach)
        if attach_btf_id:
            struct.pack_into("<I", attr, 108, attach_btf_id)
        fd, err = self.call(_PROG_LOAD, attr)
        text = log.value.decode(errors="replace")
        if fd >= 0:
            os.close(fd)
            return True, 0, text
        return False, err, text

    def create_map(self, map_type: int, key: int, value: int, entries: int, flags: int = 0, *,
                   inner_fd: int = 0, btf_fd: int = 0, btf_key: int = 0, btf_value: int = 0,
                   vmlinux_value: int = 0, keep: bool = False) -> tuple[int, int]:
        attr = ctypes.create_string_buffer(128)
        struct.pack_into("<IIIIII", attr, 0, map_type, key, value, entries, flags, inner_fd)
        struct.pack_into("<IIII", attr, 48, btf_fd, btf_key, btf_value, vmlinux_value)
        fd, err = self.call(_MAP_CREATE, attr)
        if fd >= 0 and not keep:
            os.close(fd)
            return 0, 0
        return fd, err

    def load_int_btf(self) -> int:
        """A BTF with one type, ``int`` (id 1): key and value type of the storage maps."""
        strings = b"\0int\0"
        types = struct.pack("<III", 1, 1 << 24, 4) + struct.pack("<I", (1 << 24) | 32)
        blob = struct.pack("<HBBIIIII", 0xEB9F, 1, 0, 24, 0, len(types), len(types), len(strings)) + types + strings
        buf = ctypes.create_string_buffer(blob, len(blob))
        attr = ctypes.create_string_buffer(64)
        struct.pack_into("<QQII", attr, 0, ctypes.addressof(buf), 0, len(blob), 0)
        fd, _ = self.call(_BTF_LOAD, attr)
        return fd


def _errname(code: int) -> str:
    return {524: "ENOTSUPP"}.get(code) or errno_mod.errorcode.get(code, str(code))


# --- the probes ----------------------------------------------------------------------------

def _attach_value(prog_type: str, attach: Mapping[str, str]) -> int:
    from bpfbuild.abi.progtypes import AttachType

    name = attach.get(prog_type)
    return 0 if name is None else int(AttachType[name])


def _probe_prog_types(sys_: _Sys, attach: Mapping[str, str]) -> dict[str, Availability]:
    from bpfbuild.abi.progtypes import ProgType

    out: dict[str, Availability] = {}
    code = _R0_0 + _EXIT
    for pt in ProgType:
        if pt is ProgType.UNSPEC:
            continue
        flags = _SLEEPABLE if pt.name in _SLEEPABLE_TYPES else 0
        if pt.name in _NEEDS_TARGET:
            # attach_btf_id 1 is never a valid target: a known type gets as far as saying so.
            # Tracing also through tp_btf and iterators: a kernel may refuse trampolines (fentry,
            # EPERM before any log) and still load raw tracepoints and iterators.
            for at in (_attach_value(pt.name, attach), *_MORE_ATTACH.get(pt.name, ())):
                ok, err, log = sys_.load(int(pt), code, at, attach_btf_id=1)
                if ok or log.strip():   # it got as far as checking the (invalid) attach target
                    break
            if ok or log.strip():
                out[pt.name] = Availability(True)
                continue
        else:
            ok, err, log = sys_.load(int(pt), code, _attach_value(pt.name, attach), flags=flags)
            if ok:
                out[pt.name] = Availability(True)
                continue
        # EINVAL before any log: a type this kernel does not know
        out[pt.name] = Availability(False, "not in this kernel (unknown or configured out)" if err == errno_mod.EINVAL and not log
                                    else _errname(err))
    return out


def _probe_map_types(sys_: _Sys, struct_ops_value: tuple[int, int] | None) -> dict[str, Availability]:
    from bpfbuild.abi.maptypes import MapType, map_type_info

    out: dict[str, Availability] = {}
    btf_fd = -1
    inner_fd, _ = sys_.create_map(int(MapType.ARRAY), 4, 4, 1, keep=True)
    try:
        for mt in MapType:
            info = map_type_info(mt)
            if info is None:
                continue
            key, value = _pick(info.key_size, 4), _pick(info.value_size, 8)
            entries, flags = _pick(info.max_entries, 1), int(info.required_flags)
            extra: dict[str, int] = {}
            if info.map_in_map:
                extra["inner_fd"] = max(inner_fd, 0)
            if mt is MapType.STRUCT_OPS:
                # value: the kernel's own bpf_struct_ops_tcp_congestion_ops (vmlinux BTF id, size)
                if struct_ops_value is None:
                    out[mt.name] = Availability(False, "not probed (no tcp_congestion_ops struct_ops in the BTF)")
                    continue
                ident, size = struct_ops_value
                if btf_fd < 0:   # the kernel wants the loader's BTF too (any valid one)
                    btf_fd = sys_.load_int_btf()
                _, err = sys_.create_map(int(mt), 4, size, 1, vmlinux_value=ident, btf_fd=max(btf_fd, 0))
                out[mt.name] = Availability(True) if err == 0 else Availability(False, _errname(err))
                continue
            if info.needs_btf:
                if btf_fd < 0:
                    btf_fd = sys_.load_int_btf()
                key, value = 4, 4
                extra.update(btf_fd=max(btf_fd, 0), btf_key=1, btf_value=1)
            _, err = sys_.create_map(int(mt), key, value, entries, flags, **extra)
            out[mt.name] = Availability(True) if err == 0 else Availability(False, _errname(err))
    finally:
        for fd in (inner_fd, btf_fd):
            if fd >= 0:
                os.close(fd)
    return out


def _pick(rule: Any, default: int) -> int:
    if rule.exact:
        return int(rule.exact[0])
    n = max(rule.minimum, default)
    while not rule.allows(n):
        n += 1
    return int(n)


def _helper_program(helper_id: int) -> bytes:
    regs = b"".join(_insn(0xB7, r, 0, 0, 0) for r in range(1, 6))
    return regs + _insn(0x85, 0, 0, 0, helper_id) + _R0_0 + _EXIT


def _probe_helpers(sys_: _Sys, prog_types: Mapping[str, Availability], attach: Mapping[str, str],
                   ids: Mapping[str, int]) -> dict[str, tuple[str, ...]]:
    from bpfbuild.abi.progtypes import ProgType

    types = [pt for pt in ProgType if pt.name in prog_types and prog_types[pt.name].ok
             and pt.name not in _NEEDS_TARGET]
    programs = {name: _helper_program(ident) for name, ident in ids.items()}

    def one(pt: ProgType) -> tuple[str, tuple[str, ...]]:
        flags = _SLEEPABLE if pt.name in _SLEEPABLE_TYPES else 0
        at = _attach_value(pt.name, attach)
        allowed = []
        for name, code in programs.items():
            ok, _, log = sys_.load(int(pt), code, at, flags=flags)
            if classify_helper_log(ok, log) == HelperVerdict.ALLOWED:
                allowed.append(name)
        return pt.name, tuple(allowed)

    with ThreadPoolExecutor(max_workers=min(4, os.cpu_count() or 1)) as pool:
        return dict(pool.map(one, types))


def _probe_isa(sys_: _Sys) -> int:
    sf = 1  # socket filter
    v2 = _R0_0 + _insn(0xA5, 0, 0, 0, 1) + _EXIT                         # if r0 < 1 goto +0
    v3 = _insn(0xB4, 0) + _insn(0xA6, 0, 0, 0, 1) + _EXIT                # w0 = 0; if w0 < 1 goto +0
    v4 = (_insn(0xB7, 0, 0, 0, 6) + _insn(0x37, 0, 0, 1, 3)             # r0 s/= 3
          + _insn(0xBF, 1, 0, 8, 0) + _insn(0xD7, 1, 0, 0, 16)           # r1 = (s8)r0; r1 = bswap16 r1
          + _EXIT)
    level = 1
    for n, code in ((2, v2), (3, v3), (4, v4)):
        if not sys_.load(sf, code)[0]:
            break
        level = n
    return level


def _probe_limits(sys_: _Sys) -> dict[str, Any]:
    out: dict[str, Any] = {}
    _, _, log = sys_.load(1, _R0_0 + _EXIT)
    m = re.search(r"processed \d+ insns \(limit (\d+)\)", log)
    out["processed_insns"] = int(m.group(1)) if m else None
    loop = _R0_0 + _insn(0x07, 0, 0, 0, 1) + _insn(0xA5, 0, 0, -2, 4) + _EXIT   # r0 += 1; if r0 < 4 goto -2
    out["bounded_loops"] = sys_.load(1, loop)[0]
    big = _R0_0 * 4096 + _EXIT                                                      # 4,097 instructions
    out["more_than_4096_insns"] = sys_.load(1, big, log_level=0)[0]
    return out


def _read_int(path: str) -> int | None:
    try:
        return int(Path(path).read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def _sysctls() -> dict[str, int | None]:
    return {
        "kernel.unprivileged_bpf_disabled": _read_int("/proc/sys/kernel/unprivileged_bpf_disabled"),
        "net.core.bpf_jit_enable": _read_int("/proc/sys/net/core/bpf_jit_enable"),
        "net.core.bpf_jit_harden": _read_int("/proc/sys/net/core/bpf_jit_harden"),
        "net.core.bpf_jit_kallsyms": _read_int("/proc/sys/net/core/bpf_jit_kallsyms"),
        "net.core.bpf_jit_limit": _read_int("/proc/sys/net/core/bpf_jit_limit"),
    }


def kernel_config(release: str | None = None) -> tuple[dict[str, str], str | None]:
    """The kernel's configuration (``CONFIG_X`` -> value) and where it was read (None: nowhere)."""
    release = release or platform.release()
    for path in ("/proc/config.gz", f"/boot/config-{release}"):
        try:
            raw = Path(path).read_bytes()
        except OSError:
            continue
        text = (gzip.decompress(raw) if path.endswith(".gz") else raw).decode(errors="replace")
        out: dict[str, str] = {}
        for line in text.splitlines():
            if line.startswith("CONFIG_") and "=" in line:
                key, value = line.split("=", 1)
                out[key] = value   # as the config file spells it: "text" keeps its quotes
        return out, path
    return {}, None


# sizes of the records following a btf_type's 12 bytes: (fixed, per vlen member)
_BTF_EXTRA = {0: (0, 0), 1: (4, 0), 2: (0, 0), 3: (12, 0), 4: (0, 12), 5: (0, 12), 6: (0, 8), 7: (0, 0),
              8: (0, 0), 9: (0, 0), 10: (0, 0), 11: (0, 0), 12: (0, 0), 13: (0, 8), 14: (4, 0), 15: (0, 12),
              16: (0, 0), 17: (4, 0), 18: (0, 0), 19: (0, 12)}


def kfuncs_from_btf(data: bytes) -> set[str]:
    """Names of the FUNCs a ``bpf_kfunc`` DECL_TAG points at, in a raw BTF blob."""
    return _scan_btf(data)[0]


def _scan_btf(data: bytes, struct_name: str = "") -> tuple[set[str], tuple[int, int] | None]:
    """One pass over a raw BTF blob: the kfunc names, and (id, size) of struct ``struct_name``."""
    magic, _, _, hdr_len, type_off, type_len, str_off, str_len = struct.unpack_from("<HBBIIIII", data, 0)
    if magic != 0xEB9F:
        raise ProbeError("not BTF (bad magic)", file=str(_VMLINUX))
    types_at, strings_at = hdr_len + type_off, hdr_len + str_off
    strings = data[strings_at:strings_at + str_len]
    wanted = struct_name.encode()

    def name(off: int) -> str:
        end = strings.find(b"\0", off)
        return strings[off:end].decode(errors="replace")

    func_names: dict[int, int] = {}
    tagged: list[int] = []
    found: tuple[int, int] | None = None
    pos, end, ident = types_at, types_at + type_len, 1
    while pos < end:
        name_off, info, size_or_type = struct.unpack_from("<III", data, pos)
        kind, vlen = (info >> 24) & 0x1F, info & 0xFFFF
        fixed, per = _BTF_EXTRA.get(kind, (0, 0))
        if kind == 12:
            func_names[ident] = name_off
        elif kind == 17 and name(name_off) == "bpf_kfunc":
            tagged.append(size_or_type)
        elif kind == 4 and wanted and found is None and strings.startswith(wanted + b"\0", name_off):
            found = (ident, size_or_type)
        pos += 12 + fixed + per * vlen
        ident += 1
    return {name(func_names[t]) for t in tagged if t in func_names}, found


def _vmlinux_scan() -> tuple[tuple[str, ...], tuple[int, int] | None]:
    """The kernel's kfuncs and its tcp_congestion_ops struct_ops value type (one BTF pass)."""
    try:
        data = _VMLINUX.read_bytes()
    except OSError:
        return (), None
    kfuncs, value = _scan_btf(data, "bpf_struct_ops_tcp_congestion_ops")
    return tuple(sorted(kfuncs)), value


def _version_code(release: str) -> int:
    """``LINUX_KERNEL_VERSION`` for a release string (0 if it has no version)."""
    from bpfbuild.abi.target import kernel_version_code

    m = re.match(r"(\d+)\.(\d+)(?:\.(\d+))?", release)
    return 0 if m is None else kernel_version_code((int(m.group(1)), int(m.group(2)), int(m.group(3) or 0)))


def _has_syscall_wrapper(config: Mapping[str, str]) -> int:
    """``LINUX_HAS_SYSCALL_WRAPPER``: syscalls are entered through arch wrappers (``__x64_sys_*``);
    read from kallsyms where visible, else from CONFIG_ARCH_HAS_SYSCALL_WRAPPER."""
    prefix = {"x86_64": "__x64_sys_", "aarch64": "__arm64_sys_", "s390x": "__s390x_sys_",
              "riscv64": "__riscv_sys_"}.get(platform.machine())
    if prefix is not None:
        try:
            with open("/proc/kallsyms", encoding="ascii", errors="replace") as f:
                for line in f:
                    if line.endswith(f" {prefix}bpf\n"):
                        return 1
        except OSError:
            pass
        else:
            if config.get("CONFIG_ARCH_HAS_SYSCALL_WRAPPER") != "y":
                return 0
    return 1 if config.get("CONFIG_ARCH_HAS_SYSCALL_WRAPPER") == "y" else 0


def probe_kernel(*, with_helpers: bool = True) -> Probe:
    """Probe the running kernel (needs permission for bpf(): root or CAP_BPF)."""
    from bpfbuild.abi.helpers import helper_name

    sys_ = _Sys()
    ok, err, _ = sys_.load(1, _R0_0 + _EXIT)
    if not ok:
        raise ProbeError(f"bpf(BPF_PROG_LOAD) is refused here ({_errname(err)}: {os.strerror(err)}); "
                         "probing needs root or CAP_BPF")
    uname = os.uname()
    attach = dict(DEFAULT_ATTACH)
    prog_types = _probe_prog_types(sys_, attach)
    ids: dict[str, int] = {}
    for ident in range(1, 1024):
        name = helper_name(ident)
        if name is None:
            break
        ids[name[4:]] = ident
    helpers = _probe_helpers(sys_, prog_types, attach, ids) if with_helpers else {}
    limits = _probe_limits(sys_)
    # the kernel's last helper id: the first id the verifier calls "invalid func" is past it
    last = 0
    for ident in range(1, 1024):
        ok, _, log = sys_.load(1, _helper_program(ident))
        if classify_helper_log(ok, log) == HelperVerdict.UNKNOWN:
            break
        last = ident
    limits["last_helper_id"] = last
    config, _ = kernel_config(uname.release)
    kfuncs, struct_ops_value = _vmlinux_scan()
    return Probe(
        release=uname.release, version=uname.version, machine=uname.machine,
        prog_types=prog_types, map_types=_probe_map_types(sys_, struct_ops_value), helpers=helpers,
        helper_ids=ids, kfuncs=kfuncs, isa=_probe_isa(sys_), limits=limits, sysctl=_sysctls(),
        config=config, attach=attach,
        externs={"LINUX_KERNEL_VERSION": _version_code(uname.release),
                 "LINUX_HAS_SYSCALL_WRAPPER": _has_syscall_wrapper(config)},
    )


def shown_config(probe: Probe) -> dict[str, str]:
    """The configuration values ``bpfbuild probe`` prints (the JSON has them all)."""
    out = {k: probe.config.get(k, "not set") for k in _SHOWN_CONFIG}
    out.update({k: str(v) for k, v in probe.externs.items()})
    return out


# --- targets (the `running` one, saved probes, mainline versions) ----------------------------

_RUNNING: dict[str, Any] = {}


def running_probe_json() -> dict[str, Any]:
    """The running kernel's probe as JSON, probed once per process."""
    if "probe" not in _RUNNING:
        _RUNNING["probe"] = probe_kernel().to_json()
    return _RUNNING["probe"]


def target_for(name: str, root: str | os.PathLike[str] = ".") -> Any:
    """The :class:`bpfbuild.abi.kversions.KernelFeatures` a configured name means: ``running`` (this
    kernel, probed), a saved probe (a path ending in ``.json``, relative to ``root``), or a
    mainline version (``5.15``)."""
    from bpfbuild.abi.kversions import KernelFeatures, TargetError

    if name == "running":
        return KernelFeatures.from_probe("running", running_probe_json())
    if name.endswith(".json"):
        path = Path(name) if os.path.isabs(name) else Path(root) / name
        try:
            return KernelFeatures.from_probe(name, load_probe(path).to_json())
        except TargetError as exc:   # a probe whose kernel.release is no version
            raise ProbeError(f"malformed probe: {str(exc).removeprefix(name + ': ')}", file=str(path)) from None
    try:
        return KernelFeatures.from_version(name)
    except TargetError as exc:
        raise ProbeError(f"target {name!r}: expected a kernel version (5.15), \"running\" or a probe "
                         "file (NAME.json from `bpfbuild probe --json`)") from exc
