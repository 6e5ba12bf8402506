from __future__ import annotations

import pytest

from bot.context import Context
from bot.core import Core
from retrieval.nlp import Analysis, Term
from retrieval.search import Hit, SearchResult


def cited(answer: object) -> list[str]:
    return [c.id for c in answer.citations]  # type: ignore[attr-defined]


def test_who_coordinates_icat(core: Core) -> None:
    answer = core.answer("who coordinates ICAT?")
    assert answer.found and answer.kind == "who"
    assert "United Nations Office on Drugs and Crime" in answer.text
    assert cited(answer)[0] in {"PP16", "OP10"}
    assert "coordinator" in answer.citations[0].quote
    assert answer.citations[0].quote.strip("…") in answer.citations[0].text


def test_world_day(core: Core) -> None:
    answer = core.answer("when is World Day?")
    assert answer.found and answer.kind == "when"
    assert "30 July" in answer.text and cited(answer)[0] == "OP5"


def test_sponsors_list_and_count(core: Core) -> None:
    listing = core.answer("list the sponsors")
    assert listing.found and len(listing.items) == 16 and cited(listing) == ["META"]
    assert {i.text for i in listing.items} >= {"Armenia", "Venezuela (Bolivarian Republic of)"}
    count = core.answer("how many sponsors are there?")
    assert count.text.startswith("16")


def test_sponsor_yes_and_no(core: Core) -> None:
    assert core.answer("is Thailand a sponsor?").text.startswith("Yes")
    assert core.answer("is France a co-sponsor?").text.startswith("No — France is not among the 16 sponsors")


@pytest.mark.parametrize("question", ["Who is the president of Brazil?", "what does it say about cryptocurrency?",
                                      "what is the population of Mexico?"])
def test_off_topic_is_not_found(core: Core, question: str) -> None:
    answer = core.answer(question)
    assert not answer.found and answer.citations == ()
    # A topic the text lacks names the missing word; anything else gets the general message.
    assert ("could not find" in answer.text and "Try" in answer.text) or "does not mention “" in answer.text


@pytest.mark.parametrize("question", ["recommend a restaurant", "recommend a good hotel",
                                      "what is the best programming language", "plan a holiday in Thailand"])
def test_one_ordinary_word_shared_with_the_text_is_not_a_topic(core: Core, question: str) -> None:
    # "recommendations" (OP22), "programmes" (PP27), "plan" (the Global Plan): the only overlap, next to
    # words the text never uses.
    assert not core.answer(question).found


def test_a_word_the_text_uses_only_inside_a_name_finds_that_name(core: Core) -> None:
    answer = core.answer("which statisticians are mentioned")
    assert answer.found and cited(answer)[0] == "OP12"
    assert answer.text.startswith("Committee of the Chief Statisticians of the United Nations System")


def test_all_chosen_words_in_one_clause_of_a_top_paragraph_put_it_first(core: Core) -> None:
    # "aviation" is only in the ICAO's name in PP15; "organization" names the kind of thing asked for, so
    # PP15 holds every word the user chose, while OP8 matched only the kind noun.
    stem = core.searcher.analyzer.stem
    query = Analysis((Term(stem("aviation")), Term(stem("organization"))), (), ())
    hits = (Hit("OP8", 2.1, 0.27, True, 0, (stem("organization"),)),
            Hit("PP15", 1.9, 0.0, True, 0, (stem("aviation"),)))
    accepted = core._accept(SearchResult(hits, query, "the aviation organization"))
    assert accepted is not None and [h.id for h in accepted[0].hits] == ["PP15", "OP8"] and accepted[1]
    unheld = (Hit("OP8", 2.1, 0.27, False, 0, (stem("organization"),)),)
    assert core._accept(SearchResult(unheld, query, "the aviation organization")) is None


@pytest.mark.parametrize(("question", "chunk"), [("paragraph 5", "OP5"), ("OP 12", "OP12"),
                                                 ("operative paragraph 20", "OP20"), ("preambular paragraph 3", "PP3"),
                                                 ("PP8(c)", "PP8(c)"), ("footnote 11", "FN11")])
def test_direct_lookups(core: Core, question: str, chunk: str) -> None:
    answer = core.answer(question)
    assert answer.found and answer.kind == "lookup" and cited(answer)[0] == chunk
    assert answer.citations[0].text == core.document.by_id[chunk].text


def test_lookup_lists_cited_footnotes(core: Core) -> None:
    assert cited(core.answer("preambular paragraph 5")) == ["PP5", "FN2", "FN3", "FN4", "FN5"]
    assert "PP25" in core.answer("footnote 11").text


@pytest.mark.parametrize(("question", "message"), [("paragraph 30", "22 operative paragraphs"),
                                                   ("preambular paragraph 40", "34 preambular paragraphs"),
                                                   ("footnote 15", "14 footnotes"), ("PP8(g)", "(a), (b)")])
def test_missing_references(core: Core, question: str, message: str) -> None:
    answer = core.answer(question)
    assert not answer.found and message in answer.text


@pytest.mark.parametrize("question", ["", "   ", "\x00\x01", "?!", "\u200b\u200b", "… — ¿?"])
def test_empty_input(core: Core, question: str) -> None:
    answer = core.answer(question)
    assert not answer.found and answer.error == "empty" and "Please ask a question" in answer.text


def test_too_long(core: Core) -> None:
    answer = core.answer("why " * 25_000)
    assert answer.error == "too_long" and "too long" in answer.text and len(answer.question) <= 200


def test_invisible_characters_do_not_change_the_answer(core: Core) -> None:
    clean = core.answer("when is World Day?")
    dirty = core.answer("when is\u200b World\u202e Day\x1b[0m?\r")
    assert (dirty.text, cited(dirty)) == (clean.text, cited(clean))


@pytest.mark.parametrize("question", ["ما هو يوم العالمي", "🙂🙂🙂", "<script>alert(1)</script>", "a" * 999])
def test_odd_input_never_raises(core: Core, question: str) -> None:
    answer = core.answer(question)
    assert answer.text


def test_show(core: Core) -> None:
    assert core.show("OP5").citations[0].id == "OP5"
    assert len(core.show("sponsors").items) == 16
    assert core.show("about").found
    assert not core.show("XYZ").found


def test_document_data(core: Core) -> None:
    assert "1 November 2017" in core.answer("when was this document issued?").text
    assert "Third Committee" in core.answer("which committee handled it?").text
    assert "107" in core.answer("what agenda item is it under?").text
    assert "22 operative" in core.answer("how many operative paragraphs are there?").text


def test_help_and_examples(core: Core) -> None:
    assert "trafficking in persons" in core.help_text()
    assert len(core.examples()) >= 3


def test_context_free_answers_are_memoised(core: Core) -> None:
    assert core.answer("when is World Day?") is core.answer("when is World Day?")


def test_how_many_without_a_figure_is_not_found(core: Core) -> None:
    answer = core.answer("how many people are trafficked every year?")
    assert not answer.found and "no figure" in answer.text


def test_ready_answer_only_returns_memoised_answers(core: Core) -> None:
    question = "who is invited to observe the World Day?"
    assert core.ready_answer(question + " (fresh)") is None
    answer = core.answer(question)
    assert core.ready_answer(question) is answer
    assert core.ready_answer("more", Context(last=answer)) is None  # a follow-up depends on context
    alone = core.answer("show the full paragraph")  # asked with no context: memoised like any question
    assert core.ready_answer("show the full paragraph") is alone
    assert core.ready_answer("show the full paragraph", Context(last=answer)) is None


def test_an_elliptic_question_memoised_without_context_is_recomputed_within_one(core: Core) -> None:
    meeting = core.answer("what was the Bangkok meeting about?")
    alone = core.answer("when was it held??")  # someone else asked it with no conversation
    assert core.may_follow_up("when was it held??")
    assert core.ready_answer("when was it held??", Context(last=meeting)) is None
    within = core.answer("when was it held??", Context(last=meeting))
    assert within is not alone and "OP19" in within.text and "May 2014" in within.text


def test_may_follow_up_is_false_only_for_questions_no_conversation_changes(core: Core) -> None:
    for question in ("when is World Day?", "who coordinates ICAT", "is Canada a sponsor?",
                     "what does it say about forced labour?"):
        assert not core.may_follow_up(question), question
    for question in ("more", "show the full paragraph", "and Canada?", "when was it held?", "what date?",
                     "who chairs it?"):
        assert core.may_follow_up(question), question


def test_too_long_question_is_cleaned_in_the_echo(core: Core) -> None:
    answer = core.answer("\x1b[31m" + "x" * 5000)
    assert answer.error == "too_long" and "\x1b" not in answer.question


def test_answers_from_many_threads_match_sequential_answers(core: Core) -> None:
    from concurrent.futures import ThreadPoolExecutor

    icat = "who coordinates ICAT"
    questions = [f"when is World Day{'!' * n}" for n in range(1, 25)] + [f"{icat[:n].upper()}{icat[n:]}?"
                                                                         for n in range(2, 10)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        parallel = list(pool.map(core.answer, questions))
    for question, answer in zip(questions, parallel, strict=True):
        assert answer.text == core.answer(question).text and answer.found


@pytest.mark.parametrize("question", ["🙂🙂🙂", "ما هو اليوم العالمي؟", "🇺🇳❓"])
def test_emoji_or_unknown_script_is_no_match_not_empty(core: Core, question: str) -> None:
    answer = core.answer(question)
    assert answer.error is None and not answer.found and "could not find" in answer.text


def test_asking_sentences_last_question_first() -> None:
    from bot.core import asking_sentences

    assert asking_sentences("when is World Day?") == []
    assert asking_sentences("I teach. Who leads ICAT? And when is World Day?") == ["And when is World Day?",
                                                                                   "Who leads ICAT?"]
    assert asking_sentences("I teach a class. Tell me about World Day.") == ["Tell me about World Day."]


def test_a_long_message_is_answered_by_its_asking_sentence(core: Core) -> None:
    text = ("I run a small shelter and our volunteers keep asking me about this before the campaign week. "
            "When is the world day against trafficking?")
    assert not core._answer_one(text).found  # as a whole, the context drowns the question
    answer = core.answer(text)
    assert answer.found and answer.question == text and answer.citations[0].id == "OP5"
    off_topic = core.answer("I am writing an essay for my politics class. What is the capital of Thailand?")
    assert not off_topic.found


@pytest.mark.parametrize(("question", "named", "fact"), [
    ("where and when was the meeting with national rapporteurs held", "21 and 22 May 2014", "Bangkok"),
    ("who runs the UN voluntary trust fund for trafficking victims", "United Nations Office on Drugs and Crime",
     "fund manager"),
])
def test_a_named_answer_comes_with_the_clause_it_stands_in(core: Core, question: str, named: str, fact: str) -> None:
    headline = core.answer(question).text
    assert headline.startswith(named) and fact in headline


@pytest.mark.parametrize(("question", "fact"), [
    ("paragraph 5", "30 July"), ("show me operative paragraph 20", "Trust Fund"),
    ("what does paragraph 15 ask countries to address", "factors")])
def test_a_look_up_headline_says_what_the_paragraph_says(core: Core, question: str, fact: str) -> None:
    answer = core.answer(question)
    assert answer.kind == "lookup" and fact in answer.text


def test_a_wordy_message_is_answered_from_its_request_phrase_on(core: Core) -> None:
    world_day = core.answer("Our NGO runs shelters in three regions and we are updating our training for "
                            "volunteers, can you tell me which day is the World Day against Trafficking in Persons?")
    assert world_day.found and "30 July" in world_day.citations[0].text and world_day.citations[0].id == "OP5"
    report = core.answer("We have a board meeting tomorrow where people will ask about the follow-up, do you "
                         "know when the Secretary-General has to report?")
    assert report.found and report.citations[0].id == "OP22" and "eventy-fourth" in report.text
    assert report.question.startswith("We have a board meeting")  # the answer keeps the message as asked


def test_asking_parts_split_sentences_and_request_phrases(core: Core) -> None:
    parts = core._asking_parts("I teach a course. Could you tell me who coordinates ICAT?")
    assert parts == ["Could you tell me who coordinates ICAT?"]
    assert core._asking_parts("My students ask, could you tell me when World Day is") == [
        "could you tell me when World Day is"]
    assert core._asking_parts("could you tell me when World Day is") == []  # the phrase opens it: nothing to cut


@pytest.mark.parametrize("polite", [
    "Quick question: when is World Day?", "Hey, when is World Day?", "when is World Day? cheers",
    "Hello! when is World Day thanks", "Sorry to ask, when is World Day??",
])
def test_a_polite_question_is_answered_as_the_bare_one(core: Core, polite: str) -> None:
    bare = core.answer("when is World Day?")
    answer = core.answer(polite)
    assert answer.found and answer.citations[0].id == bare.citations[0].id == "OP5"
    assert answer.text == bare.text


def test_greetings_and_thanks_alone_are_answered_in_kind(core: Core) -> None:
    hello, thanks = core.answer("hi!"), core.answer("Thanks, that helps")
    assert hello.kind == thanks.kind == "courtesy"
    assert hello.text.startswith("Hello!") and core.examples()[0] in hello.text
    assert thanks.text.startswith("You're welcome")
    assert not hello.found and hello.usable  # not a question, and no input error either


def test_the_memo_and_follow_up_test_see_the_question_without_its_courtesy(core: Core) -> None:
    core.answer("who coordinates ICAT?")
    assert core.ready_answer("Hi, who coordinates ICAT? thanks") is core.ready_answer("who coordinates ICAT?")
    assert core.may_follow_up("when was it held? thanks") == core.may_follow_up("when was it held?") is True


def test_a_polite_follow_up_uses_the_conversation(core: Core) -> None:
    first = core.answer("what is the Doha Declaration?")
    polite = core.answer("thanks! when was it adopted?", Context.after(first))
    bare = core.answer("when was it adopted?", Context.after(first))
    assert polite.citations[0].id == bare.citations[0].id


def test_a_question_that_names_the_resolution_is_no_follow_up_of_the_last_subject(core: Core) -> None:
    before = Context.after(core.answer("what was the Bangkok meeting about?"))
    for question in ("what is this resolution about?", "who are the sponsors of this draft?",
                     "when was this document issued?", "whats the purpose of this text"):
        assert core.answer(question, context=before) == core.answer(question), question
    held = core.answer("when was it held?", context=before)  # a pronoun of its own: still a follow-up
    assert "OP19" in held.text and held != core.answer("when was it held?")
    about = core.answer("what does the resolution say about it?", context=before)
    assert about != core.answer("what does the resolution say about it?")


def test_stand_alone_questions_asked_after_an_unrelated_answer_mostly_get_the_same_answer(core: Core) -> None:
    from bot.courtesy_eval import stand_alone_questions

    earlier = [Context.after(core.answer(q)) for q in ("when is World Day?", "what was the Bangkok meeting about?",
                                                        "informal network of national rapporteurs?",
                                                        "is Mexico a sponsor?")]
    questions = stand_alone_questions(core.config.path("eval").parent)
    same = sum(core.answer(q, context=c).text == core.answer(q).text for q in questions for c in earlier)
    # 97.9% measured (3,193 of 3,260); 96.7% before questions naming the resolution stopped counting
    # as follow-ups. The rest is mostly "explain it simply" and "what does it welcome?": ambiguous.
    assert same / (len(questions) * len(earlier)) >= 0.975
