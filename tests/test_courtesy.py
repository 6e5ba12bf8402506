"""bot/courtesy.py with the project's own lists (content/templates.yaml): what is stripped and what is kept."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.core import Core
from bot.courtesy import Courtesy


@pytest.fixture(scope="module")
def courtesy(core: Core) -> Courtesy:
    return core.templates.courtesy


@pytest.mark.parametrize(("message", "question"), [
    ("Hi, quick question: when is World Day? thanks!", "when is World Day?"),
    ("when is World Day cheers??", "when is World Day?"),
    ("Hey bot, who coordinates ICAT?", "who coordinates ICAT?"),
    ("Good morning! who sponsored it", "who sponsored it"),
    ("Sorry to ask, is Italy a sponsor? ta", "is Italy a sponsor?"),
    ("more please", "more"),
    ("show the full paragraph please", "show the full paragraph"),
    ("when is world day :)", "when is world day"),
    ("what does it say about labour? thanks in advance", "what does it say about labour?"),
    ("Please tell me: what should the private sector do??", "what should the private sector do?"),
    ("war and conflict zones ?", "war and conflict zones?"),
])
def test_greetings_openers_and_thanks_are_stripped(courtesy: Courtesy, message: str, question: str) -> None:
    assert courtesy.separate(message).question == question


@pytest.mark.parametrize("message", [
    "tell me about labour",  # an opener without punctuation after it is part of the question
    "hiring practices?",  # "hi" only as a whole word
    "what is theta",  # "ta" only as a whole word
    "highlights of the resolution",  # "hi" starts a word, not a greeting
    "what does the resolution say about thanksgiving",
    "please define exploitation",
])
def test_words_inside_a_question_are_kept(courtesy: Courtesy, message: str) -> None:
    assert courtesy.separate(message).question == message


def test_a_message_of_nothing_but_courtesy_says_which_kind(courtesy: Courtesy) -> None:
    hello, thanks = courtesy.separate("Hello there!"), courtesy.separate("thanks, that helps")
    both = courtesy.separate("hi, thx")
    assert hello.only_courtesy and hello.greeted and not hello.thanked
    assert thanks.only_courtesy and thanks.thanked
    assert not courtesy.separate("🇺🇳❓").only_courtesy  # no words, but no courtesy either
    assert both.only_courtesy and both.greeted and both.thanked
    assert courtesy.separate("Thanks! and when was it adopted?").question == "and when was it adopted?"
    assert not courtesy.separate("hi, when is World Day?").only_courtesy


def test_no_lists_strip_nothing() -> None:
    assert Courtesy().separate("Hi, when is World Day? thanks").question == "Hi, when is World Day? thanks"


_PIECES = [" ", ",", ";", ":", ".", "!", "?", "-", "—", "x", "World Day", "hi", "thanks", "please", "and", "ta", ":)"]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(_PIECES), max_size=40).map("".join))
def test_any_message_is_separated_without_growing(courtesy: Courtesy, message: str) -> None:
    result = courtesy.separate(message)
    assert len(result.question) <= len(message.strip()) + 1  # at most a "?" is put back
    if not (result.greeted or result.thanked):  # without courtesy only the final marks may change
        assert result.question in (message.strip(), message.strip().rstrip(" \t\n?!.") + "?")
