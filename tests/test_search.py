from __future__ import annotations

from collections import Counter

from bot.core import Core
from retrieval.search import TypoFixer


def test_typo_repair(core: Core) -> None:
    fixer = core.searcher.typos
    assert fixer.fix("traffiking in persons") == "trafficking in persons"
    assert fixer.fix("Secretery-General").lower() == "secretary-general"
    assert fixer.fix("asked") == "asked"  # short words are left alone


def test_spelling_variants_are_known_words_not_typos(core: Core) -> None:
    assert core.searcher.typos.fix("countries must criminalise") == "countries must criminalise"
    assert core.searcher.analyzer.terms("criminalise") == core.searcher.analyzer.terms("criminalize")


def test_a_word_one_short_of_the_minimum_only_gets_a_dropped_letter_back() -> None:
    fixer = TypoFixer(Counter({"agency": 3, "agent": 1, "weather": 1}), min_length=6)
    assert fixer.fix_word("agncy") == "agency"  # a dropped letter, put back: six letters
    assert fixer.fix_word("agenx") == "agenx"  # a five-letter substitution is too risky a guess
    assert fixer.fix_word("agenct") == "agency"  # six letters: any single edit
    assert fixer.fix_word("agen") == "agen"  # too short for any repair


def test_hits_are_typed_and_stable(core: Core) -> None:
    result = core.searcher.search("world day against trafficking date", k=3)
    best = result.hits[0]
    assert best.id == "OP5" and best.score > 0 and 0 < best.coverage <= 1 and best.literal
    assert len(result.hits) <= 3


def test_synonym_only_match_is_not_literal(core: Core) -> None:
    hits = core.searcher.search("kids", k=5).hits
    assert hits and not any(h.literal for h in hits)
    partly = core.searcher.search("kids and football", k=5).hits  # "football" is left unexplained
    assert not any(h.literal for h in partly)


def test_a_question_wholly_explained_by_synonyms_counts_as_literal(core: Core) -> None:
    two_groups = core.searcher.search("stateless kids at risk", k=3).hits[0]
    assert two_groups.id == "PP23" and two_groups.literal and two_groups.coverage > 0.999
    one_phrase = core.searcher.search("organ trade", k=3).hits[0]
    assert one_phrase.id in {"OP18", "OP21"} and one_phrase.literal


def test_kind_boost_prefers_chunks_with_the_wanted_entity(core: Core) -> None:
    plain = core.searcher.search("high-level meeting global plan", k=5)
    boosted = core.searcher.search("high-level meeting global plan", k=5, boost_labels=frozenset({"DATE"}),
                                   boost=0.25)
    assert [h.id for h in boosted.hits][:1] != [] and plain.hits
    date_chunks = {h.id for h in boosted.hits if any(e.label == "DATE" for e in core.searcher.entities(h.id))}
    assert boosted.hits[0].id in date_chunks


def test_words_only_inside_names_are_searchable_but_not_indexed(core: Core) -> None:
    stem = core.searcher.analyzer.stem("statisticians")
    assert core.searcher.index.doc_freq.get(stem, 0) == 0
    assert stem in core.searcher.state.name_words["OP12"]
    result = core.searcher.search("statisticians")
    assert result.hits[0].id == "OP12" and result.hits[0].matched == (stem,) and result.unknown == 0


def test_terms_only_in_excluded_chunks_count_as_unknown(core: Core) -> None:
    # "Mexico" is only in the sponsor list (META), which retrieval never answers from.
    assert core.searcher.search("mexico", exclude_kinds=frozenset({"meta"})).unknown == 1
    assert core.searcher.search("mexico").unknown == 0
    assert core.searcher.search("restaurant").unknown == 1
