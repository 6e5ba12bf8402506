"""Split long text into pieces under a platform limit, on paragraph boundaries first."""

from __future__ import annotations

from collections.abc import Callable, Iterable

Measure = Callable[[str], int]


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units, the unit Telegram counts in."""
    return len(text.encode("utf-16-le")) // 2


def _hard_cut(text: str, limit: int, measure: Measure) -> list[str]:
    """Cut one over-long block at word boundaries, never inside a code point."""
    pieces: list[str] = []
    rest = text
    while rest and measure(rest) > limit:
        lo, hi = 1, len(rest)
        while lo < hi:  # longest prefix that fits
            mid = (lo + hi + 1) // 2
            if measure(rest[:mid]) <= limit:
                lo = mid
            else:
                hi = mid - 1
        cut = rest.rfind(" ", 0, lo + 1)
        if cut <= lo // 2:
            cut = lo
        pieces.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest:
        pieces.append(rest)
    return [p for p in pieces if p]


def split_blocks(blocks: Iterable[str], limit: int, measure: Measure = len, sep: str = "\n\n") -> list[str]:
    """Pack blocks into pieces of at most ``limit`` (by ``measure``), splitting only if a block is too long."""
    pieces: list[str] = []
    current = ""
    for block in blocks:
        parts = [block] if measure(block) <= limit else _hard_cut(block, limit, measure)
        for part in parts:
            candidate = f"{current}{sep}{part}" if current else part
            if measure(candidate) <= limit:
                current = candidate
            else:
                if current:
                    pieces.append(current)
                current = part
    if current:
        pieces.append(current)
    return pieces


def split_text(text: str, limit: int, measure: Measure = len) -> list[str]:
    """Split plain text on blank lines, then lines, then words, to pieces of at most ``limit``."""
    if measure(text) <= limit:
        return [text]
    blocks: list[str] = []
    for para in text.split("\n\n"):
        if measure(para) <= limit:
            blocks.append(para)
        else:
            blocks.extend(split_blocks(para.split("\n"), limit, measure, sep="\n"))
    return split_blocks(blocks, limit, measure)
