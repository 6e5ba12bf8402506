from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from bot.core import Core
from retrieval.nlp import Analyzer, clean_text, normalise_fully


def test_clean_text_strips_invisible_and_control() -> None:
    assert clean_text("when is\u200b World\u202e Day\x00?\r\n") == "when is World Day?"
    assert clean_text("\x1b[31mred\x1b[0m") == "red"
    assert clean_text("a\ud800b") == "ab"


@given(st.text(alphabet=st.characters(max_codepoint=0x7F)) | st.text())
def test_clean_text_fast_path_agrees_with_full_normalisation(text: str) -> None:
    assert clean_text(text) == normalise_fully(text)


def test_clean_text_fast_path_folds_spaces() -> None:
    assert clean_text("  when   is World Day? ") == "when is World Day?"


def test_acronym_and_name_share_a_term(core: Core) -> None:
    a = core.searcher.analyzer
    assert a.terms("ICAT") == a.terms("the Inter-Agency Coordination Group") == ["@icat"]
    assert a.terms("UNODC") == a.terms("United Nations Office on Drugs and Crime")


def test_spelling_variants_fold_inside_glossary_phrases(core: Core) -> None:
    a = core.searcher.analyzer
    assert a.terms("makes ppl vulnerable") == a.terms("makes people vulnerable") == ["~root_causes"]
    assert a.terms("forced labor") == a.terms("forced labour")


def test_synonyms_on_both_sides(core: Core) -> None:
    a = core.searcher.analyzer
    assert a.terms("every two years") == a.terms("biennial")
    assert a.terms("punish") == a.terms("penalize")
    assert a.terms("organ removal") == a.terms("removal of organs")


def test_symbols_and_dates_are_entities(core: Core) -> None:
    analysis = core.searcher.analyzer.analyze("see E/2002/68/Add.1, A/71/119 and 64/293 of 30 July 2010.")
    labels = {(e.label, e.text) for e in analysis.entities}
    assert ("SYMBOL", "E/2002/68/Add.1") in labels
    assert ("SYMBOL", "A/71/119") in labels
    assert ("SYMBOL", "64/293") in labels
    assert ("DATE", "30 July 2010") in labels
    assert "#e/2002/68/add.1" in [t.value for t in analysis.terms]


def test_date_shapes(core: Core) -> None:
    text = "from 13 to 15 May 2013 and on 27 and 28 September 2017, in March and September 2017"
    dates = [e.text for e in core.searcher.analyzer.analyze(text).entities if e.label == "DATE"]
    assert dates == ["13 to 15 May 2013", "27 and 28 September 2017", "March and September 2017"]


def test_digits_survive(core: Core) -> None:
    assert "5" in core.searcher.analyzer.terms("paragraph 5")


def test_organs_do_not_match_organizations(core: Core) -> None:
    a = core.searcher.analyzer
    assert set(a.terms("organs")).isdisjoint(a.terms("organizations"))


def test_sessions_are_dates(core: Core) -> None:
    dates = [e.text for e in core.searcher.entities("OP22") if e.label == "DATE"]
    assert dates == ["seventy-fourth session"]


def test_new_words_never_grow_the_vocabulary_past_its_bound(core: Core) -> None:
    glossary = core.searcher.analyzer.glossary
    fresh = Analyzer(glossary, max_vocab=len(Analyzer(glossary).nlp.vocab) + 300)
    known = "the Inter-Agency Coordination Group met in Bangkok on 30 July 2010; see A/71/119"
    before = fresh.analyze(known)
    pipelines = {id(fresh.nlp)}
    for n in range(400):  # 1,200 words no text has used, 300 allowed
        fresh.analyze(f"is zq{n}x or zq{n}y or zq{n}z in it?")
        assert len(fresh.nlp.vocab) <= fresh._max_vocab + 10
        pipelines.add(id(fresh.nlp))
    assert len(pipelines) > 1  # it started afresh, more than once
    fresh._recent.cache_clear()  # analyse the known text again, not from the cache
    after = fresh.analyze(known)
    assert after == before and "@icat" in [t.value for t in after.terms]
    assert {"SYMBOL", "DATE"} <= {e.label for e in after.entities}
