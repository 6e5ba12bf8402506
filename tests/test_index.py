from __future__ import annotations

import numpy as np
import pytest
from rank_bm25 import BM25Okapi

from bot.config import Config
from bot.core import Core
from retrieval.index import BM25Params, Index

CORPUS = [["traffick", "person", "victim"], ["traffick", "person", "@unodc", "coordin"],
          ["traffick", "@worldday", "30", "juli"], ["traffick", "person", "report"]]


def test_scores_match_rank_bm25_reference() -> None:
    params = BM25Params("okapi", k1=1.5, b=0.75, epsilon=0.25)
    index = Index(CORPUS, params)
    reference = BM25Okapi([list(d) for d in CORPUS], k1=1.5, b=0.75, epsilon=0.25)
    query = ["@unodc", "coordin", "report"]
    assert np.allclose(index.scores((t, 1.0) for t in query), reference.get_scores(query))


@pytest.mark.parametrize("variant", ["okapi", "l", "plus"])
def test_every_variant_builds(variant: str) -> None:
    index = Index(CORPUS, BM25Params(variant))
    assert index.scores([("@worldday", 1.0)]).argmax() == 2


def test_unknown_variant_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="unknown BM25 variant"):
        Index(CORPUS, BM25Params("bm42"))


def test_chosen_variant_is_pinned(config: Config) -> None:
    # Chosen on the dev evaluation set (benchmarks/tune_bm25.py); change both together.
    r = config.section("retrieval")
    assert (r["variant"], r["k1"], r["b"]) == ("okapi", 0.6, 0.5)


def test_common_terms_never_score_negative(core: Core) -> None:
    # In this small corpus "trafficking" is in most chunks: plain Okapi IDF would be negative.
    index = core.searcher.index
    vector = index.vector("traffick")
    assert index.doc_freq["traffick"] > index.size / 2
    assert (vector >= 0).all()


def test_weights_favour_rare_terms(core: Core) -> None:
    index = core.searcher.index
    assert index.weight("@worldday") > index.weight("traffick") > 0
    assert index.weight("never-seen-term") >= index.weight("@worldday")
