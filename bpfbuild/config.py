"""Project configuration: ``[tool.bpfbuild]`` in pyproject.toml, with zero-config defaults.

Keys (all optional)::

    [tool.bpfbuild]
    source_dir = "programs"          # where *.bpf.c live
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

Reading is pure (no compiler probing); ``load_config`` is the only I/O.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bpfbuild.errors import ConfigError

__all__ = ["Config", "ProgramConfig", "ProgramSource", "load_config"]

SOURCE_SUFFIX = ".bpf.c"
_KEYS = {"source_dir", "build_dir", "cflags", "defines", "include_dirs", "mcpu", "pin_dir", "verify", "programs",
         "target_kernels"}
_PROGRAM_KEYS = {"cflags", "defines", "include_dirs", "mcpu"}


@dataclass(frozen=True, slots=True)
class ProgramConfig:
    """Settings that shape one program's compile command."""

    cflags: tuple[str, ...] = ()
    defines: tuple[tuple[str, str], ...] = ()
    include_dirs: tuple[str, ...] = ()
    mcpu: str | None = None


@dataclass(frozen=True, slots=True)
class ProgramSource:
    """One ``<source_dir>/<name>.bpf.c`` and the paths derived from it (no I/O)."""

    name: str
    source: Path
    object: Path
    depfile: Path
    settings: ProgramConfig


@dataclass(frozen=True, slots=True)
class Config:
    root: Path
    source_dir: Path
    build_dir: Path
    defaults: ProgramConfig = ProgramConfig()
    overrides: tuple[tuple[str, ProgramConfig], ...] = ()
    pin_dir: str | None = None
    verify: str = "error"
    target_kernels: tuple[str, ...] = ()

    @property
    def project_name(self) -> str:
        return self.root.resolve().name or "bpfbuild"

    @property
    def bpffs_dir(self) -> str:
        return self.pin_dir or f"/sys/fs/bpf/{self.project_name}"

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

    def program(self, source: Path) -> ProgramSource:
        name = source.name[: -len(SOURCE_SUFFIX)]
        return ProgramSource(
            name=name,
            source=source,
            object=self.build_dir / f"{name}.bpf.o",
            depfile=self.build_dir / f"{name}.d",
            settings=self.settings_for(name),
        )

    def programs(self) -> tuple[ProgramSource, ...]:
        """Every ``*.bpf.c`` of the source dir, sorted by name (one directory listing)."""
        if not self.source_dir.is_dir():
            return ()
        return tuple(self.program(p) for p in sorted(self.source_dir.glob(f"*{SOURCE_SUFFIX}")))


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
    unknown = set(table) - _PROGRAM_KEYS - (_KEYS if where == "[tool.bpfbuild]" else set())
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
    for key in ("source_dir", "build_dir", "pin_dir", "verify"):
        if key in table and not isinstance(table[key], str):
            raise ConfigError(f"{where}.{key} must be a string")
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
    for name, sub in sorted(programs.items()):
        if not isinstance(sub, dict):
            raise ConfigError(f"{where}.programs.{name} must be a table")
        overrides.append((name, _program_config(sub, f"{where}.programs.{name}")))
    return Config(
        root=root,
        source_dir=root / table.get("source_dir", "programs"),
        build_dir=root / table.get("build_dir", "build"),
        defaults=defaults,
        overrides=tuple(overrides),
        pin_dir=table.get("pin_dir"),
        verify=verify,
        target_kernels=targets,
    )


def load_config(root: Path | str = ".") -> Config:
    """Read ``root/pyproject.toml`` (absent file or table: defaults)."""
    root = Path(root)
    path = root / "pyproject.toml"
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        data = {}
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read: {exc}", file=str(path)) from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"invalid TOML: {exc}", file=str(path)) from exc
    table = data.get("tool", {}).get("bpfbuild", {})
    if not isinstance(table, dict):
        raise ConfigError("[tool.bpfbuild] must be a table", file=str(path))
    try:
        return config_from_table(root, table)
    except ConfigError as exc:
        raise exc.with_file(str(path)) from None
