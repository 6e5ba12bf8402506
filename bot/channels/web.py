"""The ASGI app: the web page and its API, Slack, Mattermost, Rocket.Chat and Telegram webhooks,
/healthz and /metrics."""

from __future__ import annotations

import argparse
import gc
import logging
import os
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, cast
from urllib.parse import urlsplit

import uvicorn
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bot.channels.chatops import (
    MattermostRoutes,
    RocketChatRoutes,
    mattermost_settings,
    rocketchat_settings,
)
from bot.channels.feedback import FeedbackRoute
from bot.channels.metrics import Metrics
from bot.channels.ratelimit import RateLimiter
from bot.channels.security import SlackVerifier
from bot.channels.slack import SlackRoutes, SlackSettings, retry_handlers
from bot.channels.telegram_webhook import TelegramWebhook
from bot.channels.webapi import WebApi
from bot.channels.webassets import COMMON_HEADERS
from bot.channels.webcommon import (
    AnswerCore,
    Answerer,
    ClientError,
    TaskSet,
    json_error,
)
from bot.channels.webpage import WebPage
from bot.config import Config, ConfigError
from bot.render.document import DocumentView, build_view
from bot.state import State, open_state
from bot.state.memory import MemoryState
from bot.unanswered import QuestionLog, question_log

log = logging.getLogger("resbot.web")

DEFAULT_MAX_BODY = 65_536
DEFAULT_MAX_HEADER = 16_384
SHUTDOWN_SECONDS = 5.0
EXAMPLES_SHOWN = 4  # example questions offered under the page's question box


class Guard:
    """Outermost ASGI layer: header and body size limits, a concurrency cap, request metrics."""

    def __init__(self, app: ASGIApp, *, metrics: Metrics, paths: frozenset[str],
                 max_body: int, max_header: int, max_concurrency: int) -> None:
        self._app = app
        self._metrics = metrics
        self._paths = paths
        self._max_body = max_body
        self._max_header = max_header
        self._max_concurrency = max_concurrency
        self._in_flight = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Reject oversized or excess requests cheaply, count every response by route and status."""
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        status = 500

        async def counting_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            early = self._early_response(scope)
            if early is not None:
                await early(scope, receive, counting_send)
                return
            self._in_flight += 1
            try:
                await self._app(scope, receive, counting_send)
            finally:
                self._in_flight -= 1
        finally:
            path = scope.get("path", "")
            self._metrics.request(path if path in self._paths else "other", status)

    def _early_response(self, scope: Scope) -> Response | None:
        """A 431, 413, 400 or 503 decided from the headers alone, or None to go on."""
        size = 0
        lengths: list[bytes] = []
        for name, value in scope.get("headers", ()):
            size += len(name) + len(value)
            if name == b"content-length":
                lengths.append(value)
        if size > self._max_header:
            return json_error(431, "request headers too large")
        for length in lengths:
            if not length.strip().isdigit():
                return json_error(400, "bad content-length")
            if int(length) > self._max_body:
                return json_error(413, "body too large")
        if self._max_concurrency and self._in_flight >= self._max_concurrency:
            return json_error(503, "busy, retry shortly", {"Retry-After": "1"})
        return None


@dataclass
class _Parts:
    """Everything create_app wires together, kept for the lifespan."""

    routes: list[BaseRoute] = field(default_factory=list)
    slack: SlackRoutes | None = None
    telegram: TelegramWebhook | None = None


def _web(config: Config, key: str, default: Any) -> Any:
    """One ``web:`` setting."""
    return config.get("web", key, default)


def health_endpoint(state: State) -> Callable[[Request], Awaitable[Response]]:
    """GET /healthz: 200 while the process serves, with the store in use and whether it answers.

    A lost Redis gives ``"status": "degraded"`` but still 200: every replica shares that Redis, and a
    load balancer that took them all out would turn a degraded service into none.
    """

    async def healthz(request: Request) -> Response:
        health = await state.check()
        body: dict[str, Any] = {"status": "ok" if health.ok else "degraded", "store": health.store}
        if not health.ok:
            body["store_error"] = health.detail
        return JSONResponse(body)

    return healthz


async def _client_error(request: Request, exc: Exception) -> Response:
    """A ClientError as short JSON."""
    assert isinstance(exc, ClientError)
    return json_error(exc.status, exc.message, exc.headers)


async def _http_error(request: Request, exc: Exception) -> Response:
    """Starlette's 404/405 as short JSON (keeping the Allow header)."""
    assert isinstance(exc, HTTPException)
    return json_error(exc.status_code, str(exc.detail).lower(), {**COMMON_HEADERS, **(exc.headers or {})})


def _dedupe_seconds(config: Config) -> float:
    """How long delivered event and update ids are remembered."""
    return float(_web(config, "event_dedupe_seconds", 900))


def _add_slack(parts: _Parts, config: Config, answerer: Answerer, tasks: TaskSet,
               clock: Callable[[], float], slack_client: Any | None, state: State) -> None:
    """Mount /slack/commands and /slack/events when their secrets are set."""
    secret = config.secret("SLACK_SIGNING_SECRET")
    if secret is None:
        log.warning("Slack routes disabled: SLACK_SIGNING_SECRET is not set")
        return
    client = slack_client
    if client is None and (token := config.secret("SLACK_BOT_TOKEN")):
        from slack_sdk import WebClient

        client = WebClient(token=token, timeout=int(_web(config, "slack_timeout_seconds", 10)),
                           base_url=str(_web(config, "slack_api_url", "https://slack.com/api/")),
                           retry_handlers=retry_handlers())
    settings = SlackSettings(
        max_body=int(_web(config, "max_body_bytes", DEFAULT_MAX_BODY)),
        public_default=bool(_web(config, "slack_public", False)),
        sync_seconds=float(_web(config, "slack_sync_seconds", 2.0)),
        timeout=float(_web(config, "slack_timeout_seconds", 10)),
    )
    seen = state.dedupe("slack-events", _dedupe_seconds(config))
    slack = SlackRoutes(settings, SlackVerifier(secret, clock), answerer, tasks, seen, client)
    parts.slack = slack
    parts.routes.append(Route("/slack/commands", slack.commands, methods=["POST"]))
    if client is None:
        log.warning("Slack events route disabled: SLACK_BOT_TOKEN is not set")
        return
    parts.routes.append(Route("/slack/events", slack.events, methods=["POST"]))


def _add_chatops(parts: _Parts, config: Config, answerer: Answerer, state: State) -> None:
    """Mount /mattermost and /rocketchat when their tokens are set."""
    max_body = int(_web(config, "max_body_bytes", DEFAULT_MAX_BODY))
    seen = state.dedupe("chat-posts", _dedupe_seconds(config))
    if token := config.secret("MATTERMOST_TOKEN"):
        own = frozenset(_web(config, "mattermost_usernames", None) or ())
        mattermost = MattermostRoutes(mattermost_settings(token, max_body, own), answerer, seen)
        parts.routes.append(Route("/mattermost", mattermost.handle, methods=["GET", "POST"]))
    else:
        log.warning("Mattermost route disabled: MATTERMOST_TOKEN is not set")
    if token := config.secret("ROCKETCHAT_TOKEN"):
        own = frozenset(_web(config, "rocketchat_usernames", None) or ())
        rocket = RocketChatRoutes(rocketchat_settings(token, max_body, own), answerer, seen)
        parts.routes.append(Route("/rocketchat", rocket.handle, methods=["POST"]))
    else:
        log.warning("Rocket.Chat route disabled: ROCKETCHAT_TOKEN is not set")


def _add_feedback(parts: _Parts, config: Config, answerer: Answerer) -> None:
    """Mount POST /api/feedback (a web page's "not helpful" button; it records only when the log is on)."""
    route = FeedbackRoute(answerer, int(_web(config, "max_body_bytes", DEFAULT_MAX_BODY)),
                          int(config.get("answer", "max_question_chars", 1000)))
    parts.routes.append(Route("/api/feedback", route.handle, methods=["POST"]))


def _add_telegram(parts: _Parts, config: Config, core: AnswerCore, state: State,
                  telegram_app: Any | None, questions: QuestionLog | None = None) -> None:
    """Mount /telegram when the bot token and the webhook secret are set."""
    token = config.secret("TELEGRAM_BOT_TOKEN")
    secret = config.secret("TELEGRAM_WEBHOOK_SECRET")
    if telegram_app is None and token is None:
        log.warning("Telegram webhook disabled: TELEGRAM_BOT_TOKEN is not set")
        return
    if secret is None:
        log.warning("Telegram webhook disabled: TELEGRAM_WEBHOOK_SECRET is not set")
        return
    from bot.channels.telegram import ALLOWED_UPDATES, build_application

    if telegram_app is None:
        from bot.core import Core

        # The Telegram frontend is typed against the real Core; run() always passes one.
        telegram_app = build_application(config, cast(Core, core), token=str(token), updater=False,
                                         base_url=config.get("telegram", "base_url"), state=state,
                                         log=questions)
    webhook = TelegramWebhook(
        telegram_app, secret, int(_web(config, "max_body_bytes", DEFAULT_MAX_BODY)),
        state.dedupe("telegram-webhook", _dedupe_seconds(config)),
        webhook_url=_telegram_webhook_url(config.secret("WEBHOOK_URL")),
        allowed_updates=list(ALLOWED_UPDATES),  # what polling asks for, so both behave alike
    )
    parts.telegram = webhook
    parts.routes.append(Route("/telegram", webhook.handle, methods=["POST"]))


def _add_page(parts: _Parts, config: Config, answerer: Answerer, view: DocumentView | None,
              state: State) -> None:
    """Mount the page (/ and /static/*) and its API (/api/ask, /api/document) unless config turns them off."""
    api_on, page_on = bool(_web(config, "api", True)), bool(_web(config, "page", True))
    if api_on:
        parts.routes.extend(WebApi(answerer, view, _ask_limiter(config, state),
                                   limit_loopback=bool(_web(config, "ask_rate_limit_loopback", True)),
                                   max_body=int(_web(config, "api_max_body_bytes", 16_384))).routes())
    if not page_on:
        return
    if view is None:
        log.warning("Web page disabled: no document was given to the app")
        return
    max_chars = int(config.get("answer", "max_question_chars", 1000))
    page = WebPage(view, list(answerer.examples())[:EXAMPLES_SHOWN], max_chars, chat=api_on)
    parts.routes.extend(page.routes())


def _ask_limiter(config: Config, state: State) -> RateLimiter | None:
    """The /api/ask rate limit from ``web.ask_rate_limit`` per ``web.ask_rate_window_seconds``; None when 0."""
    limit = int(_web(config, "ask_rate_limit", 0) or 0)
    if limit <= 0:
        return None
    window = float(_web(config, "ask_rate_window_seconds", 60))
    try:
        return RateLimiter(state.counter("ratelimit"), limit, window)
    except ValueError as exc:
        raise ConfigError(f"web.ask_rate_window_seconds: {exc}") from None


def document_view(core: Any) -> DocumentView:
    """The page's view of the loaded core's document, symbols linked as the answers link them."""
    return build_view(core.document, core.structure.links)


def _telegram_webhook_url(value: str | None) -> str | None:
    """WEBHOOK_URL as the Telegram route's URL: a bare base URL gets ``/telegram`` appended."""
    if not value:
        return None
    if urlsplit(value).path in ("", "/"):
        return value.rstrip("/") + "/telegram"
    return value


def create_app(config: Config, core: AnswerCore, *, clock: Callable[[], float] = time.time,
               slack_client: Any | None = None, telegram_app: Any | None = None,
               state: State | None = None, document: DocumentView | None = None) -> Starlette:
    """Build the Starlette app: the page and its API (``document`` is what the page shows) and every
    platform whose secrets are set in the environment.

    ``state`` is where dedupe, contexts and rate-limit counters live (``open_state(config)``); default:
    this process's memory.
    """
    metrics = Metrics()
    state = state or MemoryState(clock)
    state.observe(metrics.store_error)
    executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="resbot-core")
    contexts = state.contexts("contexts", float(config.get("state", "context_ttl_seconds", 1800)))
    answerer = Answerer(core, metrics, contexts, executor, question_log(config))
    tasks = TaskSet()
    parts = _Parts(routes=[Route("/healthz", health_endpoint(state), methods=["GET"])])

    async def metrics_endpoint(request: Request) -> Response:
        """GET /metrics: Prometheus text, or OpenMetrics when the scraper asks for it."""
        body, content_type = metrics.exposition(request.headers.get("accept"))
        return Response(body, headers={"Content-Type": content_type})

    # Starlette tries routes in order, one regular expression each: the busiest come first.
    _add_slack(parts, config, answerer, tasks, clock, slack_client, state)
    _add_chatops(parts, config, answerer, state)
    _add_telegram(parts, config, core, state, telegram_app, answerer.log)
    parts.routes.append(Route("/metrics", metrics_endpoint, methods=["GET"]))
    _add_feedback(parts, config, answerer)
    _add_page(parts, config, answerer, document, state)  # after the webhooks: their routes match first

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if parts.telegram is not None:
            await parts.telegram.start()
        try:
            yield
        finally:
            await tasks.drain(SHUTDOWN_SECONDS)
            if parts.telegram is not None:
                await parts.telegram.stop()
            if parts.slack is not None:
                await parts.slack.aclose()
            await state.aclose()
            executor.shutdown(wait=False, cancel_futures=True)

    guard = Middleware(
        Guard, metrics=metrics,
        paths=frozenset(getattr(r, "path", "") for r in parts.routes),
        max_body=int(_web(config, "max_body_bytes", DEFAULT_MAX_BODY)),
        max_header=int(_web(config, "max_header_bytes", DEFAULT_MAX_HEADER)),
        max_concurrency=int(_web(config, "max_concurrency", 0) or 0),
    )
    return Starlette(routes=parts.routes, middleware=[guard], lifespan=lifespan,
                     exception_handlers={ClientError: _client_error, HTTPException: _http_error})


def _port(config: Config, args: argparse.Namespace) -> int:
    """The port: ``--port``, else PORT from the environment, else config."""
    raw = getattr(args, "port", None) or config.secret("PORT") or _web(config, "port", 8000)
    try:
        port = int(raw)
    except (TypeError, ValueError):
        raise ConfigError(f"port must be an integer, got {raw!r}") from None
    if not 0 < port < 65_536:
        raise ConfigError(f"port must be between 1 and 65535, got {port}")
    return port


def _access_log(config: Config) -> bool:
    """``web.access_log``: true or false; ConfigError for anything else."""
    value = _web(config, "access_log", False)
    if not isinstance(value, bool):
        raise ConfigError(f"web.access_log must be true or false, got {value!r}")
    return value


def _host(config: Config, args: argparse.Namespace) -> str:
    """The bind address: ``--host``, else HOST, else 0.0.0.0 when PORT is set, else config."""
    chosen = getattr(args, "host", None) or config.secret("HOST")
    if chosen:
        return str(chosen)
    if config.secret("PORT"):
        return "0.0.0.0"  # a Procfile platform routes to the container's interface
    return str(_web(config, "host", "127.0.0.1"))


def server_config(app: ASGIApp, host: str, port: int, access_log: bool = False) -> uvicorn.Config:
    """uvicorn settings: uvloop and httptools when installed, no Server header, quick shutdown.

    No access log unless asked for (``web.access_log``): a line per request cost 24 µs of CPU per
    ``/healthz`` and about 45 µs per computed answer here, and ``/metrics`` already counts every
    response by route and status; a platform's router logs the requests it forwards.
    """
    return uvicorn.Config(app, host=host, port=port, lifespan="on", server_header=False,
                          timeout_graceful_shutdown=int(SHUTDOWN_SECONDS), log_level="info",
                          access_log=access_log)


def run(config: Config, args: argparse.Namespace) -> int:
    """``resbot serve``: build the core and the app, serve until stopped; 0 on a clean exit."""
    from bot.core import get_core

    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    host, port, access_log = _host(config, args), _port(config, args), _access_log(config)
    # python-telegram-bot 22 warns on every 429 unless told to use timedelta values (webhook route).
    os.environ.setdefault("PTB_TIMEDELTA", "1")
    state = open_state(config)  # before the core loads: a wrong REDIS_URL fails in a second, not after it
    core = get_core(config)
    app = create_app(config, core, state=state, document=document_view(core))
    if _web(config, "page", True):
        shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host
        log.info("resbot: the page is at http://%s:%d/", f"[{shown}]" if ":" in shown else shown, port)
    # The loaded core is ~100k long-lived objects; a full collection over them stalls every request
    # for ~50 ms (the answers' p99). Freezing them keeps later collections to new objects only.
    gc.collect()
    gc.freeze()
    server = uvicorn.Server(server_config(app, host, port, access_log))
    try:
        server.run()
    except SystemExit as exc:  # uvicorn exits when it cannot bind or start up
        log.error("server stopped during startup (exit %s)", exc.code)
        return 1
    return 0 if server.started else 1
