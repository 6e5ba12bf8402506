"""BM25 scoring: the only module that imports rank_bm25.

rank_bm25 is given pre-tokenised term lists (its ``tokenizer=`` argument opens a
multiprocessing pool that is never closed). Each term's score vector over all chunks
is computed once with rank_bm25 and cached, so a question costs a few vector additions.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
from rank_bm25 import BM25L, BM25Okapi, BM25Plus

VARIANTS = {"okapi": BM25Okapi, "l": BM25L, "plus": BM25Plus}


@dataclass(frozen=True, slots=True)
class BM25Params:
    """Which rank-bm25 variant to use and its parameters."""

    variant: str = "okapi"
    k1: float = 0.6
    b: float = 0.3
    delta: float = 0.5
    epsilon: float = 0.25


class Index:
    """Scores term lists against a fixed corpus of term lists."""

    def __init__(self, corpus: Sequence[Sequence[str]], params: BM25Params) -> None:
        if params.variant not in VARIANTS:
            raise ValueError(f"unknown BM25 variant {params.variant!r}; choose one of {sorted(VARIANTS)}")
        self.params = params
        self.size = len(corpus)
        self.doc_terms = [frozenset(doc) for doc in corpus]
        self.doc_freq: Counter[str] = Counter(t for terms in self.doc_terms for t in terms)
        model = self._model([list(doc) for doc in corpus])
        self._vectors = {term: np.asarray(model.get_scores([term]), dtype=np.float64) for term in self.doc_freq}
        self._zero = np.zeros(self.size)
        self._unseen = self._idf(0)
        self._weights = {term: self._idf(df) for term, df in self.doc_freq.items()}

    def _model(self, corpus: list[list[str]]) -> BM25Okapi | BM25L | BM25Plus:
        p = self.params
        if p.variant == "okapi":
            return BM25Okapi(corpus, k1=p.k1, b=p.b, epsilon=p.epsilon)
        return VARIANTS[p.variant](corpus, k1=p.k1, b=p.b, delta=p.delta)

    def vector(self, term: str) -> np.ndarray:
        """Per-chunk BM25 contribution of one term (zeros for an unknown term)."""
        return self._vectors.get(term, self._zero)

    def scores(self, weighted_terms: Iterable[tuple[str, float]]) -> np.ndarray:
        """Sum of weighted per-term score vectors."""
        total = np.zeros(self.size)
        for term, weight in weighted_terms:
            vec = self._vectors.get(term)
            if vec is not None:
                total += weight * vec
        return total

    def weight(self, term: str) -> float:
        """A positive IDF (Lucene form) used to weigh coverage; unseen terms weigh the most."""
        return self._weights.get(term, self._unseen)

    def _idf(self, df: int) -> float:
        return math.log(1.0 + (self.size - df + 0.5) / (df + 0.5))
