"""The built-in verifier: the Linux 6.18 verifier's verdict at build time, at the source line.

:func:`verify` walks every path of a program the way kernel/bpf/verifier.c does -- structural
checks, per-path register and stack state (tnums and s64/u64/s32/u32 bounds), pointer rules,
memory access per region, helper prototypes, reference tracking, bpf-to-bpf calls and
callbacks, state pruning and the 1,000,000 processed-instructions limit -- and returns a
:class:`Report` whose :class:`Diagnostic` s carry the kernel's message text, the instruction
and its ``file:line:col``.

Modules: :mod:`.tnum` and :mod:`.bounds` (scalar arithmetic), :mod:`.state` (registers,
stack, frames), :mod:`.env` (options, per-instruction facts), :mod:`.cfg` (structure, register
liveness, loops as SCCs), :mod:`.checks` (preconditions), :mod:`.transfer` (next states),
:mod:`.insns` and :mod:`.calls` (per-instruction handlers), :mod:`.precision` (precision
backtracking), :mod:`.liveness` (6.18's call-chain stack liveness), :mod:`.equiv` (state
equivalence for pruning), :mod:`.explore` (paths, pruning, loop backedges), :mod:`.log` and
:mod:`.disasm` (the kernel-style log), :mod:`.kfuncs` and :mod:`.kfunc_btf` (kernel function
calls: prototypes from the target's BTF, flags from :mod:`bpfbuild.abi.kfuncs`, references, RCU
and preemption sections, open-coded iterators), :mod:`.ksym` (``ld_imm64`` of a kernel symbol by
its BTF id: typed ``__ksym`` variables, a kfunc's address), :mod:`.report`, :mod:`.api` (the entry points).

What is not modelled (kfuncs outside the flag table, dynptrs, allocated objects, struct walks
through BTF-typed pointers, some helpers' argument types...) is never guessed: the report's ``notes`` name it and its verdict is ``unknown``.

The reference is Linux 6.18.44 as measured here, including its stable backports (tnum_step
single-value bounds, signed multiplication bounds, wrapping add/sub, linked registers through
alu32 and subtraction, scalar forking after ``s>> 63``, BPF_F_TEST_STATE_FREQ): on the corpus,
programs/ and thousands of random programs the verdict, message, processed-instruction count
and the level-1 and level-2 logs equal the kernel's.
"""

from bpfbuild.verifier.api import map_infos, verify, verify_insns
from bpfbuild.verifier.report import Diagnostic, Report, explain

__all__ = ["Diagnostic", "Report", "explain", "map_infos", "verify", "verify_insns"]
