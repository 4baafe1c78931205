"""Skeletons from object files: ``skeleton_from_file`` -> model, ``c_header`` / ``python_module`` -> text.

::

    skel = skeleton_from_file("build/hello.bpf.o")          # name hello_bpf, as bpftool derives it
    Path("build/hello.skel.h").write_text(c_header(skel))
    Path("build/hello_skel.py").write_text(python_module(skel))

The same object bytes (and name) always give the same text, byte for byte.
"""

from __future__ import annotations

import enum
import os
from pathlib import Path

from bpfbuild.abi.target import Target
from bpfbuild.errors import BpfBuildError, ObjectError
from bpfbuild.obj.loader import load_object, object_name
from bpfbuild.skel.model import Skeleton, build_skeleton, check_python_names, python_class_name
from bpfbuild.skel.names import skeleton_name

__all__ = ["Lang", "c_header", "generate", "python_module", "skeleton_from_bytes", "skeleton_from_file"]

C_TEMPLATE = "skel.h.j2"
PY_TEMPLATE = "skel.py.j2"


class Lang(enum.Enum):
    C = "c"
    PYTHON = "python"


def skeleton_from_bytes(data: bytes, *, path: str, name: str | None = None) -> Skeleton:
    """The skeleton model of an object's bytes; ``path`` names it (and derives the default name).

    A skeleton is a function of the object alone, as ``bpftool gen skeleton`` opens the object
    without loading it: externs (``__ksym``, ``__kconfig``) and CO-RE relocations are resolved by
    libbpf when the loader loads it.  So the object is read against the default target (nothing
    of this machine's kernel): a kfunc this kernel lacks, or declares otherwise, does not stop the
    skeleton (the verifier reports it against the target)."""
    skel_name = skeleton_name(path, name)
    try:
        spec = load_object(data, name=object_name(path), target=Target.default())
        return build_skeleton(spec, data, name=skel_name, source=os.path.basename(path))
    except BpfBuildError as exc:
        raise exc.with_file(path) from None


def skeleton_from_file(path: str | Path, *, name: str | None = None) -> Skeleton:
    path = str(path)
    from bpfbuild.inputs import read_input

    data = read_input(path, error=ObjectError)
    return skeleton_from_bytes(data, path=path, name=name)


def c_header(skel: Skeleton) -> str:
    """The C skeleton header (``<name>.skel.h``)."""
    from bpfbuild.skel.render import render

    return render(C_TEMPLATE, skel=skel)


def python_module(skel: Skeleton) -> str:
    """The Python skeleton module (``<name>_skel.py``); SkelError for names Python cannot use."""
    from bpfbuild.skel.render import render

    check_python_names(skel)
    return render(PY_TEMPLATE, skel=skel, class_name=python_class_name(skel.name))


def generate(path: str | Path, *, name: str | None = None, lang: Lang = Lang.C) -> str:
    skel = skeleton_from_file(path, name=name)
    return c_header(skel) if lang is Lang.C else python_module(skel)
