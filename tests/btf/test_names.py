"""Spec.names_any and the records it lets skip: a BTF without a type named as a special field
has only empty records, one with such a name is still walked."""

from __future__ import annotations

from bpfbuild.btf.record import EMPTY, FieldKind, parse_record, parse_var_record
from bpfbuild.btf.spec import Spec

from .btfwriter import BTFWriter

_FIELD_NAMES = frozenset(k.value for k in FieldKind)


def _value(with_lock: bool) -> tuple[Spec, int]:
    """A BTF whose ``struct value`` holds an int and, ``with_lock``, a ``struct bpf_spin_lock``."""
    w = BTFWriter()
    u32 = w.int_("unsigned int", 4)
    members = [("count", u32, 0)]
    if with_lock:
        lock = w.struct("bpf_spin_lock", 4, [("val", u32, 0)])
        members.append(("lock", lock, 32))
    value = w.struct("value", 8, members)
    return Spec.from_bytes(w.to_bytes()), value


def test_names_any_looks_up_names_of_own_and_base_types():
    plain, _ = _value(with_lock=False)
    locked, _ = _value(with_lock=True)
    assert not plain.names_any(_FIELD_NAMES)
    assert locked.names_any(_FIELD_NAMES)
    assert locked.names_any(frozenset({"value", "absent"}))
    base_w = BTFWriter()
    u32 = base_w.int_("unsigned int", 4)
    base_w.struct("bpf_timer", 16, [("a", u32, 0)])
    split_w = BTFWriter(base=base_w)
    split_w.struct("mine", 4, [("a", u32, 0)])
    split = Spec.from_bytes(split_w.to_bytes(), base=Spec.from_bytes(base_w.to_bytes()))
    assert split.names_any(frozenset({"bpf_timer"}))
    assert not split.names_any(frozenset({"bpf_wq"}))


def test_records_without_and_with_field_names():
    plain, value = _value(with_lock=False)
    assert parse_record(plain, value) is EMPTY
    assert parse_var_record(plain, ((value, 0),)) is EMPTY
    locked, value = _value(with_lock=True)
    (lock,) = parse_record(locked, value).fields
    assert (lock.kind, lock.offset, lock.size) == (FieldKind.SPIN_LOCK, 4, 4)
    (lock,) = parse_var_record(locked, ((value, 16),)).fields
    assert lock.offset == 20
