"""Helpers for the web app tests: a scripted core, config builder, Slack signing, a live server."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import socket
import threading
import time
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import uvicorn
from prometheus_client.parser import text_string_to_metric_families
from starlette.types import ASGIApp

from bot.channels.web import create_app
from bot.config import Config, load_config
from bot.context import Context
from bot.model import Answer, Citation
from tests.fakes.slack_api import BOT_USER_ID, FakeSlackAPI

SIGNING_SECRET = "test-signing-secret"
MATTERMOST_TOKEN = "mm-token-123"
ROCKETCHAT_TOKEN = "rc-token-456"
TELEGRAM_SECRET = "tg-secret-789"
HELP = "Ask me about the draft resolution on trafficking in persons."
EXAMPLES = ["What does operative paragraph 5 ask?", "When was it adopted?"]


def plain_answer(question: str, text: str, *, found: bool = True,
                 quote: str = "Urges Member States to take measures.") -> Answer:
    """A found answer with one citation, as the core would build it."""
    cite = Citation("OP5", "operative paragraph 5", quote, quote, 3.0)
    return Answer(question=question, found=found, kind="fact", text=text,
                  citations=(cite,) if found else (), confidence=0.9 if found else 0.0)


class ScriptedCore:
    """A stand-in answer core: echoes questions, or returns scripted answers; optional delay."""

    def __init__(self) -> None:
        self.replies: dict[str, Answer] = {}
        self.delay = 0.0
        self.questions: list[str] = []
        self.contexts: list[Context | None] = []
        self._lock = threading.Lock()

    def answer(self, text: str, context: Context | None = None) -> Answer:
        """Echo-style answer, the scripted one for a known question, or an input error."""
        with self._lock:
            self.questions.append(text)
            self.contexts.append(context)
        if self.delay:
            time.sleep(self.delay)
        if text in self.replies:
            return self.replies[text]
        cleaned = text.strip()
        if not cleaned:
            return Answer(text, False, "error", "Please ask a question.", error="empty")
        if len(cleaned) > 1000:
            return Answer(text, False, "error", "That question is too long.", error="too_long")
        return plain_answer(text, f"You asked: {cleaned}")

    def ready_answer(self, text: str, context: Context | None = None) -> Answer | None:
        """Never memoised: every question goes through answer() (and its delay)."""
        return None

    def is_quick(self, text: str) -> bool:
        """Quick unless a delay was set: a slow answer must run on the core's thread."""
        return not self.delay

    def may_follow_up(self, text: str) -> bool:
        """Always: every question is handed its conversation's context (the tests look at it)."""
        return True

    def help_text(self) -> str:
        """Help text."""
        return HELP

    def examples(self) -> list[str]:
        """Example questions."""
        return list(EXAMPLES)


def scraped(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Every sample of a /metrics body, parsed by prometheus_client's own text parser."""
    return {(sample.name, frozenset(sample.labels.items())): sample.value
            for family in text_string_to_metric_families(text) for sample in family.samples}


def sample(text: str, name: str, **labels: str) -> float | None:
    """One sample's value in a /metrics body (None when the series is absent)."""
    return scraped(text).get((name, frozenset(labels.items())))


def make_config(env: Mapping[str, str] | None = None, telegram: Mapping[str, Any] | None = None,
                unanswered: Mapping[str, Any] | None = None, **web: Any) -> Config:
    """The project config with ``web:`` (and ``telegram:``, ``unanswered:``) overrides and only the given env."""
    base = load_config(environ={})
    data = dict(base.data)
    data["web"] = {**dict(base.section("web")), **web}
    data["telegram"] = {**dict(base.section("telegram")), **(telegram or {})}
    data["unanswered"] = {**dict(base.section("unanswered")), **(unanswered or {})}
    return Config(data=data, root=base.root, environ=dict(env or {}))


def full_env(**extra: str) -> dict[str, str]:
    """Every web secret set (Telegram is added only where a test asks for it)."""
    env = {"SLACK_SIGNING_SECRET": SIGNING_SECRET, "SLACK_BOT_TOKEN": "xoxb-test-token",
           "MATTERMOST_TOKEN": MATTERMOST_TOKEN, "ROCKETCHAT_TOKEN": ROCKETCHAT_TOKEN}
    env.update(extra)
    return env


def slack_headers(body: bytes, *, secret: str = SIGNING_SECRET, timestamp: int | str | None = None,
                  content_type: str = "application/x-www-form-urlencoded") -> dict[str, str]:
    """Headers signing ``body`` the way Slack does (our own HMAC, not slack_sdk's)."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    base = b"v0:" + ts.encode() + b":" + body
    signature = "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": signature,
            "Content-Type": content_type}


def json_body(data: Any) -> bytes:
    """Compact JSON bytes."""
    return json.dumps(data).encode()


def mention_event(question: str, event_id: str, **fields: object) -> dict[str, object]:
    """A Slack event_callback envelope around an app_mention of the bot (``fields`` override the event)."""
    inner: dict[str, object] = {"type": "app_mention", "user": "U1", "channel": "C1", "ts": "1.1",
                                "text": f"<@{BOT_USER_ID}> {question}"}
    inner.update(fields)
    return {"type": "event_callback", "team_id": "T1", "event_id": event_id, "event": inner,
            "authorizations": [{"user_id": BOT_USER_ID, "is_bot": True}]}


def free_socket() -> socket.socket:
    """A socket bound to a free port of 127.0.0.1."""
    # proto=IPPROTO_TCP matters: asyncio sets TCP_NODELAY on accepted connections only when
    # the listening socket says TCP, else keep-alive requests stall ~40 ms (delayed ACK)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


class LiveServer:
    """Runs an ASGI app under uvicorn (httptools by default) on 127.0.0.1 in the test's loop."""

    def __init__(self, app: ASGIApp, http: str = "httptools") -> None:
        self.app = app
        self.http = http
        self.port = 0
        self._server: uvicorn.Server | None = None
        self._task: asyncio.Task[None] | None = None

    @property
    def url(self) -> str:
        """Base URL of the running server."""
        return f"http://127.0.0.1:{self.port}"

    async def __aenter__(self) -> LiveServer:
        sock = free_socket()
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(self.app, log_level="warning", lifespan="on", ws="none",
                                http=self.http, timeout_graceful_shutdown=2, backlog=1024)
        self._server = uvicorn.Server(config)
        self._task = asyncio.create_task(self._server.serve(sockets=[sock]))
        async with asyncio.timeout(10):
            while not self._server.started:
                if self._task.done():
                    self._task.result()
                    raise RuntimeError("server stopped during startup")
                await asyncio.sleep(0.01)
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None and self._task is not None
        self._server.should_exit = True
        async with asyncio.timeout(10):
            await self._task

    @property
    def alive(self) -> bool:
        """True while the server task is still running."""
        return self._task is not None and not self._task.done()


@dataclass(frozen=True)
class RawReply:
    """Status, lower-cased headers and body of one raw HTTP/1.1 exchange."""

    status: int
    headers: dict[str, str]
    body: bytes


async def raw_request(port: int, method: str, path: str, body: bytes = b"",
                      headers: Mapping[str, str] | None = None) -> RawReply:
    """One request on its own connection (``Connection: close``), read to the end.

    httpx's pool slows to ~15 ms a request with hundreds of concurrent connections, so the
    concurrency tests use this instead to measure the server rather than the client.
    """
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", "Connection: close",
                 f"Content-Length: {len(body)}"]
        lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
        writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)
        await writer.drain()
        async with asyncio.timeout(30):
            data = await reader.read()
    finally:
        writer.close()
        await writer.wait_closed()
    head, _, rest = data.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    fields = dict(line.split(":", 1) for line in header_lines if ":" in line)
    return RawReply(int(status_line.split()[1]),
                    {k.strip().lower(): v.strip() for k, v in fields.items()}, rest)


@dataclass
class Stack:
    """A running app with its scripted core, fake Slack API and an HTTP client."""

    server: LiveServer
    client: httpx.AsyncClient
    core: ScriptedCore
    slack: FakeSlackAPI

    async def post(self, path: str, **kwargs: Any) -> httpx.Response:
        """POST to the app."""
        return await self.client.post(self.server.url + path, **kwargs)

    async def get(self, path: str, **kwargs: Any) -> httpx.Response:
        """GET from the app."""
        return await self.client.get(self.server.url + path, **kwargs)


def cleared(stack: Stack) -> Stack:
    """A shared stack with the records one test looks at (questions, replies, calls) reset."""
    stack.core.questions.clear()
    stack.core.contexts.clear()
    stack.core.replies.clear()
    stack.core.delay = 0.0
    stack.slack.calls.clear()
    return stack


@asynccontextmanager
async def running(core: Any = None, env: Mapping[str, str] | None = None,
                  clock: Callable[[], float] = time.time, telegram_app: Any = None,
                  http: str = "httptools", telegram: Mapping[str, Any] | None = None,
                  state: Any = None, document: Any = None, unanswered: Mapping[str, Any] | None = None,
                  **web: Any) -> AsyncIterator[Stack]:
    """Start the fake Slack API and the app (every secret set unless ``env`` says otherwise).

    ``document`` (a DocumentView) turns the page on; the API is on whenever config says so.
    ``unanswered`` overrides the unanswered-question log's settings.
    """
    core = core or ScriptedCore()
    slack = FakeSlackAPI()
    await slack.start()
    try:
        config = make_config(full_env() if env is None else env, telegram=telegram, unanswered=unanswered,
                             slack_api_url=slack.base_url, **web)
        app = create_app(config, core, clock=clock, telegram_app=telegram_app, state=state,
                         document=document)
        server = await LiveServer(app, http=http).__aenter__()
        try:
            async with httpx.AsyncClient(timeout=10) as client:
                yield Stack(server, client, core, slack)
        finally:  # stop both servers at once: each takes a uvicorn tick (0.1 s) or more
            await asyncio.gather(server.__aexit__(None, None, None), slack.stop())
    finally:
        await slack.stop()
