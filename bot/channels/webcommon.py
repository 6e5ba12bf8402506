"""Pieces every web route shares: bounded body reading, parsing, errors, answering."""

from __future__ import annotations

import asyncio
import json
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Collection, Sequence
from concurrent.futures import Executor
from typing import Any, Protocol, TypeVar
from urllib.parse import unquote_to_bytes

import orjson
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import Receive, Scope, Send

from bot.channels.metrics import Metrics
from bot.context import Context
from bot.model import Answer
from bot.state import ContextStore
from bot.unanswered import QuestionLog

MAX_FORM_FIELDS = 100
T = TypeVar("T")
KEPT_CONTEXTS = 256  # conversation contexts remembered per answer object (memoised answers repeat)


class AnswerCore(Protocol):
    """The answer core as the web channels use it (bot.core.Core satisfies it)."""

    def answer(self, text: str, context: Context | None = None) -> Answer:
        """Answer one question, optionally as a follow-up."""

    def ready_answer(self, text: str, context: Context | None = None) -> Answer | None:
        """The answer if the core has it memoised already, without doing any work."""

    def is_quick(self, text: str) -> bool:
        """True when answering ``text`` is quick enough to do on the event loop."""

    def may_follow_up(self, text: str) -> bool:
        """False when no conversation can change the answer to ``text``."""

    def help_text(self) -> str:
        """What the bot does and how to ask."""

    def examples(self) -> list[str]:
        """A few example questions."""


class ClientError(Exception):
    """A request the client got wrong; becomes a short JSON error with ``status``."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}


def json_error(status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    """A short JSON error body such as ``{"error": "bad signature"}``."""
    return JSONResponse({"error": message}, status_code=status, headers=headers)


def declared_length(raw: str | bytes | None) -> int | None:
    """A Content-Length header value as an int, None when absent; ClientError when malformed."""
    if raw is None:
        return None
    if not raw.isascii() or not raw.strip().isdigit():
        raise ClientError(400, "bad content-length")
    return int(raw)


async def read_body(request: Request, limit: int) -> bytes:
    """The raw body, refusing (413) anything over ``limit`` bytes before reading it all."""
    return await receive_body(request.receive, limit, request.headers.get("content-length"))


async def receive_body(receive: Receive, limit: int, content_length: str | bytes | None) -> bytes:
    """The body straight from ASGI ``receive``: 413 over ``limit`` (declared or read), 400 on disconnect."""
    declared = declared_length(content_length)
    if declared is not None and declared > limit:
        raise ClientError(413, "body too large")
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientError(400, "client disconnected before sending the whole body")
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise ClientError(413, "body too large")
        chunks.append(chunk)
        if not message.get("more_body", False):
            return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def header_values(scope: Scope, names: Collection[bytes]) -> dict[bytes, bytes]:
    """The first value of each wanted header (lower-case ``names``), in one pass over the raw headers."""
    found: dict[bytes, bytes] = {}
    for name, value in scope["headers"]:
        if name in names and name not in found:
            found[name] = value
    return found


class AsgiEndpoint:
    """Hands a coroutine ``(scope, receive, send)`` to Starlette's Route as a plain ASGI app.

    Route wraps functions and methods in a Request/Response adapter; an object like this one is
    called as it is, which keeps a hot route free of that per-request layer.
    """

    def __init__(self, handler: Callable[[Scope, Receive, Send], Awaitable[None]]) -> None:
        self._handler = handler

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Run the handler."""
        await self._handler(scope, receive, send)


def decode_utf8(body: bytes) -> str:
    """The body as text; ClientError(400) when it is not UTF-8."""
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        raise ClientError(400, "body is not UTF-8") from None


def parse_form(text: str, fields: Collection[str] | None = None) -> dict[str, str]:
    """An application/x-www-form-urlencoded body or query; the first value of a field wins.

    With ``fields``, only those fields are kept, and only their values are decoded.
    """
    pairs = text.split("&")
    if len(pairs) > MAX_FORM_FIELDS:
        raise ClientError(400, "malformed form body")
    form: dict[str, str] = {}
    try:
        for pair in pairs:
            key, _, value = pair.partition("=")
            if "%" in key or "+" in key:
                key = _unquote_field(key)
            if pair and key not in form and (fields is None or key in fields):
                form[key] = _unquote_field(value) if "%" in value or "+" in value else value
    except UnicodeError:
        raise ClientError(400, "malformed form body") from None
    return form


def _unquote_field(text: str) -> str:
    """One form-encoded key or value ("+" is a space, %XX a UTF-8 byte); UnicodeError if not UTF-8."""
    text = text.replace("+", " ")
    if "%" not in text:
        return text
    # Same result as urllib's unquote_plus with errors="strict", at about half the cost.
    return unquote_to_bytes(text).decode("utf-8")


def parse_json_object(body: bytes) -> dict[str, Any]:
    """A JSON object body; ClientError(400) for invalid UTF-8, invalid JSON or a non-object."""
    text = decode_utf8(body)
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        raise ClientError(400, "malformed JSON") from None
    if not isinstance(data, dict):
        raise ClientError(400, "expected a JSON object")
    return data


def media_type(request: Request) -> str:
    """The request's content type without parameters, lower-cased."""
    return request.headers.get("content-type", "").split(";", 1)[0].strip().lower()


def form_or_json(request: Request, body: bytes) -> dict[str, Any]:
    """A body that may be JSON or form-encoded, judged by its content type."""
    if media_type(request) == "application/json":
        return parse_json_object(body)
    return parse_form(decode_utf8(body))


def text_field(data: dict[str, Any], key: str) -> str:
    """A string field of a parsed payload; other types count as empty."""
    value = data.get(key)
    return value if isinstance(value, str) else ""


def strip_trigger(text: str, trigger: str) -> str:
    """The text after an outgoing webhook's trigger word, if it starts with it."""
    trigger = trigger.strip()
    if trigger and text.lstrip().lower().startswith(trigger.lower()):
        return text.lstrip()[len(trigger):]
    return text


class Answerer:
    """Runs the core, keeps context, records metrics.

    Quick questions are answered on the event loop, in batches: the questions whose requests
    reached the core in one turn of the loop are answered back to back in the next, each with the
    follow-up test it needs first. Under load that keeps the core's code and data in the processor's
    caches from one answer to the next instead of interleaving each with a request's HTTP work
    (measured on the distinct-question benchmark: 20-30 µs less CPU per answer, and a lower p99).
    Long questions go to one dedicated thread.
    """

    def __init__(self, core: AnswerCore, metrics: Metrics, store: ContextStore,
                 executor: Executor, log: QuestionLog | None = None) -> None:
        self.core = core
        self.log = log
        self._metrics = metrics
        self._store = store
        self._executor = executor
        # Memoised answers are the same object each time: their kept context is built once.
        self._kept: OrderedDict[int, tuple[Answer, Context]] = OrderedDict()
        self._batch: list[tuple[Callable[[], Any], asyncio.Future[Any]]] = []

    async def context(self, key: str | None, text: str) -> Context | None:
        """The conversation's context for a follow-up (None without a key or a live context).

        Not read at all when the core says ``text`` is no follow-up: most questions are not, and
        with shared state each read is a round trip to Redis.
        """
        return await self._store.get(key) if key and self.core.may_follow_up(text) else None

    async def ready(self, platform: str, key: str | None, text: str,
                    context: Context | None, user: str = "") -> Answer | None:
        """The answer when the core has it memoised (a dict lookup, cheaper inline than a thread hop)."""
        start = time.perf_counter()
        answer = self.core.ready_answer(text, context)
        if answer is not None:
            await self._record(platform, key, answer, time.perf_counter() - start, context, user)
        return answer

    async def compute(self, platform: str, key: str | None, text: str,
                      context: Context | None, user: str = "") -> Answer:
        """Answer ``text`` (on the core's thread unless it is quick), then record it as the conversation's context."""
        answer, seconds = await self._run(text, context)
        await self._record(platform, key, answer, seconds, context, user)
        return answer

    async def ask(self, platform: str, key: str | None, text: str, user: str = "") -> Answer:
        """Answer ``text`` for ``platform``, as a follow-up within conversation ``key``, asked by ``user``."""
        if self.core.is_quick(text):
            return await self._ask_quick(platform, key, text, user)
        context = await self.context(key, text)
        ready = await self.ready(platform, key, text, context, user)
        if ready is not None:
            return ready
        return await self.compute(platform, key, text, context, user)

    async def _ask_quick(self, platform: str, key: str | None, text: str, user: str) -> Answer:
        """``ask`` for a quick question: memoised at once, else in a batch (twice if it needs its context)."""
        start = time.perf_counter()
        ready = self.core.ready_answer(text)
        if ready is not None and not (key and self.core.may_follow_up(text)):  # a memo hit: a dict lookup
            await self._record(platform, key, ready, time.perf_counter() - start, None, user)
            return ready
        context = None
        timed = await self._in_batch(lambda: None if key and self.core.may_follow_up(text)
                                     else self._timed(text, None))
        if timed is None:  # it may lean on the conversation: read its context, then answer
            context = await self._store.get(key) if key else None
            timed = await self._in_batch(lambda: self._timed(text, context))
        answer, seconds = timed
        await self._record(platform, key, answer, seconds, context, user)
        return answer

    async def lookup(self, text: str) -> Answer:
        """The context-free answer to ``text``, counted nowhere (for feedback on an answer already given)."""
        ready = self.core.ready_answer(text)
        if ready is not None:
            return ready
        answer, _ = await self._run(text, None)
        return answer

    def is_quick(self, text: str) -> bool:
        """True when the core answers ``text`` on the event loop (no thread hand-off)."""
        return self.core.is_quick(text)

    async def _run(self, text: str, context: Context | None) -> tuple[Answer, float]:
        """The core's answer and its time: in this turn's batch when quick, else on the core's thread."""
        if self.core.is_quick(text):
            return await self._in_batch(lambda: self._timed(text, context))
        return await asyncio.get_running_loop().run_in_executor(self._executor, self._timed, text, context)

    async def _in_batch(self, work: Callable[[], T]) -> T:
        """``work()``, run on the event loop in the next turn, back to back with the others queued by then."""
        loop = asyncio.get_running_loop()
        reply: asyncio.Future[T] = loop.create_future()
        self._batch.append((work, reply))
        if len(self._batch) == 1:
            loop.call_soon(self._run_batch)
        return await reply

    def _run_batch(self) -> None:
        """Run every queued piece of work in order, settling each one's future (a cancelled request is skipped)."""
        batch, self._batch = self._batch, []
        for index, (work, reply) in enumerate(batch):
            if reply.done():
                continue
            try:
                reply.set_result(work())
            except Exception as exc:  # the core never raises; if it did, only its own request fails
                reply.set_exception(exc)
            except BaseException:  # the process is stopping: no request may wait for ever
                for _, waiting in batch[index:]:
                    if not waiting.done():
                        waiting.set_exception(RuntimeError("answering stopped"))
                raise

    async def _record(self, platform: str, key: str | None, answer: Answer, seconds: float,
                      previous: Context | None, user: str = "") -> None:
        """Metrics, the unanswered-question log, and the answer as context for the next follow-up."""
        self._metrics.answer(platform, seconds, answer.found, answer.usable, answer.kind)
        if self.log is not None and not answer.found:
            self.log.answered(platform, answer, user)
        if key and answer.found:
            kept = self._kept_context(answer)
            if previous is not None and previous == kept:
                return  # the same answer again: the read that fetched the context already renewed its expiry
            await self._store.put(key, kept)

    def _kept_context(self, answer: Answer) -> Context:
        """``Context.after(answer)``, built once per answer object (the last KEPT_CONTEXTS answers)."""
        hit = self._kept.get(id(answer))
        if hit is not None and hit[0] is answer:  # the answer is held, so its id cannot be reused
            return hit[1]
        kept = Context.after(answer)
        self._kept[id(answer)] = (answer, kept)
        while len(self._kept) > KEPT_CONTEXTS:
            self._kept.popitem(last=False)
        return kept

    def _timed(self, text: str, context: Context | None) -> tuple[Answer, float]:
        """Call the core and time it."""
        start = time.perf_counter()
        answer = self.core.answer(text, context=context)
        return answer, time.perf_counter() - start

    def help_text(self) -> str:
        """The core's help text."""
        return self.core.help_text()

    def examples(self) -> Sequence[str]:
        """The core's example questions."""
        return self.core.examples()


class RenderedAnswers:
    """JSON responses already rendered for an answer, keyed by the answer object itself (bounded).

    Memoised answers are the same object each time, so a repeated question skips rendering,
    encoding and building the response. A Starlette Response sends its status, headers and body
    without changing itself, so one object can serve every repeat. Each entry keeps its answer
    alive, so an ``id`` can never be reused while cached.
    """

    def __init__(self, size: int = 1024) -> None:
        self._items: OrderedDict[tuple[int, str], tuple[Answer, Response]] = OrderedDict()
        self._size = size

    def response(self, answer: Answer, variant: str, render: Callable[[Answer, str], dict[str, Any]]) -> Response:
        """The JSON response for ``answer`` in ``variant`` (e.g. a response type), rendered once."""
        key = (id(answer), variant)
        hit = self._items.get(key)
        if hit is not None and hit[0] is answer:
            self._items.move_to_end(key)
            return hit[1]
        body = orjson.dumps(render(answer, variant))  # compact UTF-8, as json.dumps(ensure_ascii=False) writes it
        response = Response(body, media_type="application/json")
        self._items[key] = (answer, response)
        while len(self._items) > self._size:
            self._items.popitem(last=False)
        return response


class TaskSet:
    """Background tasks kept referenced until done, awaited (bounded) at shutdown."""

    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[None]] = set()

    def spawn(self, coro: Any) -> None:
        """Run ``coro`` in the background."""
        task: asyncio.Task[None] = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def drain(self, timeout: float) -> None:
        """Wait up to ``timeout`` seconds for running tasks, then cancel the rest."""
        if not self._tasks:
            return
        _, pending = await asyncio.wait(set(self._tasks), timeout=timeout)
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.wait(pending, timeout=1.0)

    def __len__(self) -> int:
        return len(self._tasks)
