"""The verifier's result: a :class:`Report` with :class:`Diagnostic` s a user can act on.

A diagnostic carries the kernel's message text unchanged (so it can be searched), the failing
instruction, its source location from BTF line info, and -- for the mistakes people make most
-- a plain-language explanation and a hint how to fix it (:func:`explain`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bpfbuild.location import SourceLocation

__all__ = ["Diagnostic", "Report", "explain"]


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """One rejection.

    ``message`` is the kernel's message (the last line it prints for the error, e.g.
    ``R2 offset is outside of the packet``); ``detail`` holds the lines it printed before it for
    the same error (``invalid access to packet, off=14 size=2, R2(id=0,off=14,r=0)``);
    ``source`` is the text of the source line, ``insn_text`` the failing instruction as the
    kernel log prints it.
    """

    insn: int
    location: SourceLocation | None
    message: str
    explanation: str = ""
    hint: str = ""
    detail: tuple[str, ...] = ()
    source: str = ""
    insn_text: str = ""

    def format(self, file: str | None = None, program: str = "", *, severity: str = "error") -> str:
        """Compiler-style text: ``file:line:col: error: message`` (``severity`` replaces
        ``error``: a warning in warn mode or under an ``unknown`` verdict), the source line, notes
        (the program and instruction, the kernel's earlier lines), the explanation and hint.

        ``file`` replaces the location's file name (e.g. made relative to a project); without a
        location it names the object.
        """
        if self.location is not None:
            where = str(SourceLocation(file or self.location.file, self.location.line, self.location.column))
        else:
            where = file or "<program>"
        lines = [f"{where}: {severity}: {self.message}"]
        if self.location is not None and self.source.strip():
            lines.append(f"{self.location.line:>6} | {self.source.rstrip()}")
        at = f"insn {self.insn}" + (f": {self.insn_text}" if self.insn_text else "")
        lines.append(f"{where}: note: {f'in prog {program!r}, ' if program else ''}{at}")
        lines += [f"{where}: note: kernel: {d}" for d in self.detail]
        if self.explanation:
            lines.append(f"  {self.explanation}")
        if self.hint:
            lines.append(f"  hint: {self.hint}")
        return "\n".join(lines)

    def as_dict(self, file: str | None = None) -> dict[str, object]:
        """The ``errors`` entry of ``bpfbuild verify --json``."""
        loc = self.location
        return {"insn": self.insn, "file": file or (loc.file if loc is not None else ""),
                "line": loc.line if loc is not None else 0, "column": loc.column if loc is not None else 0,
                "message": self.message}


@dataclass(frozen=True, slots=True)
class Report:
    """The verdict on one program.

    ``processed_insns`` counts simulated instructions as the kernel's "processed N insns" does;
    ``log`` is the kernel-style log at the requested level (empty at level 0); ``notes`` name
    what this verifier could not model for this program (a helper without a prototype, a
    kfunc...).  With any note the :attr:`verdict` is ``unknown``: the kernel's answer may
    differ either way, so ``accepted`` (and ``errors``) are only what the partial model found.
    """

    program: str
    section: str
    accepted: bool
    processed_insns: int
    errors: tuple[Diagnostic, ...] = ()
    log: str = ""
    notes: tuple[str, ...] = ()
    total_states: int = 0
    peak_states: int = 0
    max_states_per_insn: int = 0
    #: per slot, what the run learnt for the rewrites after it (``seen``, a call's map...):
    #: the verifier's ``insn_aux_data`` (verifier.fixups reads it)
    aux: tuple[Any, ...] = field(default=(), repr=False, compare=False)

    @property
    def unknown(self) -> bool:
        """The program uses something not modelled (:attr:`notes`): no confident verdict."""
        return bool(self.notes)

    @property
    def rejected(self) -> bool:
        """A confident rejection (not :attr:`unknown`)."""
        return not self.accepted and not self.notes

    @property
    def verdict(self) -> str:
        """``accepted``, ``rejected`` or ``unknown``."""
        if self.notes:
            return "unknown"
        return "accepted" if self.accepted else "rejected"

    @property
    def summary(self) -> str:
        """The verdict as the summary lines print it: ``unknown (not modelled: ...)`` with the reasons."""
        if self.notes:
            return f"unknown (not modelled: {'; '.join(self.notes)})"
        return self.verdict

    def as_dict(self, display: Callable[[str], str] | None = None) -> dict[str, object]:
        """This program's entry of ``bpfbuild verify --json`` (``display`` maps source paths)."""
        errors = []
        for d in (() if self.notes else self.errors):
            file = d.location.file if d.location is not None else ""
            errors.append(d.as_dict(display(file) if display is not None and file else None))
        out: dict[str, object] = {"name": self.program, "section": self.section, "verdict": self.verdict,
                                  "processed_insns": self.processed_insns, "errors": errors}
        if self.notes:
            out["not_modelled"] = list(self.notes)
        return out


# (pattern, explanation, hint); the first match wins.
_RULES: tuple[tuple[str, str, str], ...] = (
    (r"invalid mem access 'map_value_or_null'",
     ("The pointer bpf_map_lookup_elem() returned is NULL when the key is not in the map, and this "
     "path uses it without checking."),
     "check it first: `v = bpf_map_lookup_elem(&map, &key); if (!v) return ...;`"),
    (r"invalid mem access '(ringbuf_mem|mem|sock|sock_common|tcp_sock|\w+)_or_null'",
     ("This pointer may be NULL (e.g. bpf_ringbuf_reserve() fails when the buffer is full) and it is "
     "used without a NULL check on this path."),
     "test the pointer against NULL before the first use"),
    (r"invalid mem access 'scalar'",
     ("A plain number is used as a pointer: the value is not (or no longer) a pointer the verifier "
     "knows, e.g. it was read from memory, computed with bitwise operations, or is a helper's integer "
     "result."),
     "keep pointers in their original registers and derive them only by adding offsets"),
    (r"offset is outside of the packet|invalid access to packet",
     "The program accesses packet bytes it has not proven to lie before data_end on this path.",
     ("compare the end of the access with data_end first, e.g. "
     "`if ((void *)(hdr + 1) > data_end) return XDP_PASS;` -- the whole header must fit, not just its start")),
    (r"invalid (indirect )?read from stack",
     "Stack memory is read (or passed to a helper) before anything was written to it.",
     "initialise the variable or struct first (`= {}` or __builtin_memset) -- padding bytes included"),
    (r"^R0 !read_ok",
     "The program (or a function) exits without setting R0: the return value is missing on this path.",
     "make every path return a value"),
    (r"!read_ok",
     ("A register is read before anything was written to it on this path (e.g. a helper's argument "
     "that was never set, or a register clobbered by a call: R1-R5 are not preserved across calls)."),
     "set the register, or keep values that must survive a call in R6-R9"),
    (r"BPF program is too large|jumps is too complex|infinite loop detected|back-edge from insn",
     ("The verifier could not prove that the program terminates in a bounded number of steps: a loop "
     "has no bound it can see, or the paths through the program are too many."),
     "bound every loop with a constant (`for (i = 0; i < N && ...; i++)`), or use bpf_loop()"),
    (r"invalid bpf_context access",
     ("This program type's context (e.g. struct xdp_md, struct __sk_buff) does not allow this field to "
     "be read or written with this size at this offset."),
     ("access the field with its own type through the documented struct; some fields are read-only or "
     "exist only for other program types")),
    (r"Unreleased reference|would lead to reference leak",
     ("A reference (e.g. a record reserved with bpf_ringbuf_reserve(), or a socket from bpf_sk_lookup_*) "
     "is still held when the program exits on some path."),
     "release it on every path: bpf_ringbuf_submit() or bpf_ringbuf_discard() (bpf_sk_release() for sockets)"),
    (r"program of this type cannot use helper",
     "This helper is not available to this program type (or to an unprivileged loader).",
     "use a helper the program type offers, or change the program's SEC() to a type that has it"),
    (r"cannot call GPL-restricted function",
     "This helper is GPL-only and the program's license is not GPL-compatible.",
     'declare a GPL-compatible license: `char LICENSE[] SEC("license") = "GPL";`'),
    (r"min value is negative",
     "A signed index or offset may be negative here, which could reach memory before the object.",
     "use an unsigned type for the index, or check `if (idx < 0)` first"),
    (r"unbounded memory access",
     "An offset or size has no upper bound the verifier can see.",
     "bound it with a comparison (`if (idx >= N) return ...;`) or a mask (`idx &= N - 1`)"),
    (r"invalid access to map value|min value is outside|max value is outside|invalid access to memory",
     "The access can reach outside the object (map value, ring-buffer record, memory region).",
     "check the index against the size of the object before using it"),
    (r"At program exit the register R0|At callback return the register R0",
     "The return value is outside the range this program type (or callback) must return.",
     "return one of the documented values (e.g. 0 or 1 for cgroup programs)"),
    (r"write into map forbidden",
     "The program writes to a read-only map (const globals in .rodata are read-only for programs).",
     "drop `const` from the variable, or write to a non-const global"),
    (r"unreachable insn",
     "An instruction can never execute (dead code is not allowed).",
     "remove the dead code; compilers do not emit it, hand-written assembly may"),
    (r"jump out of range|last insn is not an exit or jmp|invalid bpf_ld_imm64|unknown opcode|uses reserved fields",
     "The instructions themselves are malformed.",
     "check the compiler and the target (-target bpf); hand-written bytecode must follow the ISA"),
    (r"pointer arithmetic on .* prohibited, null-check it first",
     "Arithmetic on a pointer that may be NULL.",
     "check the pointer against NULL before adding offsets to it"),
    (r"pointer arithmetic|pointer .* pointer prohibited|bitwise operator .* on pointer",
     "This operation is not allowed on this kind of pointer.",
     "only add or subtract offsets to pointers into memory the program may access"),
    (r"math between .* pointer and register with unbounded min value|makes .* pointer be out of bounds",
     "An offset added to a pointer has no lower bound (or is huge), so the result could point anywhere.",
     "check the offset's range before adding it, or use an unsigned type"),
    (r"frame pointer is read only",
     "R10 (the frame pointer) cannot be written.",
     "use another register"),
    (r"div by zero",
     "Division or modulo by the constant 0.",
     "divide by a non-zero constant"),
    (r"combined stack size|stack size of .* Too large",
     "The stack frames of a chain of calls need more than 512 bytes.",
     "move large buffers to a per-CPU array map"),
    (r"type=.* expected=",
     ("A helper got an argument of the wrong kind (e.g. a scalar where it needs a pointer to memory, or a "
     "pointer that may still be NULL)."),
     "pass what the helper's prototype asks for; NULL-check pointers from lookups first"),
    (r"invalid zero-sized read",
     "A size argument may be 0 where the helper needs at least one byte.",
     "check the size (`if (len == 0) return ...;`) or bound it from below"),
    (r"misaligned",
     "The access is not aligned to its size.",
     "access stack and atomic locations at offsets that are multiples of the access size"),
    (r"reference has not been acquired before|must be referenced when passed to release function",
     ("Something is released that was not acquired (e.g. bpf_ringbuf_submit() on a pointer that did not come "
     "from bpf_ringbuf_reserve(), or twice)."),
     "release exactly the pointer the reserve/lookup returned, once per path"),
    (r"dereference of modified ctx ptr|variable ctx access",
     "The context pointer may only be used unmodified: load fields through it at constant offsets.",
     "read ctx->field directly instead of through a computed pointer"),
    (r"leaks addr|pointer comparison prohibited|partial copy of pointer",
     "An unprivileged program may not expose or compare kernel addresses.",
     "load the program with privileges, or do not store/return pointers"),
    (r"invalid size of register (spill|fill)",
     "A pointer is stored to (or read from) the stack with fewer than 8 bytes.",
     "spill and fill pointers with 8-byte accesses"),
)


def explain(message: str) -> tuple[str, str]:
    """``(explanation, hint)`` for a kernel message; empty strings for messages without a rule."""
    for pattern, explanation, hint in _RULES:
        if re.search(pattern, message):
            return explanation, hint
    return "", ""
