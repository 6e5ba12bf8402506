"""Typed "which X" answers (bot/answers/typed.py): the headline names the thing asked for."""

from __future__ import annotations

import pytest

from bot.answers.typed import parse_kinds
from bot.context import Context
from bot.core import Core


@pytest.mark.parametrize(("question", "cite", "name"), [
    ("Which declaration was adopted in New York in September 2016?", "PP14",
     "New York Declaration for Refugees and Migrants"),
    ("Which convention is the Protocol of 2014 attached to?", "PP6", "Forced Labour Convention, 1930 (No. 29)"),
    ("Which conference adopted the Doha Declaration?", "PP13",
     "Thirteenth United Nations Congress on Crime Prevention and Criminal Justice"),
    ("Which fund does UNODC manage?", "OP20", "United Nations Voluntary Trust Fund for Victims of Trafficking"),
])
def test_the_headline_names_the_thing_of_the_asked_kind(core: Core, question: str, cite: str, name: str) -> None:
    answer = core.answer(question)
    assert answer.citations[0].id == cite
    headline = answer.text.split(" — ")[0]
    assert name in headline and f"({cite})" in answer.text


def test_a_thing_the_question_names_itself_is_not_the_answer(core: Core) -> None:
    # PP6 also holds the Protocol; the convention it is attached to is the answer.
    assert "Protocol" not in core.answer("which convention is the protocol of 2014 attached to").text.split(" — ")[0]


def test_the_asked_modifier_chooses_among_things_of_one_kind(core: Core) -> None:
    # PP5 recalls two conventions; "slavery" picks the Supplementary Convention, whose alias the question uses.
    assert core.answer("which slavery convention is recalled").text.startswith("Supplementary Convention")


def test_plural_kinds_list_every_thing_of_that_kind_in_the_paragraph(core: Core) -> None:
    text = core.answer("which special rapporteurs should states cooperate with").text
    assert text.count("Special Rapporteur") >= 3


def test_glossary_type_counts_as_a_kind_when_the_title_head_does_not(core: Core) -> None:
    # "United Nations Children's Fund" is headed "Fund" but the glossary types it as an organisation.
    text = core.answer("which agency wrote the guidelines on protecting child victims of trafficking").text
    assert text.startswith("United Nations Children's Fund")


def test_what_other_asks_for_a_thing_not_yet_named(core: Core) -> None:
    # The text names two trust funds; "trust fund" is the victims' fund's own alias, so the other one answers.
    assert core.typed.asks_other("what other trust fund is mentioned")
    assert not core.typed.asks_other("which trust fund does UNODC manage")
    answer = core.answer("what other trust fund is mentioned")
    assert answer.text.startswith("United Nations Voluntary Trust Fund on Contemporary Forms of Slavery")
    assert answer.citations[0].id == "PP31"


def test_what_other_in_a_chat_leaves_out_what_the_last_answer_named(core: Core) -> None:
    first = core.answer("which fund does UNODC manage?")
    assert first.text.startswith("United Nations Voluntary Trust Fund for Victims")
    question = "what other fund is there?"
    assert core.may_follow_up(question)
    alone = core.answer(question)
    after = core.answer(question, context=Context.after(first))
    assert alone.text.startswith("United Nations Voluntary Trust Fund for Victims")  # nothing named yet
    assert after.text.startswith("United Nations Voluntary Trust Fund on Contemporary Forms of Slavery")


def test_questions_asking_for_a_date_or_place_keep_their_own_headline(core: Core) -> None:
    assert core.answer("when was the new york declaration adopted").text.startswith("19 September 2016")


def test_asked_kind_needs_the_noun_right_after_which_or_what(core: Core) -> None:
    typed = core.typed
    assert typed.asked("which UN trust funds help victims") is not None
    asked = typed.asked("what regional organization was first")
    assert asked is not None and asked.kind.name == "organization" and not asked.plural
    assert typed.asked("what does the resolution say about the fund") is None


def test_thing_kinds_need_nouns_and_heads() -> None:
    with pytest.raises(ValueError, match=r"thing_kinds\.x"):
        parse_kinds({"x": {"nouns": ["x"]}})
