"""Direct references in a question: "paragraph 5", "OP 12", "PP8(c)", "footnote 11"."""

from __future__ import annotations

import re
from dataclasses import dataclass

_PP = re.compile(
    r"\b(?:preambular|preamble)\s+(?:paragraph|para|par)?\.?\s*(\d{1,3})\s*(?:\(\s*([a-z])\s*\))?"
    r"|\bpp\.?\s*(\d{1,3})\s*(?:\(\s*([a-z])\s*\))?", re.I)
_OP = re.compile(r"\b(?:operative\s+)?(?:paragraph|para|par|op|§)\.?\s*(\d{1,3})\b|\boperative\s+(\d{1,3})\b", re.I)
_FN = re.compile(r"\b(?:footnote|foot\s+note|fn|note)\.?\s*(\d{1,3})\b", re.I)


@dataclass(frozen=True, slots=True)
class Ref:
    """A reference to one paragraph or footnote, which may or may not exist."""

    kind: str  # "preambular" | "operative" | "footnote"
    number: int
    letter: str = ""

    @property
    def chunk_id(self) -> str:
        """The id this reference would have in the Document."""
        prefix = {"preambular": "PP", "operative": "OP", "footnote": "FN"}[self.kind]
        return f"{prefix}{self.number}" + (f"({self.letter.lower()})" if self.letter else "")


def find_reference(question: str) -> Ref | None:
    """The first paragraph or footnote reference in ``question``; a bare "paragraph N" is operative."""
    if m := _FN.search(question):
        return Ref("footnote", int(m.group(1)))
    if m := _PP.search(question):
        number = m.group(1) or m.group(3)
        return Ref("preambular", int(number), m.group(2) or m.group(4) or "")
    if m := _OP.search(question):
        return Ref("operative", int(m.group(1) or m.group(2)))
    return None
