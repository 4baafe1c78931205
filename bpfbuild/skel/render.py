"""Jinja2 rendering (the only module that imports jinja2).

Templates live in ``bpfbuild/skel/templates``; the Python side computes a plain model and the
templates only lay it out.  The environment is strict (an undefined name is an error) and
deterministic (same model, same bytes).  Filters (from :mod:`bpfbuild.skel.text`): ``c_string``
(a C string literal), ``c_bytes_lines`` (bytes as C string literals, one per line),
``py_bytes_lines`` (hex string literals), ``py`` (a Python literal).
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

__all__ = ["TEMPLATE_DIR", "render"]

TEMPLATE_DIR = Path(__file__).resolve().parent / "templates"


@functools.cache
def _environment() -> Any:
    import jinja2

    from bpfbuild.skel import text

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATE_DIR)),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=False,
    )
    # Literal spelling (quotes, escapes) is done in Python, never by hand in a template.
    env.filters.update(c_string=text.c_string, c_bytes_lines=text.c_bytes_lines,
                       py_bytes_lines=text.py_bytes_lines, py=text.py_literal)
    return env


def render(template: str, **model: Any) -> str:
    """Render ``templates/<template>`` with the model's names."""
    return _environment().get_template(template).render(**model)
