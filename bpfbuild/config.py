"""Project configuration: ``[tool.bpfbuild]`` in pyproject.toml, with zero-config defaults.

Keys (all optional)::

    [tool.bpfbuild]
    source_dir = "programs"          # where *.bpf.c live (sources defaults to ["<source_dir>/*.bpf.c"])
    sources = ["programs/*.bpf.c", "lessons/**/*_kern.c"]   # globs, relative to the project root
    loaders = ["*.c", "!*.bpf.c"]    # user-space loaders, linked with the system's libbpf
                                     # ("!glob" leaves out what an earlier glob matched)
    loader_sources = ["trace_helpers.c"]   # more C files compiled into every loader (where they lie
                                     # in several folders: into the loaders at or below their folder)
    loader_libs = ["-lelf", "-lz"]   # more link flags for every loader
    loader_cflags = ["-Iinclude"]    # more compile flags for every loader (include dirs, defines)
    compiler_launcher = "ccache"     # put in front of the compiler (ccache, sccache, ...)
    compiler = "clang-19"            # the BPF compiler, as $BPF_CLANG names it (which wins when set)
    target_arch = "x86"              # -D__TARGET_ARCH_<arch>; default: the build machine's
    build_dir = "build"              # objects, depfiles, generated headers, doit's database
    cflags = ["-Wall"]               # extra compiler flags for every program
    defines = { DEBUG = "1" }        # -D flags
    include_dirs = ["include"]       # -I flags, relative to the project root
    mcpu = "v3"                      # -mcpu=; default: v1 with zig (matches clang 14's default "generic")
    pin_dir = "/sys/fs/bpf/<project>" # where `doit load` pins programs
    verify = "error"                 # "error" (a rejection fails the build) or "warn"
    target_kernels = ["5.15", "6.1", "running", "fleet-a.json"]
                                     # `doit verify` also checks each object against these kernels:
                                     # a mainline version, "running" (this kernel, probed) or a
                                     # saved `bpfbuild probe --json` file (relative to the root)

    [tool.bpfbuild.programs.hello]   # per-program overrides (by name: hello for hello.bpf.c)
    cflags = ["-DEXTRA"]
    defines = { X = "2" }
    include_dirs = []
    mcpu = "v4"
    type = "xdp"                     # program type of sections libbpf cannot type (bpftool's
                                     # `prog load ... type` names: xdp, tc, kprobe, cgroup/skb, ...)
    attach = "do_unlinkat"           # the attach target that goes with it (kprobe function, ...)
    loader = "user/hello_user.c"     # this program's user-space loader
    verify = "warn"                  # this program's verifier rejection is a warning
    skeleton = "scx_simple"          # the skeleton's name (bpftool gen skeleton ... name scx_simple)

A program's name is its file name without ``.bpf.c`` (or ``.c``); when two sources share one,
each is named by its path, as many parent folders as it takes (``lesson1/xdp_kern.c`` ->
``lesson1-xdp_kern``), and ``doit list`` shows those names.

Reading is pure (no compiler probing); ``load_config`` and ``Config.programs`` (a directory
listing) are the only I/O.
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bpfbuild.errors import ConfigError

__all__ = ["Config", "LoaderSource", "ProgramConfig", "ProgramSource", "load_config", "target_arch"]

SOURCE_SUFFIX = ".bpf.c"
SPEC_SUFFIX = ".test.toml"
_KEYS = {"source_dir", "build_dir", "cflags", "defines", "include_dirs", "mcpu", "pin_dir", "verify", "programs",
         "sources", "loaders", "compiler_launcher", "target_arch",
         "target_kernels", "loader_sources", "loader_libs", "loader_cflags", "compiler"}
_PROGRAM_KEYS = {"cflags", "defines", "include_dirs", "mcpu"}
_PROGRAM_ONLY_KEYS = {"type", "attach", "loader", "verify", "skeleton"}


#: ``uname -m`` -> the ``__TARGET_ARCH_<arch>`` name bpf_tracing.h expects.
_TARGET_ARCHES = {
    "x86_64": "x86", "i386": "x86", "i486": "x86", "i586": "x86", "i686": "x86", "amd64": "x86",
    "aarch64": "arm64", "arm64": "arm64", "s390x": "s390", "s390": "s390",
    "ppc64le": "powerpc", "ppc64": "powerpc", "ppc": "powerpc", "powerpc": "powerpc",
    "riscv64": "riscv", "riscv32": "riscv", "mips": "mips", "mips64": "mips", "mipsel": "mips",
    "mips64el": "mips", "sparc64": "sparc", "sparc": "sparc", "loongarch64": "loongarch", "arc": "arc",
}
KNOWN_TARGET_ARCHES = frozenset(_TARGET_ARCHES.values())


def target_arch(machine: str | None = None) -> str:
    """The ``__TARGET_ARCH_<arch>`` name for a machine (``uname -m``; default: this one)."""
    machine = machine or os.uname().machine
    if machine in _TARGET_ARCHES:
        return _TARGET_ARCHES[machine]
    if machine.startswith("arm"):
        return "arm"
    return machine


@dataclass(frozen=True, slots=True)
class ProgramConfig:
    """Settings that shape one program's compile command."""

    cflags: tuple[str, ...] = ()
    defines: tuple[tuple[str, str], ...] = ()
    include_dirs: tuple[str, ...] = ()
    mcpu: str | None = None


@dataclass(frozen=True, slots=True)
class ProgramSource:
    """One BPF source and the paths derived from it (no I/O).

    ``name`` is unique in the project (tasks ``build:<name>``, ``build/<name>.bpf.o``);
    ``stem`` is the file name without its suffix (the test spec is ``<stem>.test.toml`` beside
    the source).  ``prog_type``/``attach`` override what libbpf infers from untyped sections.
    """

    name: str
    source: Path
    object: Path
    depfile: Path
    settings: ProgramConfig
    stem: str = ""
    prog_type: str | None = None
    attach: str | None = None
    skeleton: str | None = None     # the C skeleton's name (bpftool's ``name``); None: derived

    @property
    def spec(self) -> Path:
        """The test spec beside the source: ``programs/hello.test.toml``."""
        return self.source.with_name((self.stem or self.name) + SPEC_SUFFIX)


@dataclass(frozen=True, slots=True)
class LoaderSource:
    """A user-space loader (C) built against the skeletons, and its outputs in the build dir.

    ``extra_sources`` are compiled and linked into it (``loader_sources``), ``libs`` are link
    flags put after libbpf's (``loader_libs``), ``cflags`` go before the sources (``loader_cflags``)."""

    name: str
    source: Path
    executable: Path
    depfile: Path
    extra_sources: tuple[Path, ...] = ()
    libs: tuple[str, ...] = ()
    cflags: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Config:
    root: Path
    source_dir: Path
    build_dir: Path
    defaults: ProgramConfig = ProgramConfig()
    overrides: tuple[tuple[str, ProgramConfig], ...] = ()
    pin_dir: str | None = None
    verify: str = "error"
    sources: tuple[str, ...] = ()                # globs; empty: <source_dir>/*.bpf.c
    loaders: tuple[str, ...] = ()                # globs of loader sources
    compiler_launcher: tuple[str, ...] = ()      # argv put in front of the compiler
    compiler: str | None = None                  # the BPF compiler ($BPF_CLANG's syntax); None: discovered
    arch: str | None = None                      # target_arch; None: the build machine's
    #: name -> its type/attach/loader/verify settings
    program_extras: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = ()
    target_kernels: tuple[str, ...] = ()
    loader_extra_sources: tuple[str, ...] = ()   # globs compiled into every loader
    loader_libs: tuple[str, ...] = ()
    loader_cflags: tuple[str, ...] = ()

    @property
    def project_name(self) -> str:
        return self.root.resolve().name or "bpfbuild"

    @property
    def bpffs_dir(self) -> str:
        return self.pin_dir or f"/sys/fs/bpf/{self.project_name}"

    def compiler_environ(self, environ: Mapping[str, str] | None = None) -> dict[str, str]:
        """The environment compiler discovery reads: ``compiler`` as ``$BPF_CLANG`` unless that is
        set (the environment wins, as for every tool that reads CC)."""
        env = dict(os.environ if environ is None else environ)
        if self.compiler and not env.get("BPF_CLANG", "").strip():
            env["BPF_CLANG"] = self.compiler
        return env

    def settings_for(self, name: str) -> ProgramConfig:
        """The effective settings of a program: defaults, then its override appended/replacing."""
        over = dict(self.overrides).get(name)
        if over is None:
            return self.defaults
        return ProgramConfig(
            cflags=self.defaults.cflags + over.cflags,
            defines=tuple({**dict(self.defaults.defines), **dict(over.defines)}.items()),
            include_dirs=over.include_dirs + self.defaults.include_dirs,
            mcpu=over.mcpu or self.defaults.mcpu,
        )

    @property
    def target_arch(self) -> str:
        return self.arch or target_arch()

    @property
    def source_globs(self) -> tuple[str, ...]:
        if self.sources:
            return self.sources
        return (f"{_relative(self.source_dir, self.root)}/*{SOURCE_SUFFIX}",)

    def _extra(self, name: str, key: str) -> str | None:
        return dict(dict(self.program_extras).get(name, ())).get(key)

    def verify_mode(self, name: str) -> str:
        """``error`` or ``warn`` for one program: its own ``verify``, else the project's."""
        return self._extra(name, "verify") or self.verify

    def program(self, source: Path, name: str | None = None) -> ProgramSource:
        stem = source_stem(source.name)
        name = name or stem
        return ProgramSource(
            name=name,
            source=source,
            object=self.build_dir / f"{name}.bpf.o",
            depfile=self.build_dir / f"{name}.d",
            settings=self.settings_for(name),
            stem=stem,
            prog_type=self._extra(name, "type"),
            attach=self._extra(name, "attach"),
            skeleton=self._extra(name, "skeleton"),
        )

    def programs(self) -> tuple[ProgramSource, ...]:
        """Every source the ``sources`` globs match, sorted by path (one listing per glob, cached)."""
        return _programs(self)

    def loader_sources(self) -> tuple[LoaderSource, ...]:
        """The loaders: the ``loaders`` globs, then each program's ``loader`` (unique names)."""
        return _loaders(self)


def source_stem(filename: str) -> str:
    """``hello.bpf.c`` -> ``hello``; ``xdp_kern.c`` -> ``xdp_kern``."""
    for suffix in (SOURCE_SUFFIX, ".c"):
        if filename.endswith(suffix) and len(filename) > len(suffix):
            return filename[: -len(suffix)]
    return filename


def _relative(path: Path, root: Path) -> str:
    try:
        return str(path.relative_to(root)) if path.is_absolute() == root.is_absolute() else str(path)
    except ValueError:
        return str(path)


def _glob_one(root: Path, pattern: str) -> list[Path]:
    try:
        if os.path.isabs(pattern):
            base, rel = Path(pattern).anchor, pattern.lstrip(os.sep)
            return sorted(Path(base).glob(rel))
        return sorted(root.glob(pattern))
    except (ValueError, OSError) as exc:   # validated when read; a file system error says which glob
        raise ConfigError(f"glob {pattern!r}: {exc}") from None


def _glob(root: Path, patterns: tuple[str, ...]) -> list[Path]:
    """Files matching any pattern, each once, in pattern order then name order, less those a
    ``!pattern`` matches (the file itself or a folder above it: ``!vendor/**`` leaves out a tree)."""
    seen: dict[str, Path] = {}
    excluded: set[str] = set()
    for pattern in patterns:
        if pattern.startswith("!"):
            excluded.update(os.path.normpath(m) for m in _glob_one(root, pattern[1:]))
            continue
        for m in _glob_one(root, pattern):
            if m.is_file():
                key = os.path.normpath(m)
                seen.setdefault(key, m)
    if not excluded:
        return list(seen.values())
    return [p for key, p in seen.items() if not _excluded(key, excluded)]


def _excluded(path: str, excluded: set[str]) -> bool:
    while True:
        if path in excluded:
            return True
        parent = os.path.dirname(path)
        if not parent or parent == path:
            return False
        path = parent


def unique_names(paths: list[Path], root: Path) -> list[str]:
    """One name per path: its stem, or, where stems collide, the stem prefixed by as many parent
    folders as make it unique (``lesson1/xdp_kern.c`` -> ``lesson1-xdp_kern``)."""
    parts = []
    for p in paths:
        rel = Path(_relative(p, root)).parts
        parts.append([*rel[:-1], source_stem(rel[-1])] if rel else [source_stem(p.name)])
    depth = [1] * len(paths)
    while True:
        names = ["-".join(ps[-d:]) for ps, d in zip(parts, depth)]
        clashes = {n for n in names if names.count(n) > 1}
        grow = [i for i, n in enumerate(names) if n in clashes and depth[i] < len(parts[i])]
        if not grow:
            return names
        for i in grow:
            depth[i] += 1


@functools.lru_cache(maxsize=32)
def _programs(config: Config) -> tuple[ProgramSource, ...]:
    paths = _glob(config.root, config.source_globs)
    names = unique_names(paths, config.root)
    return tuple(sorted((config.program(p, n) for p, n in zip(paths, names)), key=lambda p: str(p.source)))


@functools.lru_cache(maxsize=32)
def _loaders(config: Config) -> tuple[LoaderSource, ...]:
    paths = _glob(config.root, config.loaders)
    for name, extras in config.program_extras:
        loader = dict(extras).get("loader")
        if loader is not None:
            path = config.root / loader
            if all(os.path.normpath(path) != os.path.normpath(p) for p in paths):
                paths.append(path)
    common = _glob(config.root, config.loader_extra_sources) if config.loader_extra_sources else []
    # a file given as an extra source is a part of every loader, never a loader of its own
    shared = {os.path.normpath(p) for p in common}
    paths = [p for p in paths if os.path.normpath(p) not in shared]
    names = unique_names(paths, config.root)
    return tuple(sorted((LoaderSource(n, p, config.build_dir / n, config.build_dir / f"{n}.loader.d",
                                      extra_sources=_extras_for(p, common), libs=config.loader_libs,
                                      cflags=config.loader_cflags)
                         for p, n in zip(paths, names)), key=lambda loader: loader.name))


def _extras_for(loader: Path, common: list[Path]) -> tuple[Path, ...]:
    """The ``loader_sources`` compiled into one loader: all of them when they lie in one folder
    (helpers beside the tools, or in a folder of their own); where they lie in several (each
    tutorial lesson with its own trace_helpers.c), those of the nearest folder at or above the
    loader's, or none."""
    by_folder: dict[str, list[Path]] = {}
    for p in common:
        by_folder.setdefault(os.path.normpath(p.parent), []).append(p)
    if len(by_folder) <= 1:
        return tuple(common)
    folder = os.path.normpath(loader.parent)
    while True:
        if folder in by_folder:
            return tuple(by_folder[folder])
        parent = os.path.dirname(folder) or ("." if folder not in (".", os.sep) else folder)
        if parent == folder:
            return ()
        folder = parent


def _check_globs(patterns: tuple[str, ...], where: str) -> None:
    """One line for a glob pathlib refuses (``a**/b``) or an exclusion with nothing after the ``!``."""
    for pattern in patterns:
        body = pattern[1:] if pattern.startswith("!") else pattern
        if not body:
            raise ConfigError(f"{where}: {pattern!r} is not a glob")
        for part in body.replace(os.sep, "/").split("/"):
            if "**" in part and part != "**":
                raise ConfigError(f"{where}: {pattern!r}: '**' must be a whole path component (\"src/**/*.c\")")
    if patterns and all(p.startswith("!") for p in patterns):
        raise ConfigError(f"{where} has only exclusions (\"!glob\"): name the files to take first")


def _str_list(value: Any, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{where} must be a list of strings")
    return tuple(value)


def _defines(value: Any, where: str) -> tuple[tuple[str, str], ...]:
    if not isinstance(value, dict):
        raise ConfigError(f"{where} must be a table of NAME = value")
    out = []
    for key, val in value.items():
        if isinstance(val, bool):
            val = "1" if val else "0"
        if not isinstance(val, (str, int)):
            raise ConfigError(f"{where}.{key} must be a string or an integer")
        out.append((str(key), str(val)))
    return tuple(out)


def _program_config(table: dict[str, Any], where: str) -> ProgramConfig:
    allowed = _KEYS if where == "[tool.bpfbuild]" else _PROGRAM_ONLY_KEYS
    unknown = set(table) - _PROGRAM_KEYS - allowed
    if unknown:
        raise ConfigError(f"{where}: unknown key {sorted(unknown)[0]!r}")
    mcpu = table.get("mcpu")
    if mcpu is not None and (not isinstance(mcpu, str) or mcpu not in {"v1", "v2", "v3", "v4", "generic", "probe"}):
        raise ConfigError(f"{where}.mcpu must be one of v1, v2, v3, v4, generic, probe")
    return ProgramConfig(
        cflags=_str_list(table.get("cflags", []), f"{where}.cflags"),
        defines=_defines(table.get("defines", {}), f"{where}.defines"),
        include_dirs=_str_list(table.get("include_dirs", []), f"{where}.include_dirs"),
        mcpu=mcpu,
    )


def config_from_table(root: Path, table: dict[str, Any]) -> Config:
    """Build a Config from the ``[tool.bpfbuild]`` table (already parsed)."""
    where = "[tool.bpfbuild]"
    defaults = _program_config(table, where)
    for key in ("source_dir", "build_dir", "pin_dir", "verify", "target_arch", "compiler"):
        if key in table and not isinstance(table[key], str):
            raise ConfigError(f"{where}.{key} must be a string")
    arch = table.get("target_arch")
    if arch is not None and arch not in KNOWN_TARGET_ARCHES:
        raise ConfigError(f"{where}.target_arch must be one of {', '.join(sorted(KNOWN_TARGET_ARCHES))}")
    sources = _str_list(table.get("sources", []), f"{where}.sources")
    if "sources" in table and not sources:
        raise ConfigError(f"{where}.sources must name at least one glob")
    loaders = _str_list(table.get("loaders", []), f"{where}.loaders")
    loader_sources = _str_list(table.get("loader_sources", []), f"{where}.loader_sources")
    loader_libs = _str_list(table.get("loader_libs", []), f"{where}.loader_libs")
    loader_cflags = _str_list(table.get("loader_cflags", []), f"{where}.loader_cflags")
    for key, globs in (("sources", sources), ("loaders", loaders), ("loader_sources", loader_sources)):
        _check_globs(globs, f"{where}.{key}")
    launcher = table.get("compiler_launcher", [])
    if isinstance(launcher, str):
        launcher = launcher.split()
    launcher = _str_list(launcher, f"{where}.compiler_launcher")
    verify = table.get("verify", "error")
    if verify not in ("error", "warn"):
        raise ConfigError(f"{where}.verify must be \"error\" or \"warn\"")
    targets = _str_list(table.get("target_kernels", []), f"{where}.target_kernels")
    for name in targets:
        if name != "running" and not name.endswith(".json") and not re.match(r"^\d+\.\d+(\.\d+)?$", name):
            raise ConfigError(f"{where}.target_kernels: {name!r} is not a kernel version (5.15), \"running\" "
                              "or a probe file (NAME.json)")
    programs = table.get("programs", {})
    if not isinstance(programs, dict):
        raise ConfigError(f"{where}.programs must be a table of per-program tables")
    overrides = []
    extras = []
    for name, sub in sorted(programs.items()):
        if not isinstance(sub, dict):
            raise ConfigError(f"{where}.programs.{name} must be a table")
        overrides.append((name, _program_config(sub, f"{where}.programs.{name}")))
        extra = []
        for key in sorted(_PROGRAM_ONLY_KEYS & set(sub)):
            if not isinstance(sub[key], str) or not sub[key]:
                raise ConfigError(f"{where}.programs.{name}.{key} must be a non-empty string")
            extra.append((key, sub[key]))
        if "attach" in sub and "type" not in sub:
            raise ConfigError(f"{where}.programs.{name}.attach needs a type (the program type it attaches as)")
        if "skeleton" in sub and not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]{0,62}", str(sub["skeleton"])):
            raise ConfigError(f"{where}.programs.{name}.skeleton must be a C identifier (bpftool's name)")
        if sub.get("verify", "error") not in ("error", "warn"):
            raise ConfigError(f"{where}.programs.{name}.verify must be \"error\" or \"warn\"")
        if extra:
            extras.append((name, tuple(extra)))
    return Config(
        root=root,
        source_dir=root / table.get("source_dir", "programs"),
        build_dir=root / table.get("build_dir", "build"),
        defaults=defaults,
        overrides=tuple(overrides),
        pin_dir=table.get("pin_dir"),
        verify=verify,
        sources=sources,
        loaders=loaders,
        compiler_launcher=launcher,
        arch=arch,
        program_extras=tuple(extras),
        target_kernels=targets,
        loader_extra_sources=loader_sources,
        loader_libs=loader_libs,
        loader_cflags=loader_cflags,
        compiler=table.get("compiler") or None,
    )


#: load_config's results in this process, by pyproject.toml path and its text
_LOADED: dict[str, tuple[str | None, Config]] = {}
#: the parsed [tool.bpfbuild] table of the last run, beside the default build dir
TABLE_CACHE = "build/.pyproject.cache.json"


def load_config(root: Path | str = ".") -> Config:
    """Read ``root/pyproject.toml`` (absent file or table: defaults).

    The file is parsed once per process while its text is unchanged, and a no-op ``doit`` does
    not parse it at all: the table the last run parsed is kept, with the text it came from, in
    ``build/.pyproject.cache.json`` (where the build dir is the default one)."""
    root = Path(root)
    path = root / "pyproject.toml"
    from bpfbuild.inputs import read_text_input

    try:
        text: str | None = read_text_input(path, error=ConfigError)
    except ConfigError:
        if not os.path.lexists(path):
            text = None
        else:
            raise
    key = os.path.abspath(path)
    hit = _LOADED.get(key)
    if hit is not None and hit[0] == text:
        return hit[1]
    table = _cached_table(root, text)
    cached = table is not None
    if table is None:
        table = _parse_table(path, text)
    try:
        config = config_from_table(root, table)
    except ConfigError as exc:
        raise exc.with_file(str(path)) from None
    _LOADED[key] = (text, config)
    if not cached and text is not None:
        _save_table(root, config, text, table)
    return config


def _parse_table(path: Path, text: str | None) -> dict[str, Any]:
    if text is None:
        return {}
    import tomllib

    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"invalid TOML: {exc}", file=str(path)) from exc
    tool = data.get("tool", {})
    table = tool.get("bpfbuild", {}) if isinstance(tool, dict) else {}
    if not isinstance(table, dict):
        raise ConfigError("[tool.bpfbuild] must be a table", file=str(path))
    return table


def _cached_table(root: Path, text: str | None) -> dict[str, Any] | None:
    if text is None:
        return None
    import json

    try:
        data = json.loads((root / TABLE_CACHE).read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("text") != text or not isinstance(data.get("table"), dict):
        return None
    return data["table"]


def _save_table(root: Path, config: Config, text: str, table: dict[str, Any]) -> None:
    """Keep the parsed table for the next run, only where the build dir is the default one
    (the cache must be found before the configuration says where the build dir is)."""
    import json

    cache = root / TABLE_CACHE
    if os.path.abspath(config.build_dir) != os.path.abspath(cache.parent) or not cache.parent.is_dir():
        return
    try:
        data = json.dumps({"text": text, "table": table})
        if json.loads(data)["table"] != table:
            return   # TOML values JSON cannot hold (dates): parse each time
        tmp = cache.with_name(f"{cache.name}.{os.getpid()}.tmp")
        tmp.write_text(data)
        os.replace(tmp, cache)
    except (OSError, TypeError, ValueError):
        pass
