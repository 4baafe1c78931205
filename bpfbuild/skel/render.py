"""Jinja2 rendering (the only module that imports jinja2).

Templates live in ``bpfbuild/skel/templates``; the Python side computes a plain model and the
templates only lay it out.  The environment is strict (an undefined name is an error) and
deterministic (same model, same bytes).
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

    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATE_DIR)),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=False,
    )


def render(template: str, **model: Any) -> str:
    """Render ``templates/<template>`` with the model's names."""
    return _environment().get_template(template).render(**model)
