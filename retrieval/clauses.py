"""Clause-level ranking: which clause of a paragraph answers, and which of the top paragraphs wins.

Long paragraphs hold several clauses about different things (PP15, OP10, OP19). Two ways to
score a paragraph by its best clause, chosen by the ``clause_method`` setting:

- ``window``: the shortest stretch of the paragraph that holds every question term the paragraph
  matches; the more weight it holds and the shorter it is, the higher the score.
- ``bm25``: a BM25 index whose documents are clauses; a paragraph scores by its best clause.

Either score is blended with the paragraph's own BM25 score to reorder the top hits.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace

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
                        {t: tuple(sorted(set(p))) for t, p in positions.items()}, first)


def _clause_at(starts: Sequence[int], offset: int) -> int:
    lo, hi = 0, len(starts) - 1
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if starts[mid] <= offset:
            lo = mid
        else:
            hi = mid - 1
    return lo


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

    def best_clause(self, chunk_id: str, counts: Mapping[str, float], idf: Callable[[str], float],
                    clause_scores: np.ndarray | None = None) -> tuple[int, float]:
        """(clause index, score) of the chunk's best clause for the question's term counts."""
        c = self.chunks[chunk_id]
        if self.settings.method == "window":
            return self._window(c, counts, idf)
        if clause_scores is not None:
            scores = clause_scores[c.first: c.first + len(c.bounds)]
            i = int(np.argmax(scores))
            return i, float(scores[i])
        return self._heaviest(c, {t: idf(t) for t in counts}), 0.0

    @staticmethod
    def _heaviest(c: ChunkClauses, weights: Mapping[str, float]) -> int:
        scores = [sum(w * w for t, w in weights.items() if t in terms) for terms in c.terms]
        return scores.index(max(scores))

    def _window(self, c: ChunkClauses, counts: Mapping[str, float], idf: Callable[[str], float]) -> tuple[int, float]:
        """The clause at the heart of the shortest stretch holding every matched term, and a score for the stretch.

        The score is the share of the question's terms matched (synonyms counting less), discounted (up
        to half) by the stretch's length: how many of the question's terms, and how close together.
        """
        matched = [t for t in counts if t in c.positions]
        if not matched:
            return 0, 0.0
        occurrences = sorted((p, t) for t in matched for p in c.positions[t])
        start, end = min_window(occurrences, len(matched))
        # A count, not an IDF sum: the paragraph score has weighed the terms already.
        share = sum(counts[t] for t in matched) / sum(counts.values())
        starts = [s for s, _ in c.bounds]
        inside = range(_clause_at(starts, start), _clause_at(starts, end) + 1)
        clause = max(inside, key=lambda i: (sum(idf(t) ** 2 for t in counts if t in c.terms[i]), -i))
        closeness = 1.0 / (1.0 + (end - start) / WINDOW_SCALE)
        return clause, share * (1.0 - PROXIMITY_SHARE + PROXIMITY_SHARE * closeness)

    def window_clauses(self, chunk_id: str, counts: Mapping[str, float]) -> tuple[int, int]:
        """(first, last) clause of the shortest stretch of the chunk holding every matched question term."""
        c = self.chunks.get(chunk_id)
        matched = [t for t in counts if c is not None and t in c.positions]
        if c is None or not matched:
            return 0, 0
        start, end = min_window(sorted((p, t) for t in matched for p in c.positions[t]), len(matched))
        starts = [s for s, _ in c.bounds]
        return _clause_at(starts, start), _clause_at(starts, end)

    def rerank(self, hits: Sequence[Hit], counts: Mapping[str, float], idf: Callable[[str], float],
               reorder: bool = True) -> tuple[list[Hit], dict[str, int]]:
        """Hits reordered by paragraph score blended with best-clause score, and each one's best clause.

        Without ``reorder`` (list questions, where the whole paragraph is the answer) only the clauses are chosen.
        """
        clause_scores = self.index.scores(counts.items()) if self.index is not None else None
        best = {h.id: self.best_clause(h.id, counts, idf, clause_scores) for h in hits if h.id in self.chunks}
        blend = self.settings.blend
        if self.settings.method == "none" or not blend or len(hits) < 2 or not reorder:
            return list(hits), {cid: i for cid, (i, _) in best.items()}
        top_para = max(h.score for h in hits) or 1.0
        top_clause = max((s for _, s in best.values()), default=0.0) or 1.0
        scored = [replace(h, score=(1 - blend) * h.score + blend * top_para * best[h.id][1] / top_clause)
                  if h.id in best else h for h in hits]
        order = sorted(range(len(hits)), key=lambda i: -scored[i].score)
        return [scored[i] for i in order], {cid: i for cid, (i, _) in best.items()}

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
