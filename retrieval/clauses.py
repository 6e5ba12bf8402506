"""Clause-level ranking: which clause of a paragraph answers, and which of the top paragraphs wins.

Long paragraphs hold several clauses about different things (PP15, OP10, OP19). Two ways to
score a paragraph by its best clause, chosen by the ``clause_method`` setting:

- ``window``: the shortest stretch of the paragraph that holds every question term the paragraph
  matches; the more weight it holds and the shorter it is, the higher the score.
- ``bm25``: a BM25 index whose documents are clauses; a paragraph scores by its best clause.

Either score is blended with the paragraph's own BM25 score to reorder the top hits.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from retrieval.index import BM25Params, Index
from retrieval.nlp import Analysis, Analyzer
from retrieval.search import Hit, name_word_terms

METHODS = ("window", "bm25", "none")
WINDOW_SCALE = 120.0  # characters: a stretch this long halves its closeness
PROXIMITY_SHARE = 0.5  # how much of a window's score closeness decides (the rest is the matched share)


@dataclass(frozen=True, slots=True)
class ClauseSettings:
    """Which clause method to use and how much its score counts against the paragraph's."""

    method: str = "window"
    blend: float = 0.3


@dataclass(frozen=True)
class ChunkClauses:
    """One chunk's clauses: character bounds, the terms of each, and where each term occurs."""

    bounds: tuple[tuple[int, int], ...]
    terms: tuple[frozenset[str], ...]
    names: tuple[frozenset[str], ...]  # the words of the names in each clause, apart: they do not weigh a clause
    positions: dict[str, tuple[int, ...]]
    first: int  # index of the chunk's first clause in the clause index
    starts: tuple[int, ...] = ()  # where each clause starts


def chunk_clauses(analysis: Analysis, names: Sequence[tuple[str, int]], bounds: Sequence[tuple[int, int]],
                  first: int) -> ChunkClauses:
    """Group a chunk's terms (and, apart, the words of its names) by clause and by position."""
    positions: dict[str, list[int]] = {}
    per_clause: list[set[str]] = [set() for _ in bounds]
    name_words: list[set[str]] = [set() for _ in bounds]
    starts = [s for s, _ in bounds]
    for t in analysis.terms:
        if t.start >= 0:
            positions.setdefault(t.value, []).append(t.start)
            per_clause[_clause_at(starts, t.start)].add(t.value)
    for term, offset in names:
        name_words[_clause_at(starts, offset)].add(term)
    return ChunkClauses(tuple(bounds), tuple(frozenset(s) for s in per_clause),
                        tuple(frozenset(s) for s in name_words),
                        {t: tuple(sorted(set(p))) for t, p in positions.items()}, first, tuple(starts))


def _clause_at(starts: Sequence[int], offset: int) -> int:
    """Index of the clause holding ``offset`` (the last one starting at or before it)."""
    return max(0, bisect_right(starts, offset) - 1)


def _rescored(hit: Hit, score: float) -> Hit:
    return Hit(hit.id, score, hit.coverage, hit.literal, hit.rare, hit.matched)


def min_window(occurrences: list[tuple[int, str]], needed: int) -> tuple[int, int]:
    """The shortest (start, end) offsets holding ``needed`` distinct terms (occurrences sorted by offset)."""
    best = (occurrences[0][0], occurrences[-1][0])
    counts: dict[str, int] = {}
    left = 0
    for offset, term in occurrences:
        counts[term] = counts.get(term, 0) + 1
        while len(counts) == needed:
            start, first_term = occurrences[left]
            if offset - start < best[1] - best[0]:
                best = (start, offset)
            counts[first_term] -= 1
            if not counts[first_term]:
                del counts[first_term]
            left += 1
    return best


class ClauseRanker:
    """Scores the clauses of top paragraphs for a weighted question."""

    def __init__(self, chunks: Mapping[str, ChunkClauses], params: BM25Params, settings: ClauseSettings) -> None:
        if settings.method not in METHODS:
            raise ValueError(f"unknown clause_method {settings.method!r}; choose one of {list(METHODS)}")
        self.chunks = dict(chunks)
        self.settings = settings
        ordered = sorted(self.chunks.values(), key=lambda c: c.first)
        corpus = [sorted(terms) or ["\0"] for c in ordered for terms in c.terms]
        self.index = Index(corpus, params) if settings.method == "bm25" else None

    def best_clause(self, chunk_id: str, counts: Mapping[str, float], squares: Mapping[str, float],
                    clause_scores: np.ndarray | None = None) -> tuple[int, float, tuple[int, int]]:
        """(clause index, score, (first, last) clause of the matched stretch) of a chunk for the question.

        ``counts``: each question term's count (synonyms counting less); ``squares``: its IDF squared.
        """
        c = self.chunks[chunk_id]
        if self.settings.method == "window":
            return self._window(c, counts, squares, sum(counts.values()))
        if clause_scores is not None:
            scores = clause_scores[c.first: c.first + len(c.bounds)]
            i = int(np.argmax(scores))
            return i, float(scores[i]), (i, i)
        i = self._heaviest(c, squares, range(len(c.bounds)))
        return i, 0.0, (i, i)

    @staticmethod
    def _heaviest(c: ChunkClauses, squares: Mapping[str, float], among: range) -> int:
        """The clause holding the most IDF squared (earliest on ties): one rare word outweighs common ones."""
        best, best_score = among[0], -1.0
        for i in among:
            terms = c.terms[i]
            score = sum(w for t, w in squares.items() if t in terms)  # in question order: deterministic sums
            if score > best_score:
                best, best_score = i, score
        return best

    def _window(self, c: ChunkClauses, counts: Mapping[str, float], squares: Mapping[str, float],
                total: float) -> tuple[int, float, tuple[int, int]]:
        """The heaviest clause inside the shortest stretch holding every matched term, and a score for the stretch.

        The score is the share of the question's terms matched (synonyms counting less), discounted (up
        to half) by the stretch's length: how many of the question's terms, and how close together.
        """
        positions = c.positions
        matched = [t for t in counts if t in positions]
        if not matched:
            return 0, 0.0, (0, 0)
        if len(matched) == 1:
            start = end = positions[matched[0]][0]
        else:
            start, end = min_window(sorted((p, t) for t in matched for p in positions[t]), len(matched))
        # A count, not an IDF sum: the paragraph score has weighed the terms already.
        share = sum(counts[t] for t in matched) / total
        first, last = _clause_at(c.starts, start), _clause_at(c.starts, end)
        clause = first if first == last else self._heaviest(c, squares, range(first, last + 1))
        closeness = 1.0 / (1.0 + (end - start) / WINDOW_SCALE)
        return clause, share * (1.0 - PROXIMITY_SHARE + PROXIMITY_SHARE * closeness), (first, last)

    def rerank(self, hits: Sequence[Hit], counts: Mapping[str, float], idf: Callable[[str], float],
               reorder: bool = True, floor: float = 0.0) -> tuple[list[Hit], dict[str, tuple[int, tuple[int, int]]]]:
        """Hits reordered by paragraph score blended with best-clause score, and for each its best clause and
        the (first, last) clauses of its matched stretch.

        Only hits scoring at least ``floor`` times the best are looked at (the others are neither cited nor
        moved). Without ``reorder`` (list questions, where the whole paragraph is the answer) only the
        clauses are chosen.
        """
        clause_scores = self.index.scores(counts.items()) if self.index is not None else None
        squares = {t: idf(t) ** 2 for t in counts}
        cut = floor * max((h.score for h in hits), default=0.0)
        best = {h.id: self.best_clause(h.id, counts, squares, clause_scores)
                for h in hits if h.id in self.chunks and h.score >= cut}
        clauses = {cid: (i, span) for cid, (i, _, span) in best.items()}
        blend = self.settings.blend
        if self.settings.method == "none" or not blend or len(hits) < 2 or not reorder:
            return list(hits), clauses
        top_para = max(h.score for h in hits) or 1.0
        top_clause = max((s for _, s, _ in best.values()), default=0.0) or 1.0
        weight = blend * top_para / top_clause
        scores = [(1 - blend) * h.score + (weight * best[h.id][1] if h.id in best else 0.0) for h in hits]
        order = sorted(range(len(hits)), key=lambda i: -scores[i])  # stable: ties keep paragraph order
        return [_rescored(hits[i], scores[i]) for i in order], clauses

    def holds_all(self, chunk_id: str, terms: Sequence[str]) -> bool:
        """True when one clause of the chunk holds every one of ``terms`` (names' words included)."""
        c = self.chunks.get(chunk_id)
        return c is not None and bool(terms) and any(all(t in clause or t in names for t in terms)
                                                     for clause, names in zip(c.terms, c.names, strict=True))


def build_ranker(analyses: Mapping[str, Analysis], analyzer: Analyzer, bounds: Mapping[str, Sequence[tuple[int, int]]],
                 params: BM25Params, settings: ClauseSettings,
                 keep: Callable[[str], bool] = lambda _: True) -> ClauseRanker:
    """A ClauseRanker over every chunk ``keep`` accepts."""
    chunks: dict[str, ChunkClauses] = {}
    first = 0
    for cid, analysis in analyses.items():
        if not keep(cid) or cid not in bounds:
            continue
        chunks[cid] = chunk_clauses(analysis, name_word_terms(analysis, analyzer), bounds[cid], first)
        first += len(bounds[cid])
    return ClauseRanker(chunks, params, settings)
