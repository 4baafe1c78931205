"""Local storage maps (sk/task/cgroup/inode storage), bpf_copy_from_user(_task) and
bpf_get_current_ancestor_cgroup_id, with the kernel's return values."""

from __future__ import annotations

import pytest

from bpfbuild.abi.helpers import helper_id
from bpfbuild.abi.maptypes import MapType
from bpfbuild.isa import assemble
from bpfbuild.vm import Machine, Session, VMError

STORAGE = {  # map type -> (get helper, delete helper)
    MapType.TASK_STORAGE: ("bpf_task_storage_get", "bpf_task_storage_delete"),
    MapType.SK_STORAGE: ("bpf_sk_storage_get", "bpf_sk_storage_delete"),
    MapType.CGRP_STORAGE: ("bpf_cgrp_storage_get", "bpf_cgrp_storage_delete"),
    MapType.INODE_STORAGE: ("bpf_inode_storage_get", "bpf_inode_storage_delete"),
}
OWNER_A, OWNER_B = 0xFFFF888000A00000, 0xFFFF888000B00000


class _Spec:
    def __init__(self, name: str, type: MapType, value_size: int = 8) -> None:
        self.name, self.type, self.key_size, self.value_size = name, type, 4, value_size
        self.max_entries, self.flags, self.initial, self.readonly, self.inner = 0, 1, None, False, None


def _get(owner: int, flags: int, init: int | None, get: int) -> str:
    """r0 = get(map, owner, init ? &init : NULL, flags); r0 = r0 ? *r0 (after += 1) : -1"""
    value = f"r3 = {init}\n*(u64 *)(r10 - 8) = r3\nr3 = r10\nr3 += -8" if init is not None else "r3 = 0"
    return f"""
    ld_pseudo r1, 1, 0
    r2 = {owner} ll
    {value}
    r4 = {flags}
    call {get}
    if r0 == 0 goto none
    r1 = *(u64 *)(r0 + 0)
    r1 += 1
    *(u64 *)(r0 + 0) = r1
    r0 = r1
    exit
    none:
    r0 = -1
    exit
    """


@pytest.mark.parametrize("backend", ["python", "c"])
@pytest.mark.parametrize("map_type", list(STORAGE))
def test_each_owner_has_its_own_value(map_type: MapType, backend: str) -> None:
    get, delete = (helper_id(n) for n in STORAGE[map_type])
    session = Session()
    storage = session.create_map(_Spec("store", map_type))
    m = Machine(session, backend=backend)

    def call(text: str) -> int:
        return m.run(m.load(assemble(text), maps=[storage])).signed

    assert call(_get(OWNER_A, 0, None, get)) == -1            # none yet, no F_CREATE: NULL
    assert call(_get(OWNER_A, 1, 41, get)) == 42              # made from the initial value
    assert call(_get(OWNER_A, 1, 99, get)) == 43              # there: the initial value is ignored
    assert call(_get(OWNER_B, 1, None, get)) == 1             # another owner: zeros
    assert call(_get(OWNER_A, 3, None, get)) == -1            # unknown flags: NULL
    assert call(_get(0, 1, None, get)) == -1                  # no owner: NULL
    assert storage.lookup(OWNER_A) == (43).to_bytes(8, "little")
    assert sorted(storage.keys()) == sorted(o.to_bytes(8, "little") for o in (OWNER_A, OWNER_B))
    remove = f"ld_pseudo r1, 1, 0\nr2 = {OWNER_A} ll\ncall {delete}\nexit"
    assert call(remove) == 0
    assert call(remove) == -2                                 # -ENOENT
    assert call(f"ld_pseudo r1, 1, 0\nr2 = 0\ncall {delete}\nexit") == -22   # -EINVAL: no owner
    assert storage.lookup(OWNER_A) is None and storage.lookup(OWNER_B) == (1).to_bytes(8, "little")


def test_user_side_updates_follow_the_flags() -> None:
    storage = Session().create_map(_Spec("store", MapType.TASK_STORAGE))
    storage.update(OWNER_A, 5)
    with pytest.raises(VMError, match="EEXIST"):
        storage.update(OWNER_A, 6, 1)
    with pytest.raises(VMError, match="ENOENT"):
        storage.update(OWNER_B, 6, 2)
    storage.update(OWNER_A, 7, 2)
    assert storage.lookup(OWNER_A) == (7).to_bytes(8, "little")
    storage.delete(OWNER_A)
    with pytest.raises(VMError, match="ENOENT"):
        storage.delete(OWNER_A)


def test_a_storage_helper_on_the_wrong_map_type_faults() -> None:
    session = Session()
    storage = session.create_map(_Spec("store", MapType.SK_STORAGE))
    m = Machine(session)
    with pytest.raises(VMError, match="not a task_storage map"):
        m.run(m.load(assemble(_get(OWNER_A, 1, None, helper_id("bpf_task_storage_get"))), maps=[storage]))


USER = 0x7F0000001000


@pytest.mark.parametrize("size, src, expected, dst", [
    (4, USER, 0, b"abcd"),
    (4, USER + 4, -14, bytes(4)),        # crosses the end of what is there: -EFAULT, zeroed
    (0, 0, 0, b"\xee" * 4),               # nothing to copy
])
def test_copy_from_user(size: int, src: int, expected: int, dst: bytes) -> None:
    session = Session(user_memory={USER: b"abcdef"})
    text = f"""
    r1 = 0xeeeeeeee
    *(u32 *)(r10 - 4) = r1
    r1 = r10
    r1 += -4
    r2 = {size}
    r3 = {src} ll
    call {helper_id("bpf_copy_from_user")}
    r6 = r0
    r0 = *(u32 *)(r10 - 4)
    r0 <<= 32
    r6 <<= 32
    r6 >>= 32
    r0 |= r6
    exit"""
    m = Machine(session)
    r0 = m.run(m.load(assemble(text))).retval
    assert (r0 >> 32).to_bytes(4, "little") == dst
    assert (r0 & 0xFFFFFFFF) == expected & 0xFFFFFFFF


def test_copy_from_user_task_checks_flags_first() -> None:
    session = Session(user_memory={USER: b"abcdef"})
    ident = helper_id("bpf_copy_from_user_task")
    m = Machine(session)
    for flags, expected in ((1, -22), (0, 0)):
        text = f"r1 = r10\nr1 += -8\nr2 = 4\nr3 = {USER} ll\nr4 = {OWNER_A} ll\nr5 = {flags}\ncall {ident}\nexit"
        assert m.run(m.load(assemble(text))).signed == expected


def test_ancestor_cgroup_ids_count_from_the_root() -> None:
    session = Session(cgroup_id=30, cgroup_ancestors=(10, 20))
    ident = helper_id("bpf_get_current_ancestor_cgroup_id")
    m = Machine(session)
    got = [m.run(m.load(assemble(f"r1 = {level}\ncall {ident}\nexit"))).retval for level in (0, 1, 2, 3, 4, -1)]
    assert got == [1, 10, 20, 30, 0, 0]


# --- sockmap / sockhash ------------------------------------------------------------------------

def _sock_spec(map_type: MapType, key_size: int = 4, max_entries: int = 2) -> _Spec:
    spec = _Spec("socks", map_type)
    spec.key_size, spec.max_entries, spec.flags = key_size, max_entries, 0
    return spec


def _sock_ops(steps: list[tuple[str, int, int]], map_type: MapType) -> list[int]:
    """Apply (op, key, flags) to an emulated map; the errno of each (0: success)."""
    from bpfbuild.vm.maps import SockMap

    m = Session().create_map(_sock_spec(map_type))
    assert isinstance(m, SockMap)
    out = []
    for op, key, flags in steps:
        k = key.to_bytes(4, "little")
        out.append(-(m.put(k, 1000 + key, flags) if op == "update" else m.prog_delete(k)))
    return out


SOCK_STEPS = [("delete", 0, 0), ("update", 0, 1), ("update", 0, 1), ("update", 1, 2), ("update", 2, 0),
              ("update", 0, 4), ("update", 1, 0), ("update", 3, 0), ("delete", 0, 0), ("delete", 0, 0),
              ("delete", 5, 0)]


@pytest.mark.parametrize("map_type", [MapType.SOCKMAP, MapType.SOCKHASH])
def test_sockmap_updates_and_deletes_match_the_kernel(kernel: object, map_type: MapType) -> None:
    import errno
    import socket

    from .conftest import Kernel

    assert isinstance(kernel, Kernel)
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    client = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        client.connect(listener.getsockname())
        server, _ = listener.accept()
        with server:
            fd = kernel.map_create(int(map_type), 4, 8, 2)
            got = []
            for op, key, flags in SOCK_STEPS:
                k = key.to_bytes(4, "little")
                if op == "update":
                    ret = kernel.map_update(fd, k, server.fileno().to_bytes(8, "little"), flags)
                else:
                    ret = kernel._elem(3, fd, k, None)   # BPF_MAP_DELETE_ELEM
                got.append(-ret if ret < 0 else 0)
    finally:
        client.close()
        listener.close()
    ours = _sock_ops(SOCK_STEPS, map_type)
    assert ours == got, [errno.errorcode.get(e, e) for e in got]


def _redirect(helper: str, map_type: MapType, key: int, flags: int, seeded: dict[int, int]) -> tuple[int, object]:
    session = Session()
    socks = session.create_map(_sock_spec(map_type, key_size=4))
    for k, cookie in seeded.items():
        socks.update(k.to_bytes(4, "little"), cookie)
    ident = helper_id(helper)
    key_arg = f"r3 = {key}" if map_type == MapType.SOCKMAP else \
        f"r3 = {key}\n*(u32 *)(r10 - 4) = r3\nr3 = r10\nr3 += -4"
    m = Machine(session)
    r = m.run(m.load(assemble(f"ld_pseudo r2, 1, 0\n{key_arg}\nr4 = {flags}\ncall {ident}\nexit"), maps=[socks]))
    return r.retval, r.redirect


@pytest.mark.parametrize("helper, map_type", [
    ("bpf_sk_redirect_map", MapType.SOCKMAP), ("bpf_msg_redirect_map", MapType.SOCKMAP),
    ("bpf_sk_redirect_hash", MapType.SOCKHASH), ("bpf_msg_redirect_hash", MapType.SOCKHASH)])
def test_socket_redirects_pass_only_to_a_socket_that_is_there(helper: str, map_type: MapType) -> None:
    assert _redirect(helper, map_type, 1, 1, {1: 77}) == (1, ("socket", 77, 1))     # SK_PASS, ingress
    assert _redirect(helper, map_type, 1, 0, {1: 77}) == (1, ("socket", 77, 0))
    assert _redirect(helper, map_type, 0, 0, {1: 77}) == (0, None)                  # SK_DROP: no socket
    assert _redirect(helper, map_type, 1, 2, {1: 77}) == (0, None)                  # SK_DROP: bad flags


@pytest.mark.parametrize("map_type, helper", [(MapType.SOCKMAP, "bpf_sock_map_update"),
                                              (MapType.SOCKHASH, "bpf_sock_hash_update")])
def test_sock_ops_adds_its_socket_in_established_callbacks_only(map_type: MapType, helper: str) -> None:
    from bpfbuild.vm import RawContext

    session = Session(socket_cookie=55)
    socks = session.create_map(_sock_spec(map_type))
    m = Machine(session)
    prog = m.load(assemble(f"r2 = 1\n*(u32 *)(r10 - 4) = r2\nld_pseudo r2, 1, 0\nr3 = r10\nr3 += -4\nr4 = 0\n"
                           f"call {helper_id(helper)}\nexit"), maps=[socks])
    op = lambda n: RawContext(n.to_bytes(4, "little") + bytes(220))   # noqa: E731 - struct bpf_sock_ops
    assert m.run(prog, op(3)).signed == -95                             # TCP_CONNECT_CB: -EOPNOTSUPP
    assert socks.lookup((1).to_bytes(4, "little")) is None
    assert m.run(prog, op(4)).signed == 0                               # ACTIVE_ESTABLISHED_CB
    assert socks.lookup((1).to_bytes(4, "little")) == (55).to_bytes(8, "little")


@pytest.mark.parametrize("backend", ["python", "c"])
def test_cgroup_retval_starts_at_zero_in_every_run(backend: str) -> None:
    get, put = helper_id("bpf_get_retval"), helper_id("bpf_set_retval")
    m = Machine(Session(), backend=backend)
    prog = m.load(assemble(f"call {get}\nr6 = r0\nr1 = -1\ncall {put}\ncall {get}\nr0 += r6\nexit"))
    assert [m.run(prog).signed for _ in range(2)] == [-1, -1]   # -1 set, read back; 0 before it
    m2 = Machine(Session(), backend=backend)
    ident = m2.load(assemble(f"r1 = 7\ncall {put}\nexit"))
    assert m2.run(ident).retval == 0
