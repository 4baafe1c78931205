"""Make-style dependency files as clang writes them with ``-MD -MF``."""

from __future__ import annotations

from bpfbuild.errors import ToolchainError

__all__ = ["parse_depfile"]


def parse_depfile(text: str, *, file: str | None = None) -> tuple[str, ...]:
    """The prerequisites of a ``target: prereq ...`` depfile, in order, without duplicates.

    Handles line continuations (``\\`` newline), escaped spaces (``\\ ``), ``$$`` and several
    rules in one file (clang writes one; ``-MP`` adds empty phony rules for headers).
    """
    joined = text.replace("\\\r\n", " ").replace("\\\n", " ")
    prereqs: list[str] = []
    seen: set[str] = set()
    for line in joined.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        colon = _rule_colon(line)
        if colon < 0:
            raise ToolchainError("malformed depfile: a line without 'target:'", file=file)
        for word in _split_words(line[colon + 1:]):
            if word not in seen:
                seen.add(word)
                prereqs.append(word)
    return tuple(prereqs)


def _rule_colon(line: str) -> int:
    """Index of the colon ending the target list (skipping escaped ones and drive letters)."""
    i = 0
    while i < len(line):
        ch = line[i]
        if ch == "\\":
            i += 2
            continue
        if ch == ":" and (i + 1 == len(line) or line[i + 1] in " \t"):
            return i
        i += 1
    return -1


def _split_words(text: str) -> list[str]:
    words: list[str] = []
    cur: list[str] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "\\" and i + 1 < len(text) and text[i + 1] in " #\\":
            cur.append(text[i + 1])
            i += 2
            continue
        if ch == "$" and i + 1 < len(text) and text[i + 1] == "$":
            cur.append("$")
            i += 2
            continue
        if ch in " \t":
            if cur:
                words.append("".join(cur))
                cur = []
        else:
            cur.append(ch)
        i += 1
    if cur:
        words.append("".join(cur))
    return words
