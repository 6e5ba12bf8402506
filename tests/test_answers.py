"""Answer kinds by question shape (bot/answers): each kind on questions worded as users word them."""

from __future__ import annotations

import pytest

from bot.context import advance
from bot.core import Core
from bot.model import Answer


def ids(answer: Answer) -> list[str]:
    return list(dict.fromkeys([c.id for c in answer.citations] + [i.cite for i in answer.items]))


def converse(core: Core, *messages: str) -> Answer:
    context = None
    answer = None
    for message in messages:
        answer = core.answer(message, context=context)
        context = advance(context, answer)
    assert answer is not None
    return answer


@pytest.mark.parametrize(("question", "expected"), [
    ("what does it say about labour", {"PP4", "PP6", "OP18"}),
    ("anything about technology?", {"PP24", "OP14"}),
])
def test_topic_lists_every_paragraph_operative_first(core: Core, question: str, expected: set[str]) -> None:
    answer = core.answer(question)
    assert answer.found and answer.kind == "topic"
    assert expected <= set(ids(answer))
    kinds = [core.document.by_id[i].kind for i in ids(answer)]
    assert kinds == sorted(kinds, key=lambda k: k != "operative")


def test_a_common_topic_word_is_never_not_found(core: Core) -> None:
    answer = core.answer("what does it say about victims")
    assert answer.found and answer.kind == "topic" and len(ids(answer)) >= 5
    assert "more:" in answer.text  # capped at 8 lines, then the rest by id


@pytest.mark.parametrize(("question", "word"), [
    ("what does it say about drug trafficking", "drug"),
    ("anything on arms trafficking?", "arms"),
    ("wildlife trafficking", "wildlife"),
])
def test_topic_with_a_qualifier_the_text_lacks_names_it(core: Core, question: str, word: str) -> None:
    answer = core.answer(question)
    assert not answer.found
    assert f"“{word}”" in answer.text


def test_topic_missing_names_only_words_the_text_itself_uses(core: Core) -> None:
    assert "(it does speak of trafficking)" in core.answer("wildlife trafficking").text
    # "recommend" is only a stem's cousin of "recommendations", "a" a stop word: nothing to say it speaks of
    assert "speak of" not in core.answer("what does it say about recommend a restaurant").text


def test_one_paragraph_topic_quotes_the_clause_on_it(core: Core) -> None:
    answer = core.answer("Brasilia meeting")
    assert answer.kind == "topic" and "(PP29): “" in answer.text and "4 and 5 December 2014" in answer.text


@pytest.mark.parametrize(("question", "expected"), [
    ("which paragraph mentions Brasilia", ["PP29"]),
    ("where does the resolution mention the Special Rapporteur", ["PP33", "OP17", "OP19"]),
    ("Which article talks about organ trafficking?", ["OP18", "OP21"]),
])
def test_locate_gives_the_paragraph_ids(core: Core, question: str, expected: list[str]) -> None:
    answer = core.answer(question)
    assert answer.found and answer.kind == "locate"
    assert set(expected) <= set(ids(answer))
    assert "Bangkok —" not in answer.text  # "where does it ..." asks for a place in the text


def test_mention_yes_says_where(core: Core) -> None:
    answer = core.answer("Does it mention poverty?")
    assert answer.text.startswith("Yes") and "OP15" in answer.text


@pytest.mark.parametrize("question", ["does it mention climate change", "is the EU mentioned?",
                                      "does it talk about debt bondage"])
def test_mention_no_is_plain(core: Core, question: str) -> None:
    answer = core.answer(question)
    assert answer.text.startswith("No") and not answer.found


def test_a_no_is_never_said_of_a_loosely_worded_subject_whose_words_all_occur(core: Core) -> None:
    answer = core.answer("Does it say anything about trafficking of refugees and people forced from their homes?")
    assert not answer.text.startswith("No")


@pytest.mark.parametrize(("question", "first"), [
    ("did america sponsor the draft", "Yes"), ("is the US a sponsor?", "Yes"), ("Syria a sponsor?", "Yes"),
    ("is Britain among the sponsors", "No"), ("is Ivory Coast a sponsor", "No"),
    ("is UNODC a sponsor?", "No"),
    ("is IOM part of the inter-agency coordination group", "Yes"), ("is the WHO a member of ICAT", "No"),
    ("is IOM one of the coordinators of the Khartoum process", "Yes"),
    ("was UNICEF among the co-hosts of the Bangkok consultative meeting?", "No"),
])
def test_membership_starts_with_yes_or_no(core: Core, question: str, first: str) -> None:
    answer = core.answer(question)
    assert answer.kind == "membership"
    assert answer.text.startswith(first), answer.text


@pytest.mark.parametrize("question", ["explain this resolution in simple terms", "what are the key takeaways",
                                      "summarize", "tl;dr", "what is this resolution about?"])
def test_overview_names_the_main_subjects(core: Core, question: str) -> None:
    answer = core.answer(question)
    assert answer.kind == "overview" and answer.found
    seen = " ".join([answer.text, *(i.text for i in answer.items)])
    for name in ("UNODC", "ICAT", "Member States", "30 July", "seventy-fourth session"):
        assert name in seen


@pytest.mark.parametrize(("question", "number"), [
    ("how many operative paragraphs are there?", "22"), ("how many footnotes", "14"),
    ("how many sponsors?", "16"), ("how many ICAT members are there", "16"),
    ("how many latin american countries sponsored it", "3"),
    ("how many sub-items does PP8 have", "6"),
])
def test_count_gives_the_number_first(core: Core, question: str, number: str) -> None:
    answer = core.answer(question)
    assert answer.text.startswith(number), answer.text


@pytest.mark.parametrize(("question", "name", "cite"), [
    ("what is the Trafficking in Persons Protocol?",
     "Protocol to Prevent, Suppress and Punish Trafficking in Persons", "PP5"),
    ("what is the Organized Crime Convention",
     "United Nations Convention against Transnational Organized Crime", "PP5"),
])
def test_definition_gives_the_full_name_and_first_mention(core: Core, question: str, name: str, cite: str) -> None:
    answer = core.answer(question)
    assert answer.kind == "definition"
    assert name in answer.text and answer.citations[0].id == cite


def test_follow_up_takes_the_subject_not_the_answer_type(core: Core) -> None:
    answer = converse(core, "who coordinates ICAT?", "and when is World Day?")
    assert "30 July" in answer.text and answer.citations[0].id == "OP5"


def test_follow_up_re_asks_the_last_question_about_a_new_name(core: Core) -> None:
    assert converse(core, "is Russia a sponsor?", "and Canada?").text.startswith("No")
    assert converse(core, "is Russia a sponsor?", "and Canada?", "what about the US?").text.startswith("Yes")
    assert converse(core, "is UNICEF part of ICAT?", "what about WHO?").text.startswith("No")


def test_follow_up_fills_in_a_pronoun(core: Core) -> None:
    answer = converse(core, "what was the Bangkok meeting about?", "when was it held?")
    assert "21 and 22 May 2014" in answer.text


def test_report_due_session_is_the_seventy_fourth(core: Core) -> None:
    answer = core.answer("By which session is the Secretary-General's report due?")
    assert "seventy-fourth" in answer.text.lower() or "seventy-fourth" in answer.citations[0].quote


def test_a_word_only_inside_a_name_is_a_yes_that_says_so(core: Core) -> None:
    answer = core.answer("does it mention the aviation organization?")
    assert answer.text.startswith("Yes") and "PP15" in answer.text
