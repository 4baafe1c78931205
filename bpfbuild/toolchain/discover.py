"""Finding a C compiler that targets BPF, and the flags and include dirs it needs.

Order: ``$BPF_CLANG`` (a clang path or command, or ``zig`` for the ziglang package), then
``clang`` on PATH (then ``clang-NN``, newest first) when its targets include bpf, then the
``ziglang`` package's bundled clang.  Probing runs compilers, so results are cached in a small
JSON file (keyed by the executable's path, size and mtime): a no-op ``doit`` runs no compiler.
"""

from __future__ import annotations

import enum
import importlib.util
import json
import os
import re
import shutil
import subprocess
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path

from bpfbuild.errors import ToolchainError

__all__ = ["BUNDLED_LIBBPF_API", "INSTALL_HINT", "Compiler", "CompilerKind", "IncludeSet", "discover", "fallback_include_dir",
           "include_set", "libbpf_headers_version", "versioned_clangs"]

INSTALL_HINT = (
    "no BPF-capable C compiler found: install clang (Debian: apt-get install clang) "
    "or the ziglang package (pip install 'bpfbuild[zig]'), or set BPF_CLANG"
)
_PROBE_SOURCE = "int f(void *ctx) { return 0; }\n"
_CACHE_VERSION = 1


class CompilerKind(enum.StrEnum):
    CLANG = "clang"
    ZIG = "zig"


@dataclass(frozen=True, slots=True)
class Compiler:
    """A compiler able to emit BPF objects."""

    kind: CompilerKind
    command: tuple[str, ...]   # argv prefix: ("/usr/bin/clang",) or (".../zig", "cc")
    path: str                  # the executable
    version: str               # first line of `--version`
    reason: str                # why this one was chosen
    target: str                # value for -target
    default_mcpu: str | None   # -mcpu passed when the project sets none (zig's default differs)

    @property
    def identity(self) -> str:
        """What must change for objects to be rebuilt: path and version."""
        return f"{self.path} ({self.version})"


@dataclass(frozen=True, slots=True)
class IncludeSet:
    """Include flags for a compiler, and where <linux/bpf.h> and <bpf/bpf_helpers.h> come from."""

    flags: tuple[str, ...]
    uapi_header: str | None     # the linux/bpf.h the compiler will see
    libbpf: str                 # "system" or "bpfbuild" (our own header set)


def _zig_arch() -> str:
    machine = os.uname().machine
    return {"x86_64": "x86", "i686": "x86", "aarch64": "aarch64", "armv7l": "arm", "ppc64le": "powerpc",
            "s390x": "s390x", "riscv64": "riscv"}.get(machine, machine)


#: the libbpf release whose BPF-side API bpfbuild's own header set provides
BUNDLED_LIBBPF_API = (1, 5)

_VERSION_LINE = re.compile(r"^#define\s+LIBBPF_(MAJOR|MINOR)_VERSION\s+(\d+)", re.M)


def libbpf_headers_version(system_root: str = "/usr/include") -> tuple[int, int]:
    """The release of the system's libbpf headers (``bpf/libbpf_version.h``; (0, 0) where it
    cannot be read: older than any release that has the file).  The system's BPF-side headers
    are used only when they are at least :data:`BUNDLED_LIBBPF_API`: an older libbpf-dev (1.1 in
    Debian 12) lacks macros real programs use (``BPF_UPROBE``, ``bpf_ksym_exists``...), which
    bpfbuild's own set has."""
    try:
        with open(os.path.join(system_root, "bpf", "libbpf_version.h"), encoding="utf-8", errors="replace") as fh:
            text = fh.read(1 << 16)
    except OSError:
        return (0, 0)
    found = dict(_VERSION_LINE.findall(text))
    try:
        return (int(found["MAJOR"]), int(found["MINOR"]))
    except (KeyError, ValueError):
        return (0, 0)


def package_include_dir() -> Path:
    """bpfbuild's own header set (written by us; used when libbpf's headers are absent)."""
    return Path(__file__).resolve().parent.parent / "include"


def fallback_include_dir() -> Path:
    """Headers searched only after every system directory (``-idirafter``): they fill what a
    machine without the 32-bit glibc development files lacks (``gnu/stubs-32.h``, which glibc's
    headers include under ``-target bpf``) and never shadow a file the system has."""
    return Path(__file__).resolve().parent.parent / "include-fallback"


def include_set(compiler: Compiler, generated_dir: Path, *, bundled: bool = False,
                system_root: str = "/usr/include", min_libbpf: tuple[int, int] = BUNDLED_LIBBPF_API) -> IncludeSet:
    """Include flags: the arch dir (as the classic Makefile adds), then the libbpf headers.

    ``generated_dir`` is where our generated ``bpf/bpf_helper_defs.h`` lives (build/include).
    ``bundled`` ignores the system's libbpf headers (and, with zig, the system's kernel headers):
    exactly what a machine with only Python gets.  The system's libbpf headers are used only
    when they are release ``min_libbpf`` or newer (default: the API of bpfbuild's own set, so an
    older libbpf-dev never hides a macro that set has).  :func:`fallback_include_dir` comes last
    of all, after the system's directories.
    """
    flags: list[str] = []
    arch_dir = f"{system_root}/{os.uname().machine}-linux-gnu"
    system_uapi = os.path.join(system_root, "linux", "bpf.h")
    uapi: str | None = None
    searches_system = False
    if compiler.kind is CompilerKind.CLANG:
        if os.path.isdir(arch_dir):
            flags.append(f"-I{arch_dir}")
        if os.path.exists(system_uapi):
            uapi = system_uapi
        searches_system = True
    elif os.path.exists(system_uapi) and not bundled:
        if os.path.isdir(arch_dir):
            flags += ["-idirafter", arch_dir]
        flags += ["-idirafter", system_root]
        uapi = system_uapi
        searches_system = True
    else:
        zig_inc = Path(compiler.path).parent / "lib" / "libc" / "include"
        # the kernel's UAPI headers, then glibc's (a BPF program may include <sys/socket.h>
        # or <netinet/in.h> for their constants, as the system's clang would find them)
        flags += ["-idirafter", str(zig_inc / f"{_zig_arch()}-linux-any"),
                  "-idirafter", str(zig_inc / "any-linux-any"),
                  "-idirafter", str(zig_inc / f"{_zig_arch()}-linux-gnu"),
                  "-idirafter", str(zig_inc / "generic-glibc")]
        uapi = str(zig_inc / "any-linux-any" / "linux" / "bpf.h")
    flags += ["-idirafter", str(fallback_include_dir())]
    if searches_system and not bundled and os.path.exists(os.path.join(system_root, "bpf", "bpf_helpers.h")) \
            and libbpf_headers_version(system_root) >= min_libbpf:
        return IncludeSet(tuple(flags), uapi, "system")
    flags = [f"-I{generated_dir}", f"-I{package_include_dir()}", *flags]
    return IncludeSet(tuple(flags), uapi, "bpfbuild")


# --- discovery --------------------------------------------------------------------------------

def _valid_entries(path: Path) -> dict[str, dict[str, object]]:
    """The probe results of ``path`` that have the shape we write (anything else: probed again).

    Each entry must be ``{"version": str, "bpf": bool}``; a file of the wrong shape, another
    version, or unreadable is ignored as a whole (bounded read: the cache is at most 1 MiB).
    """
    from bpfbuild.errors import BpfBuildError
    from bpfbuild.inputs import read_text_input

    try:
        loaded = json.loads(read_text_input(path, limit=1 << 20))
    except (BpfBuildError, ValueError, RecursionError):
        return {}
    if not isinstance(loaded, dict) or loaded.get("version") != _CACHE_VERSION:
        return {}
    entries = loaded.get("entries")
    if not isinstance(entries, dict):
        return {}
    return {k: v for k, v in entries.items()
            if isinstance(k, str) and isinstance(v, dict) and isinstance(v.get("version"), str)
            and isinstance(v.get("bpf"), bool)}


class _Cache:
    """A JSON file of probe results keyed by executable identity (path, size, mtime)."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.data: dict[str, dict[str, object]] = {}
        self.dirty = False
        if path is not None:
            self.data = _valid_entries(path)

    @staticmethod
    def key(kind: str, exe: str) -> str | None:
        try:
            st = os.stat(exe)
        except OSError:
            return None
        return f"{kind}:{os.path.realpath(exe)}:{st.st_size}:{st.st_mtime_ns}"

    def get(self, key: str | None) -> dict[str, object] | None:
        return self.data.get(key) if key else None

    def put(self, key: str | None, value: dict[str, object]) -> None:
        if key:
            self.data[key] = value
            self.dirty = True

    def save(self) -> None:
        if self.path is None or not self.dirty:
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_name(f"{self.path.name}.{os.getpid()}.tmp")
            tmp.write_text(json.dumps({"version": _CACHE_VERSION, "entries": self.data}, indent=1))
            os.replace(tmp, self.path)
        except OSError:
            pass  # a cache is an optimisation only


def _run(argv: list[str], timeout: float = 60) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False)
    except (OSError, subprocess.SubprocessError) as exc:
        raise ToolchainError(f"{argv[0]}: cannot run: {exc}") from exc


def _probe_clang(exe: str, cache: _Cache) -> dict[str, object]:
    key = cache.key("clang", exe)
    hit = cache.get(key)
    if hit is not None and hit["bpf"] is True:   # a recorded "no bpf" is probed again: never a silent switch
        return hit
    version = _run([exe, "--version"]).stdout.splitlines()[:1] or ["unknown version"]
    targets = _run([exe, "-print-targets"]).stdout
    has_bpf = bool(re.search(r"^\s*bpf\s", targets, re.MULTILINE))
    info: dict[str, object] = {"version": version[0].strip(), "bpf": has_bpf}
    cache.put(key, info)
    return info


def _probe_zig(zig: str, cache: _Cache) -> dict[str, object]:
    key = cache.key("zig", zig)
    hit = cache.get(key)
    if hit is not None:
        return hit
    zig_version = _run([zig, "version"]).stdout.strip() or "unknown"
    clang_version = (_run([zig, "cc", "--version"]).stdout.splitlines()[:1] or [""])[0].strip()
    import tempfile   # only on a cache miss

    ok = False
    with tempfile.TemporaryDirectory(prefix="bpfbuild-probe-") as tmp:
        src = os.path.join(tmp, "probe.c")
        with open(src, "w") as fh:
            fh.write(_PROBE_SOURCE)
        res = _run([zig, "cc", "-target", "bpfel-freestanding", "-mcpu=v1", "-O2", "-c", src,
                    "-o", os.path.join(tmp, "probe.o")], timeout=300)
        ok = res.returncode == 0 and os.path.exists(os.path.join(tmp, "probe.o"))
    info: dict[str, object] = {"version": f"zig {zig_version} ({clang_version})", "bpf": ok}
    cache.put(key, info)
    return info


def _zig_executable() -> str | None:
    spec = importlib.util.find_spec("ziglang")
    if spec is None or not spec.submodule_search_locations:
        return None
    for loc in spec.submodule_search_locations:
        for name in ("zig", "zig.exe"):
            exe = os.path.join(loc, name)
            if os.path.isfile(exe) and os.access(exe, os.X_OK):
                return exe
    return None


def _clang(exe: str, info: dict[str, object], reason: str) -> Compiler:
    return Compiler(CompilerKind.CLANG, (exe,), exe, str(info["version"]), reason, "bpf", None)


def _zig(exe: str, info: dict[str, object], reason: str) -> Compiler:
    return Compiler(CompilerKind.ZIG, (exe, "cc"), exe, str(info["version"]), reason,
                    "bpfel-freestanding", "v1")


def versioned_clangs(path_env: str | None) -> list[str]:
    """The ``clang-NN`` executables on PATH, newest first (one per version)."""
    return _versioned_clangs(path_env)


def _versioned_clangs(path_env: str | None) -> list[str]:
    found: dict[int, str] = {}
    for d in (path_env or os.defpath).split(os.pathsep):
        try:
            names = os.listdir(d or ".")
        except OSError:
            continue
        for name in names:
            m = re.fullmatch(r"clang-(\d+)", name)
            if m and int(m.group(1)) not in found:
                exe = os.path.join(d, name)
                if os.access(exe, os.X_OK):
                    found[int(m.group(1))] = exe
    return [found[v] for v in sorted(found, reverse=True)]


def discover(environ: Mapping[str, str] | None = None, *, cache_file: Path | None = None) -> Compiler:
    """Choose the compiler (see module docstring); ToolchainError with an install hint if none."""
    env = os.environ if environ is None else environ
    cache = _Cache(cache_file)
    try:
        return _discover(env, cache)
    finally:
        cache.save()


def _discover(env: Mapping[str, str], cache: _Cache) -> Compiler:
    path_env = env.get("PATH")
    wanted = env.get("BPF_CLANG", "").strip()
    if wanted:
        if wanted in ("zig", "ziglang"):
            zig = _zig_executable()
            if zig is None:
                raise ToolchainError(f"BPF_CLANG={wanted}: the ziglang package is not installed "
                                     "(pip install 'bpfbuild[zig]')")
            info = _probe_zig(zig, cache)
            if not info["bpf"]:
                raise ToolchainError(f"BPF_CLANG={wanted}: {zig} cannot compile for BPF")
            return _zig(zig, info, f"$BPF_CLANG={wanted}")
        exe = shutil.which(wanted, path=path_env)
        if exe is None:
            raise ToolchainError(f"BPF_CLANG={wanted}: no such executable")
        info = _probe_clang(exe, cache)
        if not info["bpf"]:
            raise ToolchainError(f"BPF_CLANG={wanted}: {exe} has no bpf target (clang -print-targets)")
        return _clang(exe, info, f"$BPF_CLANG={wanted}")
    plain = shutil.which("clang", path=path_env)
    if plain:
        info = _probe_clang(plain, cache)
        if info["bpf"]:
            return _clang(plain, info, "clang on PATH has the bpf target")
    for exe in _versioned_clangs(path_env):   # listed only when plain clang will not do
        info = _probe_clang(exe, cache)
        if info["bpf"]:
            return _clang(exe, info, f"{os.path.basename(exe)} on PATH has the bpf target")
    zig = _zig_executable()
    if zig is not None:
        info = _probe_zig(zig, cache)
        if info["bpf"]:
            why = "no clang with the bpf target on PATH; using the ziglang package"
            return _zig(zig, info, why)
    raise ToolchainError(INSTALL_HINT)


def compiler_from_dict(data: Mapping[str, object]) -> Compiler:
    """Inverse of ``asdict`` (for passing a Compiler to worker processes as plain data)."""
    return Compiler(CompilerKind(str(data["kind"])), tuple(data["command"]),  # type: ignore[arg-type]
                    str(data["path"]), str(data["version"]), str(data["reason"]), str(data["target"]),
                    data["default_mcpu"] if data["default_mcpu"] is None else str(data["default_mcpu"]))


def compiler_as_dict(compiler: Compiler) -> dict[str, object]:
    d = asdict(compiler)
    d["kind"] = compiler.kind.value
    d["command"] = list(compiler.command)
    return d
