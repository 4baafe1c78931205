"""Enum members as plain class attributes, for the verifier's per-instruction code.

On Python 3.11 the Enum metaclass defines ``__getattr__``, which routes every class attribute
lookup (``RegType.SCALAR_VALUE``, ``InsnClass.ALU``) through a slow path: several times the cost
of a plain class attribute.  The hot modules rebind the enums they read to :func:`members` of
them -- a plain class holding the very same member objects, so values, ``.name`` and comparisons
are unchanged; only calling the enum (``RegType(x)``) or ``isinstance`` needs the real class.
"""

from __future__ import annotations

import enum
from typing import Any

__all__ = ["members"]


def members(enum_cls: type[enum.Enum]) -> Any:
    """A plain class named like ``enum_cls`` whose attributes are its members (aliases too)."""
    return type(enum_cls.__name__, (), {"__slots__": (), **enum_cls.__members__})
