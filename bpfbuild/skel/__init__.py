"""Skeletons for loaders, generated from objects with Jinja2 templates.

* :mod:`.model` computes a plain model of an object's skeleton (names as bpftool derives them,
  maps and programs in libbpf's order, global-data structs at their fixed offsets with explicit
  padding, C declarations from BTF, Python value layouts); every identifier is checked there.
* :mod:`.generate` renders it: ``c_header`` (the API ``bpftool gen skeleton`` writes) and
  ``python_module`` (the same shape on top of :mod:`bpfbuild.kernel`).
* :mod:`.btfdump` prints BTF as ``bpftool btf dump`` does (raw) or as a C header (vmlinux.h).
* :mod:`.render` is the only module that imports jinja2; :mod:`.text` spells literals.

Nothing here is imported by ``bpfbuild.skel`` itself: import the submodules you use.
"""

__all__: list[str] = []
