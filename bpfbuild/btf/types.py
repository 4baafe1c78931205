"""The BTF type model: one frozen, slotted record per kind.

Types refer to each other by id (``type``, ``return_type``, member and parameter
``type`` fields); :class:`bpfbuild.btf.spec.Spec` turns an id into its record and
resolves chains (``spec.resolve``, ``spec.size_of``...).  Every record carries its
own ``id`` and ``name`` ("" for anonymous types) and a class-level ``kind``.
Kind numbers, encodings and linkages are those of the kernel's ``linux/btf.h``.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import ClassVar, TypeAlias

__all__ = [
    "Array",
    "Const",
    "Datasec",
    "DeclTag",
    "Enum",
    "Enum64",
    "EnumValue",
    "Float",
    "Func",
    "FuncProto",
    "Fwd",
    "FwdKind",
    "Int",
    "IntEncoding",
    "Kind",
    "Linkage",
    "Member",
    "Param",
    "Pointer",
    "Restrict",
    "Struct",
    "Type",
    "TypeTag",
    "Typedef",
    "Union",
    "Var",
    "VarSecinfo",
    "Void",
    "Volatile",
]


class Kind(enum.IntEnum):
    """BTF kinds as numbered on the wire (``BTF_KIND_*``); ``VOID`` is id 0, never on the wire."""

    VOID = 0
    INT = 1
    PTR = 2
    ARRAY = 3
    STRUCT = 4
    UNION = 5
    ENUM = 6
    FWD = 7
    TYPEDEF = 8
    VOLATILE = 9
    CONST = 10
    RESTRICT = 11
    FUNC = 12
    FUNC_PROTO = 13
    VAR = 14
    DATASEC = 15
    FLOAT = 16
    DECL_TAG = 17
    TYPE_TAG = 18
    ENUM64 = 19


class IntEncoding(enum.IntFlag):
    """``BTF_INT_*`` encoding bits of an INT (at most one is set)."""

    NONE = 0
    SIGNED = 1
    CHAR = 2
    BOOL = 4


class Linkage(enum.IntEnum):
    """Linkage of a FUNC (``BTF_FUNC_*``) or a VAR (``BTF_VAR_*``): the numbers agree."""

    STATIC = 0
    GLOBAL = 1
    EXTERN = 2


class FwdKind(enum.Enum):
    """What a forward declaration announces."""

    STRUCT = "struct"
    UNION = "union"


@dataclass(frozen=True, slots=True)
class Void:
    """The type of id 0: ``void`` (and "no type" where an id is optional)."""

    kind: ClassVar[Kind] = Kind.VOID
    id: int = 0
    name: str = ""


@dataclass(frozen=True, slots=True)
class Int:
    """An integer of ``size`` bytes; ``bits`` value bits starting at bit ``offset``."""

    kind: ClassVar[Kind] = Kind.INT
    id: int
    name: str
    size: int
    encoding: IntEncoding
    bits: int
    offset: int = 0

    @property
    def signed(self) -> bool:
        return bool(self.encoding & IntEncoding.SIGNED)

    @property
    def is_char(self) -> bool:
        return bool(self.encoding & IntEncoding.CHAR)

    @property
    def is_bool(self) -> bool:
        return bool(self.encoding & IntEncoding.BOOL)


@dataclass(frozen=True, slots=True)
class Pointer:
    kind: ClassVar[Kind] = Kind.PTR
    id: int
    name: str
    type: int


@dataclass(frozen=True, slots=True)
class Array:
    """``nelems`` elements of ``type``; ``index_type`` is an INT (clang: ``__ARRAY_SIZE_TYPE__``)."""

    kind: ClassVar[Kind] = Kind.ARRAY
    id: int
    name: str
    type: int
    index_type: int
    nelems: int


@dataclass(frozen=True, slots=True)
class Member:
    """A struct/union member at ``bit_offset``; ``bitfield_size`` is 0 unless a bitfield.

    BTF without the kind flag (old style) encodes bitfields in the member's INT type
    (its ``bits``/``offset``) instead; the record keeps what the wire says.
    """

    name: str
    type: int
    bit_offset: int
    bitfield_size: int = 0

    @property
    def byte_offset(self) -> int:
        return self.bit_offset // 8


@dataclass(frozen=True, slots=True)
class Struct:
    kind: ClassVar[Kind] = Kind.STRUCT
    id: int
    name: str
    size: int
    members: tuple[Member, ...]


@dataclass(frozen=True, slots=True)
class Union:
    kind: ClassVar[Kind] = Kind.UNION
    id: int
    name: str
    size: int
    members: tuple[Member, ...]


@dataclass(frozen=True, slots=True)
class EnumValue:
    name: str
    value: int


@dataclass(frozen=True, slots=True)
class Enum:
    """An enumeration of ``size`` bytes with 32-bit values (signed when ``signed``)."""

    kind: ClassVar[Kind] = Kind.ENUM
    id: int
    name: str
    size: int
    values: tuple[EnumValue, ...]
    signed: bool = False


@dataclass(frozen=True, slots=True)
class Enum64:
    """An enumeration with 64-bit values (signed when ``signed``)."""

    kind: ClassVar[Kind] = Kind.ENUM64
    id: int
    name: str
    size: int
    values: tuple[EnumValue, ...]
    signed: bool = False


@dataclass(frozen=True, slots=True)
class Fwd:
    kind: ClassVar[Kind] = Kind.FWD
    id: int
    name: str
    fwd_kind: FwdKind


@dataclass(frozen=True, slots=True)
class Typedef:
    kind: ClassVar[Kind] = Kind.TYPEDEF
    id: int
    name: str
    type: int


@dataclass(frozen=True, slots=True)
class Volatile:
    kind: ClassVar[Kind] = Kind.VOLATILE
    id: int
    name: str
    type: int


@dataclass(frozen=True, slots=True)
class Const:
    kind: ClassVar[Kind] = Kind.CONST
    id: int
    name: str
    type: int


@dataclass(frozen=True, slots=True)
class Restrict:
    kind: ClassVar[Kind] = Kind.RESTRICT
    id: int
    name: str
    type: int


@dataclass(frozen=True, slots=True)
class Func:
    """A function (subprogram); ``type`` is its FUNC_PROTO."""

    kind: ClassVar[Kind] = Kind.FUNC
    id: int
    name: str
    type: int
    linkage: Linkage


@dataclass(frozen=True, slots=True)
class Param:
    name: str
    type: int


@dataclass(frozen=True, slots=True)
class FuncProto:
    """A function type; a trailing ``...`` is ``variadic`` (not a parameter)."""

    kind: ClassVar[Kind] = Kind.FUNC_PROTO
    id: int
    name: str
    return_type: int
    params: tuple[Param, ...]
    variadic: bool = False


@dataclass(frozen=True, slots=True)
class Var:
    kind: ClassVar[Kind] = Kind.VAR
    id: int
    name: str
    type: int
    linkage: Linkage


@dataclass(frozen=True, slots=True)
class VarSecinfo:
    """A variable (VAR id) at ``offset`` in a data section, ``size`` bytes.

    clang 14 writes 0 for both offset and size; the object reader fixes them up.
    """

    type: int
    offset: int
    size: int


@dataclass(frozen=True, slots=True)
class Datasec:
    kind: ClassVar[Kind] = Kind.DATASEC
    id: int
    name: str
    size: int
    vars: tuple[VarSecinfo, ...]


@dataclass(frozen=True, slots=True)
class Float:
    kind: ClassVar[Kind] = Kind.FLOAT
    id: int
    name: str
    size: int


@dataclass(frozen=True, slots=True)
class DeclTag:
    """A tag (``name``) on a declaration ``type``; ``component_idx`` -1 = the whole thing,
    else the index of a member or parameter.  ``attribute``: the tag is an ``__attribute__``."""

    kind: ClassVar[Kind] = Kind.DECL_TAG
    id: int
    name: str
    type: int
    component_idx: int
    attribute: bool = False


@dataclass(frozen=True, slots=True)
class TypeTag:
    """A tag (``name``) on a type (e.g. ``user``, ``percpu``); ``attribute`` as for DeclTag."""

    kind: ClassVar[Kind] = Kind.TYPE_TAG
    id: int
    name: str
    type: int
    attribute: bool = False


Type: TypeAlias = (
    Void | Int | Pointer | Array | Struct | Union | Enum | Fwd | Typedef | Volatile | Const | Restrict
    | Func | FuncProto | Var | Datasec | Float | DeclTag | TypeTag | Enum64
)
