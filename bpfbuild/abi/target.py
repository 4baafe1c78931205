"""The kernel a program is meant for: version, architecture, Kconfig, BTF and kernel symbols.

A :class:`Target` is what libbpf consults at load time to resolve ``__kconfig`` / ``__ksym``
externs and CO-RE relocations.  It is one frozen object passed down to ``obj/`` (and from there
to the verifier and the emulator).  Everything expensive is lazy: the Kconfig is read on first
look-up, the BTF decoded on first use (cached on the instance), ``/proc/kallsyms`` parsed on the
first :meth:`Target.ksym`.  Constructing a target reads nothing but ``uname``.

Constructors:

* :meth:`Target.running` -- the machine's kernel: release and version as libbpf derives
  ``LINUX_KERNEL_VERSION`` (``/proc/version_signature`` on Ubuntu, else ``uname -r``), the Kconfig
  from ``/boot/config-<release>`` or ``/proc/config.gz`` (libbpf's order), BTF from
  ``/sys/kernel/btf/vmlinux``, symbols from ``/proc/kallsyms``; whatever is unreadable is absent.
* :meth:`Target.default` -- when nothing can be read: :data:`DEFAULT_VERSION` (Linux 6.1, an
  LTS release), the host's architecture, an empty Kconfig, no BTF, no symbols.  Externs then
  take their ``__weak`` zero defaults (strong ones are reported unresolved, not fatal) and CO-RE
  relocations are left as compiled.
* :meth:`Target.from_file` -- the JSON ``bpfbuild probe --json`` writes: ``release``, ``version``
  ("6.18.44"), ``arch``, ``kconfig`` (object), ``btf`` (path or null) at the top level, or the
  probe's own ``kernel.release`` / ``kernel.machine`` / ``config`` (strings unquoted); others ignored.

Any of them takes ``btf_path=`` to use a BTF file of the user's choice (a config setting).
"""

from __future__ import annotations

import functools
import gzip
import json
import os
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from bpfbuild.errors import ConfigError

if TYPE_CHECKING:
    from bpfbuild.btf.spec import Spec

__all__ = ["DEFAULT_VERSION", "Kconfig", "Target", "kernel_version_code", "target_arch"]

#: The version :meth:`Target.default` assumes (Linux 6.1 LTS).
DEFAULT_VERSION = (6, 1, 0)

VMLINUX_BTF = "/sys/kernel/btf/vmlinux"
KALLSYMS = "/proc/kallsyms"
PROC_CONFIG = "/proc/config.gz"
LOCKDOWN = "/sys/kernel/security/lockdown"   # "none [integrity] confidentiality"
PROC_CMDLINE = "/proc/cmdline"
UBUNTU_VERSION_SIGNATURE = "/proc/version_signature"

# uname -m -> the kernel's arch directory name (what __TARGET_ARCH_<arch> and bpf_tracing.h use)
_ARCH = {"x86_64": "x86", "i386": "x86", "i686": "x86", "aarch64": "arm64", "arm64": "arm64",
         "s390x": "s390", "s390": "s390", "ppc64le": "powerpc", "ppc64": "powerpc", "riscv64": "riscv",
         "loongarch64": "loongarch", "mips64": "mips", "mips": "mips", "sparc64": "sparc"}
# arch -> prefix of syscall wrappers (__x64_sys_bpf), as libbpf probes for LINUX_HAS_SYSCALL_WRAPPER
_SYSCALL_PREFIX = {"x86": "x64", "arm64": "arm64", "s390": "s390x", "riscv": "riscv", "powerpc": "powerpc64",
                   "loongarch": "loongarch", "arm": "arm", "mips": "mips"}
# arches whose kernels route syscalls through pt_regs wrappers (CONFIG_ARCH_HAS_SYSCALL_WRAPPER), since when
_WRAPPER_SINCE = {"x86": (4, 17), "arm64": (4, 19), "s390": (4, 20), "riscv": (6, 1), "powerpc": (6, 1),
                  "loongarch": (6, 9)}
#: bpf_get_attach_cookie (what libbpf's LINUX_HAS_BPF_COOKIE probe calls) appeared in 5.15.
BPF_COOKIE_SINCE = (5, 15)


def target_arch(machine: str | None = None) -> str:
    """The kernel's name for an architecture (``x86_64`` -> ``x86``); ``uname -m`` by default."""
    machine = os.uname().machine if machine is None else machine
    return _ARCH.get(machine, machine)


def kernel_version_code(version: tuple[int, int, int]) -> int:
    """``LINUX_KERNEL_VERSION`` / ``KERNEL_VERSION(a, b, c)``: the patch level saturates at 255."""
    a, b, c = version
    return (a << 16) + (b << 8) + min(c, 255)


def _parse_version(text: str) -> tuple[int, int, int] | None:
    m = re.match(r"\s*(\d+)\.(\d+)(?:\.(\d+))?", text)
    if not m:
        return None
    return int(m.group(1)), int(m.group(2)), int(m.group(3) or 0)


def _config_text(value: object) -> str:
    """A probe's config value back in config-file spelling: strings get their quotes again."""
    text = str(value)
    if text in ("y", "n", "m") or text.startswith('"') or re.fullmatch(r"-?(0[xX][0-9a-fA-F]+|\d+)", text):
        return text
    return '"' + text + '"'


class Kconfig(Mapping[str, str]):
    """``CONFIG_X`` -> its value as the config file spells it (``y``, ``m``, ``123``, ``"text"``).

    Reads its file on first look-up.  ``# CONFIG_X is not set`` lines are absent, as for libbpf.
    ``source`` names where the values come from (a path, ``probe file``, or ``""`` when none).
    """

    def __init__(self, values: Mapping[str, str] | None = None, *, path: str | None = None,
                 source: str = "") -> None:
        self._values: dict[str, str] | None = dict(values) if values is not None else None
        self._path = path
        self.source = source if source or path is None else path

    @classmethod
    def parse(cls, text: str) -> dict[str, str]:
        out: dict[str, str] = {}
        for line in text.splitlines():
            if not line.startswith("CONFIG_"):
                continue
            name, sep, value = line.partition("=")
            if sep and value:
                out[name] = value
        return out

    def _load(self) -> dict[str, str]:
        if self._values is None:
            values: dict[str, str] = {}
            if self._path is not None:
                try:
                    raw = Path(self._path).read_bytes()
                    if raw[:2] == b"\x1f\x8b":
                        raw = gzip.decompress(raw)
                    values = self.parse(raw.decode("utf-8", "replace"))
                except (OSError, EOFError, gzip.BadGzipFile):
                    values = {}
                    self.source = ""
            self._values = values
        return self._values

    def __getitem__(self, key: str) -> str:
        return self._load()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._load())

    def __len__(self) -> int:
        return len(self._load())

    def __repr__(self) -> str:
        return f"Kconfig(source={self.source!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Mapping) and dict(self.items()) == dict(other.items())

    __hash__ = None  # type: ignore[assignment]


@dataclass(frozen=True)   # not slotted: caches the BTF and the symbol table (cached_property)
class Target:
    """The kernel a program is loaded into (see the module docstring for the constructors)."""

    name: str                                   # "running", "default", a version ("5.15") or a file path
    release: str | None                         # uname -r style, when known
    version: tuple[int, int, int]
    arch: str                                   # kernel arch name: x86, arm64, s390, ...
    kconfig: Mapping[str, str] = field(default_factory=dict, hash=False)
    btf_path: str | None = None                 # the vmlinux BTF file, when there is one
    kallsyms_path: str | None = field(default=None, compare=False)
    module_btf_dir: str | None = field(default=None, compare=False)   # split BTF of modules (/sys/kernel/btf)

    # -- constructors --------------------------------------------------------------------------

    @classmethod
    def default(cls, *, btf_path: str | None = None) -> Target:
        """Nothing readable: Linux :data:`DEFAULT_VERSION` on the host's arch, no config/BTF/symbols."""
        return cls("default", None, DEFAULT_VERSION, target_arch(), Kconfig({}, source=""), btf_path, None)

    @classmethod
    def running(cls, *, btf_path: str | None = None) -> Target:
        """This machine's kernel; files that cannot be read are simply absent (no bpf() calls)."""
        release = os.uname().release
        version = _parse_version(release) or DEFAULT_VERSION
        try:   # libbpf: Ubuntu's LINUX_VERSION_CODE differs from uname -r; it reads this file first
            sig = Path(UBUNTU_VERSION_SIGNATURE).read_text().split()
            if len(sig) >= 3 and _parse_version(sig[2]):
                version = _parse_version(sig[2])  # type: ignore[assignment]
        except OSError:
            pass
        config_path = None
        for path in (f"/boot/config-{release}", PROC_CONFIG):
            if os.access(path, os.R_OK):
                config_path = path
                break
        if btf_path is None and os.access(VMLINUX_BTF, os.R_OK):
            btf_path = VMLINUX_BTF
        kallsyms = KALLSYMS if os.access(KALLSYMS, os.R_OK) else None
        modules = os.path.dirname(VMLINUX_BTF) if btf_path == VMLINUX_BTF else None
        return cls("running", release, version, target_arch(), Kconfig(path=config_path), btf_path, kallsyms,
                   modules)

    @classmethod
    def from_file(cls, path: str | os.PathLike[str], *, btf_path: str | None = None) -> Target:
        """A saved probe (``bpfbuild probe --json``); a ConfigError naming the file if malformed."""
        from bpfbuild.inputs import read_text_input

        path = os.fspath(path)
        text = read_text_input(path, limit=64 << 20, error=ConfigError)
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise ConfigError(f"target is not JSON: {exc}", file=path) from exc
        if not isinstance(data, dict):
            raise ConfigError("target must be a JSON object", file=path)
        kernel = data.get("kernel") if isinstance(data.get("kernel"), dict) else {}
        release = data.get("release") or kernel.get("release")
        vtext = data.get("version")
        if not (isinstance(vtext, str) and _parse_version(vtext)):   # probe: "kernel.version" is uname -v
            vtext = release or ""
        version = _parse_version(str(vtext)) if vtext else None
        if version is None:
            raise ConfigError(f"target has no usable \"version\" ({vtext!r})", file=path)
        machine = kernel.get("machine")
        arch = data.get("arch") or (target_arch(str(machine)) if machine else target_arch())
        kconfig = data.get("kconfig")
        if kconfig is None:
            kconfig = data.get("config")    # older probes' name for it
        kconfig = kconfig or {}
        if not isinstance(kconfig, dict) or not all(isinstance(v, str) for v in kconfig.values()):
            raise ConfigError("target \"kconfig\" must map CONFIG_ names to strings", file=path)
        # bpfbuild probe writes strings unquoted; the config file (and libbpf) quote them
        kconfig = {k: _config_text(v) for k, v in kconfig.items()}
        btf = btf_path or data.get("btf")
        if btf is not None and not isinstance(btf, str):
            raise ConfigError("target \"btf\" must be a path or null", file=path)
        if btf is not None and not os.path.isabs(btf):
            btf = os.path.join(os.path.dirname(os.path.abspath(path)), btf)
        return cls(path, str(release) if release else None, version, str(arch),
                   Kconfig(kconfig, source=path), btf, None)

    @classmethod
    def for_version(cls, version: str, *, btf_path: str | None = None) -> Target:
        """A kernel known only by its version ("5.15"): empty config unless a BTF file is given."""
        parsed = _parse_version(version)
        if parsed is None:
            raise ConfigError(f"not a kernel version: {version!r}")
        return cls(version, None, parsed, target_arch(), Kconfig({}, source=""), btf_path, None)

    @classmethod
    def resolve(cls, spec: str | None = None, *, btf_path: str | None = None) -> Target:
        """A target from a setting: None or "running", "default", a probe file path, or a version.

        ``btf_path`` (a configured BTF file) replaces the target's own.  A ConfigError for
        anything else, naming what was given.
        """
        if btf_path is not None and not os.access(btf_path, os.R_OK):
            raise ConfigError(f"target BTF {btf_path!r} cannot be read")
        if spec in (None, "", "running"):
            return cls.running(btf_path=btf_path)
        if spec == "default":
            return cls.default(btf_path=btf_path)
        if os.path.exists(spec) or spec.endswith(".json"):
            return cls.from_file(spec, btf_path=btf_path)
        if _parse_version(spec) is not None and re.fullmatch(r"\d+\.\d+(\.\d+)?", spec):
            return cls.for_version(spec, btf_path=btf_path)
        raise ConfigError(f"target {spec!r} is not 'running', 'default', a probe file or a kernel version")

    def with_btf(self, btf_path: str | None) -> Target:
        """The same target with another BTF file (a configured one replaces the running kernel's)."""
        return replace(self, btf_path=btf_path)

    # -- derived facts --------------------------------------------------------------------------

    @property
    def version_code(self) -> int:
        """What ``LINUX_KERNEL_VERSION`` reads."""
        return kernel_version_code(self.version)

    @property
    def kconfig_source(self) -> str:
        src = getattr(self.kconfig, "source", "")
        return src if isinstance(src, str) else ""

    @functools.cached_property
    def lockdown(self) -> str:
        """The kernel's lockdown level: ``none``, ``integrity`` or ``confidentiality`` (some BPF
        helpers are refused from integrity, others from confidentiality).  The running kernel's
        securityfs file says it; else its ``lockdown=`` boot parameter; else the level its Kconfig
        forces (CONFIG_LOCK_DOWN_KERNEL_FORCE_*, with the lockdown LSM built in); else ``none``."""
        levels = ("none", "integrity", "confidentiality")
        if self.name == "running":
            try:
                text = Path(LOCKDOWN).read_text()
                chosen = text[text.index("[") + 1:text.index("]")]
                if chosen in levels:
                    return chosen
            except (OSError, ValueError):
                pass
            try:
                for word in Path(PROC_CMDLINE).read_text().split():
                    if word.startswith("lockdown=") and word[9:] in levels:
                        return word[9:]
            except OSError:
                pass
        if self.kconfig.get("CONFIG_SECURITY_LOCKDOWN_LSM") == "y":
            for level in ("confidentiality", "integrity"):
                if self.kconfig.get(f"CONFIG_LOCK_DOWN_KERNEL_FORCE_{level.upper()}") == "y":
                    return level
        return "none"

    @functools.cached_property
    def btf(self) -> Spec | None:
        """The target's vmlinux BTF (decoded on first use), or None without a BTF file."""
        if self.btf_path is None:
            return None
        from bpfbuild.btf.spec import Spec
        return Spec.from_file(self.btf_path)

    @functools.cached_property
    def module_btf_names(self) -> tuple[str, ...]:
        """Modules with BTF (files beside vmlinux in ``module_btf_dir``), sorted by name."""
        if self.module_btf_dir is None or self.btf_path is None:
            return ()
        try:
            names = os.listdir(self.module_btf_dir)
        except OSError:
            return ()
        vmlinux = os.path.basename(self.btf_path)
        return tuple(sorted(n for n in names if n != vmlinux and not n.startswith(".")))

    def module_btf(self, name: str) -> Spec | None:
        """A module's split BTF over the vmlinux BTF (None where unreadable), decoded once."""
        cache: dict[str, Spec | None] = self.__dict__.setdefault("_module_btfs", {})
        if name not in cache:
            from bpfbuild.btf.spec import Spec
            from bpfbuild.errors import BpfBuildError
            base = self.btf_or_none()
            try:
                cache[name] = None if base is None or self.module_btf_dir is None else \
                    Spec.from_file(os.path.join(self.module_btf_dir, name), base=base)
            except BpfBuildError:
                cache[name] = None
        return cache[name]

    @functools.cached_property
    def _symbols(self) -> dict[str, int]:
        out: dict[str, int] = {}
        if self.kallsyms_path is None:
            return out
        try:
            text = Path(self.kallsyms_path).read_text(errors="replace")
        except OSError:
            return out
        for line in text.splitlines():
            parts = line.split()
            if len(parts) >= 3 and parts[2] not in out:
                try:
                    out[parts[2]] = int(parts[0], 16)
                except ValueError:
                    continue
        return out

    @property
    def has_kallsyms(self) -> bool:
        return bool(self._symbols)

    def ksym(self, name: str) -> int | None:
        """The address of a kernel symbol (None: unknown, or no readable kallsyms; 0 when hidden)."""
        return self._symbols.get(name)

    @property
    def syscall_wrapper(self) -> tuple[bool, str]:
        """``LINUX_HAS_SYSCALL_WRAPPER`` and where the answer came from.

        libbpf answers by creating a kprobe on the arch's ``__<arch>_sys_bpf``: a kernel without
        kprobes (``CONFIG_KPROBES`` not set) reads 0 whatever its syscalls look like.  We check the
        Kconfig for kprobes, then look the wrapper up in kallsyms, else in the Kconfig
        (``CONFIG_ARCH_HAS_SYSCALL_WRAPPER``), else decide by arch and version.
        """
        if len(self.kconfig) and self.kconfig.get("CONFIG_KPROBES") != "y":
            return False, f"{self.kconfig_source or 'kconfig'}: CONFIG_KPROBES not set (no kprobe to probe with)"
        prefix = _SYSCALL_PREFIX.get(self.arch)
        if prefix and self.has_kallsyms:
            return self.ksym(f"__{prefix}_sys_bpf") is not None, "kallsyms"
        if len(self.kconfig):
            return self.kconfig.get("CONFIG_ARCH_HAS_SYSCALL_WRAPPER") == "y", self.kconfig_source or "kconfig"
        since = _WRAPPER_SINCE.get(self.arch)
        return since is not None and self.version[:2] >= since, f"{self.arch} {self.version_label}"

    @property
    def bpf_cookie(self) -> tuple[bool, str]:
        """``LINUX_HAS_BPF_COOKIE``: whether bpf_get_attach_cookie exists (target BTF, else version)."""
        btf = self.btf_or_none()
        if btf is not None:
            for tid in btf.find("bpf_func_id"):
                t = btf.type(tid)
                if any(v.name == "BPF_FUNC_get_attach_cookie" for v in getattr(t, "values", ())):
                    return True, "target BTF"
            return False, "target BTF"
        return self.version[:2] >= BPF_COOKIE_SINCE, f"version {self.version_label}"

    @property
    def version_label(self) -> str:
        return ".".join(map(str, self.version))

    def btf_or_none(self) -> Spec | None:
        """The BTF, or None where the configured file cannot be read or parsed."""
        from bpfbuild.errors import BpfBuildError
        try:
            return self.btf
        except BpfBuildError:
            return None

    def describe(self) -> str:
        """One line for `bpfbuild show`: ``running (6.18.44, x86)``."""
        rel = self.release or self.version_label
        return f"{self.name} ({rel}, {self.arch})"
