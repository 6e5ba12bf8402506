"""Pick the answering span inside a chunk: the best clause, a verbatim quote, the wanted entities."""

from __future__ import annotations

import re
from collections.abc import Callable, Collection
from dataclasses import dataclass

from retrieval.nlp import Analyzer, Entity

_CLAUSE_BREAK = re.compile(r"(?<=[,;:])\s+")
MIN_SEGMENT = 60
HEADLINE_CLAUSE_CHARS = 200  # longest single clause quoted in a headline
HEADLINE_SPAN_CHARS = 280  # ...or the clauses between the question's matched terms (and the next), when this short


@dataclass(frozen=True, slots=True)
class Segment:
    """A clause of a chunk: character span and its index terms."""

    start: int
    end: int
    terms: frozenset[str]


def split_segments(text: str, analyzer: Analyzer) -> tuple[Segment, ...]:
    """Cut a chunk into clauses at , ; : and merge the short ones."""
    bounds: list[tuple[int, int]] = []
    start = 0
    for m in _CLAUSE_BREAK.finditer(text):
        if m.start() - start >= MIN_SEGMENT:
            bounds.append((start, m.start()))
            start = m.end()
    bounds.append((start, len(text)))
    if len(bounds) > 1 and bounds[-1][1] - bounds[-1][0] < MIN_SEGMENT // 2:
        bounds[-2:] = [(bounds[-2][0], bounds[-1][1])]
    return tuple(Segment(s, e, frozenset(analyzer.terms(text[s:e], expand_names=True))) for s, e in bounds)


def best_segment(segments: tuple[Segment, ...], query_terms: Collection[str],
                 weight: Callable[[str], float]) -> int:
    """Index of the clause holding the most query weight (earliest on ties).

    Weights count squared, so one rare term the user asked about (a named practice, an
    organisation) outweighs a clause of common words ("States", "forms").
    """
    best, best_score = 0, -1.0
    for i, seg in enumerate(segments):
        score = sum(weight(t) ** 2 for t in query_terms if t in seg.terms)
        if score > best_score:
            best, best_score = i, score
    return best


def quote(text: str, segments: tuple[Segment, ...], center: int, max_chars: int) -> str:
    """A verbatim window of ``text`` around segment ``center``, at most about ``max_chars``."""
    lo = hi = center
    while True:
        grown = False
        if hi + 1 < len(segments) and segments[hi + 1].end - segments[lo].start <= max_chars:
            hi += 1
            grown = True
        if lo > 0 and segments[hi].end - segments[lo - 1].start <= max_chars:
            lo -= 1
            grown = True
        if not grown:
            break
    start, end = segments[lo].start, segments[hi].end
    body = text[start:end].rstrip(",;: ")
    if len(body) > max_chars:
        cut = body.rfind(" ", 0, max_chars)
        body = body[: cut if cut > 0 else max_chars].rstrip(",;: ")
        end = start + len(body) + 1
    prefix = "…" if start > 0 else ""
    suffix = "…" if end < len(text.rstrip(",;. ")) else ""
    return f"{prefix}{body}{suffix}"


def segment_at(segments: tuple[Segment, ...], offset: int) -> int:
    """Index of the clause holding character ``offset`` (the last one starting at or before it)."""
    return max((i for i, seg in enumerate(segments) if seg.start <= offset), default=0)


def answering_words(text: str, segments: tuple[Segment, ...], clause: int, span: tuple[int, int] | None = None,
                    at: int | None = None) -> str:
    """The words of ``text`` that answer, verbatim, for a headline.

    The clauses spanning the question's matched terms (``span``, first and last clause) when short
    enough, else the best ``clause``; or, given an offset ``at`` (the named answer), the clause holding
    it. Then the clause after them when it fits: what the matched words lead to ("the central role of
    UNODC ..., *particularly in providing technical assistance*") is what a "what" asks.
    A lone clause longer than HEADLINE_CLAUSE_CHARS is cut at a word.
    """
    first, last = span if span is not None else (clause, clause)
    if at is not None and not segments[first].start <= at < segments[last].end:
        first = last = segment_at(segments, at)
    elif not (first <= clause <= last and segments[last].end - segments[first].start <= HEADLINE_SPAN_CHARS):
        first = last = clause
    if last + 1 < len(segments) and segments[last + 1].end - segments[first].start <= HEADLINE_SPAN_CHARS:
        last += 1
    start, end = segments[first].start, segments[last].end
    body = text[start:end].strip().rstrip(",;:")
    if len(body) > HEADLINE_CLAUSE_CHARS and first == last:
        cut = body.rfind(" ", 0, HEADLINE_CLAUSE_CHARS)
        body = body[: cut if cut > 0 else HEADLINE_CLAUSE_CHARS].rstrip(",;: ") + "…"
    return ("…" if start > 0 else "") + body


def pick_entities(entities: tuple[Entity, ...], labels: frozenset[str], segment: Segment,
                  exclude: Collection[str], limit: int = 4) -> list[Entity]:
    """Entities of the wanted labels, those inside the best clause first, else the nearest one."""
    wanted = [e for e in entities if e.label in labels and not (e.concept and e.concept in exclude)]
    inside = [e for e in wanted if e.start >= segment.start and e.end <= segment.end]
    if inside:
        unique: dict[str, Entity] = {}
        for e in inside:
            unique.setdefault(e.concept or e.text, e)
        return list(unique.values())[:limit]
    if not wanted:
        return []
    middle = (segment.start + segment.end) / 2
    return [min(wanted, key=lambda e: abs((e.start + e.end) / 2 - middle))]
