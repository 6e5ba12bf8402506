from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import Executor, Future
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.channels.metrics import Metrics
from bot.channels.webcommon import Answerer
from bot.context import Context
from bot.core import Core
from bot.model import Answer
from bot.state.memory import MemoryContexts


class CountingExecutor(Executor):
    """Runs work synchronously and counts how often the core had to be handed to it."""

    def __init__(self) -> None:
        self.submitted = 0

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        self.submitted += 1
        future: Future[Any] = Future()
        future.set_result(fn(*args, **kwargs))
        return future


class CountingCore:
    """The real core, counting the answers it computes."""

    def __init__(self, core: Core) -> None:
        self.core = core
        self.computed = 0

    def answer(self, text: str, context: Context | None = None) -> Answer:
        self.computed += 1
        return self.core.answer(text, context=context)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.core, name)


LONG = ("I am writing a briefing for colleagues who work with survivors in several countries, and I need to be "
        "precise, because our readers will check every detail against the text itself. The briefing goes to "
        "our board next week, and they will quote whatever we send them word for word. Where was the "
        "consultative meeting on national rapporteurs held?")


async def test_quick_questions_are_answered_inline_long_ones_on_the_core_thread(core: Core) -> None:
    executor = CountingExecutor()
    answerer = Answerer(core, Metrics(), MemoryContexts(), executor)
    short = "where was the consultative meeting on national rapporteurs held?"
    assert core.is_quick(short) and not core.is_quick(LONG)
    assert "Bangkok" in (await answerer.ask("test", None, short)).text and executor.submitted == 0
    assert "Bangkok" in (await answerer.ask("test", None, LONG)).text and executor.submitted == 1


async def test_memoised_answers_skip_the_worker_thread(core: Core) -> None:
    executor = CountingExecutor()
    answerer = Answerer(core, Metrics(), MemoryContexts(), executor)
    question = LONG.replace("I am writing", "I am drafting")  # not memoised by another test
    first = await answerer.ask("test", None, question)
    assert executor.submitted == 1 and "Bangkok" in first.text
    again = await answerer.ask("test", None, question)
    assert again is first and executor.submitted == 1


async def test_follow_ups_always_go_to_the_core(core: Core) -> None:
    counting = CountingCore(core)
    answerer = Answerer(counting, Metrics(), MemoryContexts(), CountingExecutor())
    await answerer.ask("test", "chat-1", "when is World Day?")
    before = counting.computed
    full = await answerer.ask("test", "chat-1", "show the full paragraph")
    assert counting.computed == before + 1 and full.citations[0].quote == core.document.by_id["OP5"].text


class CountingContexts(MemoryContexts):
    """The in-memory store, counting reads."""

    def __init__(self) -> None:
        super().__init__()
        self.reads = 0

    async def get(self, key: str) -> Context | None:
        self.reads += 1
        return await super().get(key)


async def test_the_context_is_read_only_for_a_question_that_may_follow_up(core: Core) -> None:
    store = CountingContexts()
    answerer = Answerer(core, Metrics(), store, CountingExecutor())
    await answerer.ask("test", "chat-2", "what was the Bangkok meeting about?")
    await answerer.ask("test", "chat-2", "who coordinates ICAT?")
    assert store.reads == 0
    await answerer.ask("test", "chat-2", "what was the Bangkok meeting about?")
    when = await answerer.ask("test", "chat-2", "when was it held?")
    assert store.reads == 1 and "OP19" in when.text


class LoggingCore(CountingCore):
    """The real core with no memo in sight, logging each answer it computes; "boom" raises."""

    def __init__(self, core: Core, events: list[str]) -> None:
        super().__init__(core)
        self.events = events

    def ready_answer(self, text: str, context: Context | None = None) -> Answer | None:
        return None  # every question goes to a batch, whatever other tests asked the shared core

    def answer(self, text: str, context: Context | None = None) -> Answer:
        if "boom" in text:
            raise RuntimeError("the core failed")
        self.events.append(f"answer {text}")
        return super().answer(text, context)


class LoggingContexts(MemoryContexts):
    """The in-memory store, logging writes."""

    def __init__(self, events: list[str]) -> None:
        super().__init__()
        self.events = events

    async def put(self, key: str, context: Context) -> None:
        self.events.append(f"put {key}")
        await super().put(key, context)


async def test_questions_asked_together_are_answered_back_to_back_then_recorded(core: Core) -> None:
    events: list[str] = []
    answerer = Answerer(LoggingCore(core, events), Metrics(), LoggingContexts(events), CountingExecutor())
    await answerer.ask("test", "b", "what was the Bangkok meeting about?")
    events.clear()
    answers = await asyncio.gather(answerer.ask("test", "a", "who coordinates ICAT?"),
                                   answerer.ask("test", "b", "when was it held?"),
                                   answerer.ask("test", "c", "when is World Day?"))
    assert "Office on Drugs and Crime" in answers[0].text
    assert "OP19" in answers[1].text and "30 July" in answers[2].text
    # The two stand-alone questions share one batch; the follow-up reads its context, then answers.
    assert events == ["answer who coordinates ICAT?", "answer when is World Day?", "put a", "put c",
                      "answer when was it held?", "put b"]


async def test_a_failing_or_cancelled_question_leaves_the_rest_of_its_batch_answered(core: Core) -> None:
    events: list[str] = []
    answerer = Answerer(LoggingCore(core, events), Metrics(), MemoryContexts(), CountingExecutor())
    asked = [asyncio.create_task(answerer.ask("test", None, question))
             for question in ("when is World Day?", "boom", "who sponsors it?",
                              "which paragraph mentions Brasilia?")]
    await asyncio.sleep(0)  # all four are queued for the next batch
    asked[2].cancel()
    done = await asyncio.gather(*asked, return_exceptions=True)
    assert "30 July" in done[0].text and "Brasilia" in done[3].text  # type: ignore[union-attr]
    assert isinstance(done[1], RuntimeError) and isinstance(done[2], asyncio.CancelledError)
    assert events == ["answer when is World Day?", "answer which paragraph mentions Brasilia?"]


def test_rendered_answers_are_encoded_once_per_answer_and_variant(core: Core) -> None:
    from bot.channels.webcommon import RenderedAnswers

    cache = RenderedAnswers(size=2)
    calls: list[str] = []

    def render(answer: Any, variant: str) -> dict[str, Any]:
        calls.append(answer.question)
        return {"text": answer.text, "variant": variant}

    answer = core.answer("when is World Day?")
    first = cache.response(answer, "ephemeral", render)
    assert cache.response(answer, "ephemeral", render) is first and len(calls) == 1
    second = cache.response(answer, "in_channel", render)
    assert second is not first and len(calls) == 2 and b"in_channel" in bytes(second.body)
    assert b"30 July" in bytes(first.body) and first.media_type == "application/json"


@pytest.mark.parametrize(("body", "form"), [
    ("a=1&b=2", {"a": "1", "b": "2"}),
    ("text=when+is+%3Cb%3E&x=&&y", {"text": "when is <b>", "x": "", "y": ""}),
    ("k=v=w&k=2", {"k": "v=w"}),
    ("text=%E2%9C%93", {"text": "✓"}),
])
def test_parse_form_matches_urlencoded_rules(body: str, form: dict[str, str]) -> None:
    from bot.channels.webcommon import parse_form

    assert parse_form(body) == form


_FORM_ALPHABET = st.sampled_from([*"ab=&+%%2C3E9Fé ✓", "%C3", "%A9", "%2", "%ZZ"])


@given(st.lists(_FORM_ALPHABET, max_size=40).map("".join))
def test_parse_form_agrees_with_urllib(body: str) -> None:
    from urllib.parse import parse_qsl

    from bot.channels.webcommon import ClientError, parse_form

    try:
        expected: dict[str, str] | None = {}
        for key, value in parse_qsl(body, keep_blank_values=True, errors="strict"):
            expected.setdefault(key, value)  # type: ignore[union-attr]
    except UnicodeDecodeError:
        expected = None
    if expected is None:
        with pytest.raises(ClientError):
            parse_form(body)
    else:
        assert parse_form(body) == expected
        assert parse_form(body, {"a", "b="}) == {k: v for k, v in expected.items() if k in {"a", "b="}}


@pytest.mark.parametrize("body", ["a=%ff", "&".join(["x=1"] * 200)])
def test_parse_form_refuses_bad_bodies(body: str) -> None:
    from bot.channels.webcommon import ClientError, parse_form

    with pytest.raises(ClientError):
        parse_form(body)


def _receiver(messages: list[dict[str, Any]]) -> Callable[[], Any]:
    """An ASGI receive callable that hands out ``messages`` in order and counts the calls."""
    queue = list(messages)

    async def receive() -> dict[str, Any]:
        receive.calls += 1  # type: ignore[attr-defined]
        return queue.pop(0)

    receive.calls = 0  # type: ignore[attr-defined]
    return receive


async def test_receive_body_joins_chunks_and_enforces_the_limit() -> None:
    from bot.channels.webcommon import ClientError, receive_body

    parts = [{"type": "http.request", "body": b"ab", "more_body": True},
             {"type": "http.request", "body": b"cd", "more_body": False}]
    assert await receive_body(_receiver(parts), 4, None) == b"abcd"
    with pytest.raises(ClientError) as over:
        await receive_body(_receiver(parts), 3, None)
    assert over.value.status == 413
    never_read = _receiver(parts)
    with pytest.raises(ClientError) as declared:
        await receive_body(never_read, 3, b"4")
    assert declared.value.status == 413 and never_read.calls == 0  # type: ignore[attr-defined]
    with pytest.raises(ClientError) as malformed:
        await receive_body(_receiver(parts), 4, b"4x")
    assert malformed.value.status == 400


async def test_receive_body_disconnect_is_a_client_error() -> None:
    from bot.channels.webcommon import ClientError, receive_body

    gone = [{"type": "http.request", "body": b"ab", "more_body": True}, {"type": "http.disconnect"}]
    with pytest.raises(ClientError) as error:
        await receive_body(_receiver(gone), 100, None)
    assert error.value.status == 400


def test_header_values_takes_the_first_of_each_wanted_header() -> None:
    from bot.channels.webcommon import header_values

    scope = {"headers": [(b"x-a", b"1"), (b"x-b", b"2"), (b"x-a", b"3"), (b"x-c", b"4")]}
    assert header_values(scope, {b"x-a", b"x-c", b"x-d"}) == {b"x-a": b"1", b"x-c": b"4"}


async def test_a_memoised_answer_keeps_one_context_object_for_every_conversation(core: Core) -> None:
    store = MemoryContexts()
    answerer = Answerer(core, Metrics(), store, CountingExecutor())
    first = await answerer.ask("test", "chat-a", "who coordinates ICAT?")
    second = await answerer.ask("test", "chat-b", "who coordinates ICAT?")
    assert first is second
    kept = store.get_now("chat-a")
    assert kept is not None and kept is store.get_now("chat-b") and kept == Context.after(first)


async def test_a_batch_stopped_by_the_process_leaves_no_request_waiting(core: Core) -> None:
    class Stopping(CountingCore):
        def answer(self, text: str, context: Context | None = None) -> Answer:
            if text == "stop":
                raise KeyboardInterrupt
            return super().answer(text, context)

    answerer = Answerer(Stopping(core), Metrics(), MemoryContexts(), CountingExecutor())
    loop = asyncio.get_running_loop()
    replies = [loop.create_future() for _ in range(3)]
    answerer._batch = [(lambda text=text: answerer._timed(text, None), reply)
                       for text, reply in zip(("when is World Day?", "stop", "who sponsors it?"), replies, strict=True)]
    with pytest.raises(KeyboardInterrupt):
        answerer._run_batch()
    assert "30 July" in replies[0].result()[0].text
    for reply in replies[1:]:
        with pytest.raises(RuntimeError, match="answering stopped"):
            reply.result()
