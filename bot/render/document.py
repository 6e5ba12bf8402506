"""Document -> what a reader sees: paragraphs as runs of text, footnote markers and symbol links.

The web page renders these runs as HTML and ``GET /api/document`` returns them as JSON; both keep
each paragraph's citation id (OP5, PP8(c), FN11) so an answer's citations can point into the text.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from retrieval.parse import Chunk, Document

_TRAILING_PUNCTUATION = ",;"


@dataclass(frozen=True, slots=True)
class Run:
    """A piece of a paragraph: ``kind`` is text, opening (the italic first words), note or symbol."""

    kind: str
    text: str
    target: str = ""  # a footnote id for "note", an address for "symbol"


@dataclass(frozen=True, slots=True)
class Paragraph:
    """One citable paragraph as shown: its id, label, number, runs and sub-items."""

    id: str
    kind: str
    label: str
    number: int
    runs: tuple[Run, ...]
    footnotes: tuple[str, ...] = ()
    cited_by: tuple[str, ...] = ()
    items: tuple[Paragraph, ...] = ()


@dataclass(frozen=True, slots=True)
class DocumentView:
    """The resolution as a reader sees it: document data, paragraphs in order, footnotes."""

    document: Document
    preamble: tuple[Paragraph, ...]
    operative: tuple[Paragraph, ...]
    footnotes: tuple[Paragraph, ...]
    links: Mapping[str, str]


def build_view(document: Document, links: Mapping[str, str]) -> DocumentView:
    """Every paragraph and footnote of ``document`` as runs, symbols linked to their ``links`` address."""
    symbols = _symbol_pattern(links)
    items: dict[str, list[Paragraph]] = {}
    for chunk in document.of_kind("subitem"):
        items.setdefault(chunk.parent, []).append(_paragraph(chunk, chunk.text, symbols, links))
    preamble = []
    for chunk in document.of_kind("preambular"):
        own = items.get(chunk.id, [])
        text = _intro(chunk.text, [document.by_id[p.id].text for p in own])
        preamble.append(_paragraph(chunk, text, symbols, links, tuple(own)))
    operative = tuple(_paragraph(c, c.text, symbols, links) for c in document.of_kind("operative"))
    notes = tuple(_paragraph(c, c.text, symbols, links) for c in document.of_kind("footnote"))
    return DocumentView(document, tuple(preamble), operative, notes, dict(links))


def _intro(text: str, item_texts: list[str]) -> str:
    """A paragraph's own words before its sub-items (the parsed text holds the items too)."""
    if not item_texts:
        return text
    cut = text.find(item_texts[0])
    return text[:cut].rstrip() if cut > 0 else text


def _symbol_pattern(links: Mapping[str, str]) -> re.Pattern[str] | None:
    """One pattern for every linked symbol, longest first, never inside a longer symbol."""
    if not links:
        return None
    names = "|".join(re.escape(s) for s in sorted(links, key=len, reverse=True))
    return re.compile(rf"(?<![\w/])(?:{names})(?![\w/])")


def _paragraph(chunk: Chunk, text: str, symbols: re.Pattern[str] | None, links: Mapping[str, str],
               items: tuple[Paragraph, ...] = ()) -> Paragraph:
    """One chunk's shown text as runs: the opening, the words, footnote markers, linked symbols."""
    runs: list[Run] = []
    for piece, note in _split_at_markers(text, chunk.anchors):
        runs.extend(_link_symbols(piece, symbols, links))
        if note:
            runs.append(Run("note", str(note), f"FN{note}"))
    return Paragraph(chunk.id, chunk.kind, chunk.label, chunk.number, tuple(_mark_opening(runs, chunk)),
                     tuple(f"FN{n}" for n in dict.fromkeys(chunk.footnotes)), chunk.cited_by, items)


def _split_at_markers(text: str, anchors: tuple[tuple[int, str], ...]) -> list[tuple[str, int]]:
    """``text`` cut where its footnote markers stood: (words, the footnote after them or 0)."""
    pieces: list[tuple[str, int]] = []
    start = 0
    for number, before in anchors:
        found = text.find(before, start)
        if found < 0:
            continue  # the marker's words are not in the shown part (a sub-item's own paragraph)
        end = found + len(before)
        while end < len(text) and text[end] in _TRAILING_PUNCTUATION:
            end += 1
        pieces.append((text[start:end], number))
        start = end
    pieces.append((text[start:], 0))
    return [(words, note) for words, note in pieces if words or note]


def _link_symbols(text: str, symbols: re.Pattern[str] | None, links: Mapping[str, str]) -> list[Run]:
    """Plain runs with every known document symbol as a link run."""
    if symbols is None or "/" not in text:
        return [Run("text", text)] if text else []
    runs: list[Run] = []
    start = 0
    for m in symbols.finditer(text):
        if m.start() > start:
            runs.append(Run("text", text[start:m.start()]))
        runs.append(Run("symbol", m.group(), links[m.group()]))
        start = m.end()
    if start < len(text):
        runs.append(Run("text", text[start:]))
    return runs


def _mark_opening(runs: list[Run], chunk: Chunk) -> list[Run]:
    """Split the first run so a paragraph's opening words (its italic verb in the original) stand apart."""
    opening = chunk.opening if chunk.kind in ("preambular", "operative") else ""
    if not opening or not runs or runs[0].kind != "text" or not runs[0].text.startswith(opening):
        return runs
    rest = runs[0].text[len(opening):]
    return [Run("opening", opening), *([Run("text", rest)] if rest else []), *runs[1:]]


def run_json(run: Run) -> dict[str, str | bool]:
    """One run as JSON: ``{"text"}``, plus ``"footnote"`` or ``"href"``, or ``"opening": true``."""
    if run.kind == "note":
        return {"text": run.text, "footnote": run.target}
    if run.kind == "symbol":
        return {"text": run.text, "href": run.target}
    if run.kind == "opening":
        return {"text": run.text, "opening": True}
    return {"text": run.text}


def paragraph_json(document: Document, paragraph: Paragraph) -> dict[str, Any]:
    """One paragraph (with its sub-items) as JSON."""
    chunk = document.by_id[paragraph.id]
    data: dict[str, Any] = {
        "id": paragraph.id, "kind": paragraph.kind, "label": paragraph.label, "number": paragraph.number,
        "text": chunk.text, "runs": [run_json(r) for r in paragraph.runs],
    }
    if paragraph.footnotes:
        data["footnotes"] = list(paragraph.footnotes)
    if paragraph.cited_by:
        data["cited_by"] = list(paragraph.cited_by)
    if chunk.parent:
        data["parent"] = chunk.parent
    if paragraph.items:
        data["items"] = [paragraph_json(document, item) for item in paragraph.items]
    return data


def document_json(view: DocumentView) -> dict[str, Any]:
    """The whole document as JSON: ``meta``, ``preamble``, ``operative``, ``footnotes``, ``links``."""
    meta = view.document.meta
    return {
        "meta": {
            "id": "META", "title": meta.title, "date": meta.date, "session": meta.session,
            "committee": meta.committee, "agenda_item": meta.agenda_item, "agenda_title": meta.agenda_title,
            "document_type": meta.document_type, "distribution": meta.distribution,
            "original_language": meta.original_language, "sponsors": list(meta.sponsors),
        },
        "preamble": [paragraph_json(view.document, p) for p in view.preamble],
        "operative": [paragraph_json(view.document, p) for p in view.operative],
        "footnotes": [paragraph_json(view.document, p) for p in view.footnotes],
        "links": dict(view.links),
    }
