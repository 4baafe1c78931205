"""The kernel's LRU for LRU hash maps (kernel/bpf/bpf_lru_list.c, Linux 6.18), node for node.

Which element an insert into a full LRU map evicts is not "the least recently used" but
what this algorithm picks: nodes move between a global active / inactive / free list and
per-CPU local free / pending lists; a lookup sets a node's reference bit; rotations and
shrinks scan from the tails.  Emulating it exactly is what makes the emulator's LRU maps
agree with the kernel's element for element (the ``kernel`` tests check that).

Two flavours: the common LRU (default) and the per-CPU LRU (``BPF_F_NO_COMMON_LRU``), where
each CPU owns ``max_entries / nr_cpus`` nodes.  Nodes are interchangeable; a node in use
carries the key of the element it belongs to.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

__all__ = ["Lru", "LruNode"]

LOCAL_FREE_TARGET = 128
LOCAL_NR_SCANS = LOCAL_FREE_TARGET
PERCPU_FREE_TARGET = 4

ACTIVE, INACTIVE, FREE, LOCAL_FREE, LOCAL_PENDING = range(5)
_COUNTED = (ACTIVE, INACTIVE)


class _Link:
    """A list head or a node's list linkage (a circular doubly linked list, as list_head)."""

    __slots__ = ("next", "prev")

    def __init__(self) -> None:
        self.next: _Link = self
        self.prev: _Link = self

    def unlink(self) -> None:
        self.prev.next = self.next
        self.next.prev = self.prev
        self.next = self.prev = self

    def add_head(self, node: _Link) -> None:   # list_add(node, self)
        node.next = self.next
        node.prev = self
        self.next.prev = node
        self.next = node

    def empty(self) -> bool:
        return self.next is self

    def forward(self) -> Iterator[_Link]:       # list_for_each_entry_safe
        cur = self.next
        while cur is not self:
            nxt = cur.next
            yield cur
            cur = nxt

    def backward(self) -> Iterator[_Link]:      # list_for_each_entry_safe_reverse
        cur = self.prev
        while cur is not self:
            prv = cur.prev
            yield cur
            cur = prv


class LruNode(_Link):
    __slots__ = ("cpu", "key", "ref", "type")

    def __init__(self, cpu: int = 0) -> None:
        super().__init__()
        self.type = FREE
        self.ref = False
        self.cpu = cpu
        self.key: bytes | None = None


def _move(node: _Link, head: _Link) -> None:   # list_move
    node.unlink()
    head.add_head(node)


class _List:
    """struct bpf_lru_list."""

    def __init__(self) -> None:
        self.lists = [_Link(), _Link(), _Link()]
        self.counts = [0, 0]
        self.next_inactive_rotation: _Link = self.lists[INACTIVE]


class _LocalList:
    """struct bpf_lru_locallist."""

    def __init__(self, cpu: int) -> None:
        self.free = _Link()
        self.pending = _Link()
        self.next_steal = cpu


class Lru:
    """``struct bpf_lru``: ``del_from_htab(node)`` removes the node's element from the map
    and says whether it was there (the eviction callback)."""

    def __init__(self, nr_elems: int, nr_cpus: int, del_from_htab: Callable[[LruNode], bool], *,
                 percpu: bool = False) -> None:
        self.nr_cpus = nr_cpus
        self.percpu = percpu
        self.del_from_htab = del_from_htab
        self.nr_scans = LOCAL_NR_SCANS
        if percpu:
            self.percpu_lists = [_List() for _ in range(nr_cpus)]
            per = nr_elems // nr_cpus
            for cpu in range(nr_cpus):
                for _ in range(per):
                    node = LruNode(cpu)
                    self.percpu_lists[cpu].lists[FREE].add_head(node)
        else:
            self.common = _List()
            self.local = [_LocalList(cpu) for cpu in range(nr_cpus)]
            for _ in range(nr_elems):
                self.common.lists[FREE].add_head(LruNode())
            self.target_free = min(max((nr_elems // nr_cpus) // 2, 1), LOCAL_FREE_TARGET)

    # --- list primitives (bpf_lru_list.c) -----------------------------------------------

    @staticmethod
    def _count(l: _List, t: int, delta: int) -> None:
        if t in _COUNTED:
            l.counts[t] += delta

    def _move_to_free(self, l: _List, node: LruNode, free_list: _Link, tgt: int) -> None:
        if node is l.next_inactive_rotation:
            l.next_inactive_rotation = node.prev
        self._count(l, node.type, -1)
        node.type = tgt
        _move(node, free_list)

    def _move_in(self, l: _List, node: LruNode, tgt: int) -> None:
        self._count(l, tgt, 1)
        node.type = tgt
        node.ref = False
        _move(node, l.lists[tgt])

    def _node_move(self, l: _List, node: LruNode, tgt: int) -> None:
        if node.type != tgt:
            self._count(l, node.type, -1)
            self._count(l, tgt, 1)
            node.type = tgt
        node.ref = False
        if node is l.next_inactive_rotation:
            l.next_inactive_rotation = node.prev
        _move(node, l.lists[tgt])

    def _rotate_active(self, l: _List) -> None:
        active = l.lists[ACTIVE]
        first = active.next
        for i, node in enumerate(active.backward(), 1):
            assert isinstance(node, LruNode)
            self._node_move(l, node, ACTIVE if node.ref else INACTIVE)
            if i == self.nr_scans or node is first:
                break

    def _rotate_inactive(self, l: _List) -> None:
        inactive = l.lists[INACTIVE]
        if inactive.empty():
            return
        last = l.next_inactive_rotation.next
        if last is inactive:
            last = last.next
        cur = l.next_inactive_rotation
        nxt = cur
        i = 0
        while i < self.nr_scans:
            if cur is inactive:
                cur = cur.prev
                continue
            assert isinstance(cur, LruNode)
            nxt = cur.prev
            if cur.ref:
                self._node_move(l, cur, ACTIVE)
            if cur is last:
                break
            cur = nxt
            i += 1
        l.next_inactive_rotation = nxt

    def _shrink_inactive(self, l: _List, target: int, free_list: _Link, tgt: int) -> int:
        inactive = l.lists[INACTIVE]
        shrunk = 0
        for i, node in enumerate(inactive.backward(), 1):
            assert isinstance(node, LruNode)
            if node.ref:
                self._node_move(l, node, ACTIVE)
            elif self.del_from_htab(node):
                self._move_to_free(l, node, free_list, tgt)
                shrunk += 1
                if shrunk == target:
                    break
            if i == self.nr_scans:
                break
        return shrunk

    def _rotate(self, l: _List) -> None:
        if l.counts[INACTIVE] < l.counts[ACTIVE]:
            self._rotate_active(l)
        self._rotate_inactive(l)

    def _shrink(self, l: _List, target: int, free_list: _Link, tgt: int) -> int:
        shrunk = self._shrink_inactive(l, target, free_list, tgt)
        if shrunk:
            return shrunk
        force = l.lists[INACTIVE] if not l.lists[INACTIVE].empty() else l.lists[ACTIVE]
        for node in force.backward():
            assert isinstance(node, LruNode)
            if self.del_from_htab(node):
                self._move_to_free(l, node, free_list, tgt)
                return 1
        return 0

    # --- common LRU ---------------------------------------------------------------------

    def _flush(self, l: _List, loc: _LocalList) -> None:
        for node in loc.pending.backward():
            assert isinstance(node, LruNode)
            self._move_in(l, node, ACTIVE if node.ref else INACTIVE)

    def _pop_free_to_local(self, loc: _LocalList) -> None:
        l = self.common
        self._flush(l, loc)
        self._rotate(l)
        nfree = 0
        for node in l.lists[FREE].forward():
            assert isinstance(node, LruNode)
            self._move_to_free(l, node, loc.free, LOCAL_FREE)
            nfree += 1
            if nfree == self.target_free:
                break
        if nfree < self.target_free:
            self._shrink(l, self.target_free - nfree, loc.free, LOCAL_FREE)

    @staticmethod
    def _local_pop_free(loc: _LocalList) -> LruNode | None:
        if loc.free.empty():
            return None
        node = loc.free.next
        node.unlink()
        assert isinstance(node, LruNode)
        return node

    def _local_pop_pending(self, loc: _LocalList) -> LruNode | None:
        for force in (False, True):
            for node in loc.pending.backward():
                assert isinstance(node, LruNode)
                if (not node.ref or force) and self.del_from_htab(node):
                    node.unlink()
                    return node
        return None

    @staticmethod
    def _add_pending(loc: _LocalList, cpu: int, node: LruNode) -> None:
        node.cpu = cpu
        node.type = LOCAL_PENDING
        node.ref = False
        loc.pending.add_head(node)

    def pop_free(self, cpu: int) -> LruNode | None:
        """A node for a new element (evicting one if needed), or None (-ENOMEM)."""
        if self.percpu:
            return self._percpu_pop_free(cpu)
        loc = self.local[cpu]
        node = self._local_pop_free(loc)
        if node is None:
            self._pop_free_to_local(loc)
            node = self._local_pop_free(loc)
        if node is not None:
            self._add_pending(loc, cpu, node)
            return node
        first = steal = loc.next_steal
        while True:
            other = self.local[steal]
            node = self._local_pop_free(other)
            if node is None:
                node = self._local_pop_pending(other)
            steal = (steal + 1) % self.nr_cpus
            if node is not None or steal == first:
                break
        loc.next_steal = steal
        if node is not None:
            self._add_pending(loc, cpu, node)
        return node

    def push_free(self, node: LruNode) -> None:
        """Give back the node of a deleted or replaced element (or of a failed insert)."""
        node.key = None
        if self.percpu:
            self._node_move(self.percpu_lists[node.cpu], node, FREE)
            return
        if node.type == LOCAL_PENDING:
            node.type = LOCAL_FREE
            node.ref = False
            _move(node, self.local[node.cpu].free)
            return
        self._node_move(self.common, node, FREE)

    # --- per-CPU LRU ----------------------------------------------------------------------

    def _percpu_pop_free(self, cpu: int) -> LruNode | None:
        l = self.percpu_lists[cpu]
        self._rotate(l)
        free_list = l.lists[FREE]
        if free_list.empty():
            self._shrink(l, PERCPU_FREE_TARGET, free_list, FREE)
        if free_list.empty():
            return None
        node = free_list.next
        assert isinstance(node, LruNode)
        node.ref = False
        self._node_move(l, node, INACTIVE)
        return node
