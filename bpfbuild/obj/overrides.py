"""Program types given by the project for sections libbpf cannot type (``bpf_program__set_type``).

Old tutorials name sections freely (``SEC("xdp_icmp_echo")``, ``SEC("socket1")``); libbpf 1.x
opens such an object but cannot load those programs until the loader sets their type, as
``bpftool prog load OBJ PIN type xdp`` does.  ``[tool.bpfbuild.programs.<name>] type = "xdp"``
(and ``attach = "<target>"``) is that setting: the type is a name bpftool's ``type`` accepts,
i.e. a section name libbpf knows (``xdp``, ``tc``, ``kprobe``, ``cgroup/skb``, ...), giving the
program type and expected attach type; ``attach`` is the attach target (a kprobe's function,
a tracepoint ``category/name``).  Applied to the programs whose own section is untyped.

Kept apart from the loader: :func:`with_program_types` takes and returns an ObjectSpec.
"""

from __future__ import annotations

import dataclasses

from bpfbuild.abi.progtypes import SectionInfo, classify_section, section_defs
from bpfbuild.errors import ConfigError
from bpfbuild.obj.spec import ObjectSpec

__all__ = ["section_info_for", "suggest_type", "untyped_hint", "with_program_types"]


def section_info_for(section: str, prog_type: str, attach: str | None = None) -> SectionInfo:
    """What a program in ``section`` is once given ``type = prog_type`` (and ``attach``)."""
    info = None
    if attach:
        info = classify_section(f"{prog_type}/{attach}")
    if info is None:
        info = classify_section(prog_type)
    if info is None:
        known = sorted({d.prefix.rstrip("/") for d in section_defs() if "/" not in d.prefix.rstrip("/")})
        raise ConfigError(f'type = "{prog_type}" is not a program type libbpf knows (one of: {", ".join(known)})')
    target = attach if attach else info.attach_target
    return SectionInfo(section, info.sec_def, target)


def with_program_types(spec: ObjectSpec, prog_type: str | None, attach: str | None = None) -> ObjectSpec:
    """``spec`` with every untyped program given ``prog_type`` (unchanged when None)."""
    if prog_type is None or all(p.section_info is not None for p in spec.programs):
        return spec
    programs = tuple(p if p.section_info is not None else
                     dataclasses.replace(p, section_info=section_info_for(p.section, prog_type, attach))
                     for p in spec.programs)
    return dataclasses.replace(spec, programs=programs)


def suggest_type(section: str) -> str | None:
    """The type an untyped section most likely means: the longest libbpf section name it starts
    with (``xdp_icmp_echo`` -> ``xdp``, ``kprobe_sys_open`` -> ``kprobe``)."""
    best = None
    for d in section_defs():
        prefix = d.prefix.rstrip("/")
        if prefix and section.startswith(prefix) and classify_section(prefix) is not None:
            if best is None or len(prefix) > len(best):
                best = prefix
    return best


def untyped_hint(source: str, program: str, section: str) -> str:
    """The one line that names the setting for an untyped section."""
    guess = suggest_type(section) or "<type>"
    return (f'{source}: warning: section "{section}" has no program type libbpf recognises; '
            f'set [tool.bpfbuild.programs.{program}] type = "{guess}"')
