from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Executor, Future
from typing import Any

from bot.channels.metrics import Metrics
from bot.channels.webcommon import Answerer
from bot.context import InMemoryContextStore
from bot.core import Core


class CountingExecutor(Executor):
    """Runs work synchronously and counts how often the core had to be handed to it."""

    def __init__(self) -> None:
        self.submitted = 0

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        self.submitted += 1
        future: Future[Any] = Future()
        future.set_result(fn(*args, **kwargs))
        return future


async def test_memoised_answers_skip_the_worker_thread(core: Core) -> None:
    executor = CountingExecutor()
    answerer = Answerer(core, Metrics(), InMemoryContextStore(), executor)
    question = "where was the consultative meeting on national rapporteurs held?"
    first = await answerer.ask("test", None, question)
    assert executor.submitted == 1 and "Bangkok" in first.text
    again = await answerer.ask("test", None, question)
    assert again is first and executor.submitted == 1


async def test_follow_ups_always_go_to_the_core(core: Core) -> None:
    executor = CountingExecutor()
    answerer = Answerer(core, Metrics(), InMemoryContextStore(), executor)
    await answerer.ask("test", "chat-1", "when is World Day?")
    before = executor.submitted
    full = await answerer.ask("test", "chat-1", "show the full paragraph")
    assert executor.submitted == before + 1 and full.citations[0].quote == core.document.by_id["OP5"].text
