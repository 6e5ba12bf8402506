"""The page's JSON API: ``POST /api/ask`` (the `resbot ask --json` object plus a conversation id)
and ``GET /api/document`` (the parsed resolution)."""

from __future__ import annotations

import re
import secrets
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from bot.channels.ratelimit import RateLimiter, client_key, is_loopback
from bot.channels.webassets import API_HEADERS, Asset, cached_response
from bot.channels.webcommon import Answerer, ClientError, media_type, parse_json_object, read_body
from bot.render.document import DocumentView, document_json
from bot.render.plain import answer_json

PLATFORM = "web"
DEFAULT_MAX_BODY = 16_384
_CONVERSATION = re.compile(r"[A-Za-z0-9_-]{16,64}")


def new_conversation() -> str:
    """A fresh opaque conversation id (144 random bits)."""
    return secrets.token_urlsafe(18)


def _json(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """Compact UTF-8 JSON with the API's security headers."""
    body = orjson.dumps(data)
    return Response(body, status_code=status, media_type="application/json",
                    headers={**API_HEADERS, **(headers or {})})


def api_error(status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    """A JSON error ``{"error": message}`` with the API's headers."""
    return _json({"error": message}, status, {"Cache-Control": "no-store", **(headers or {})})


def parse_ask(data: dict[str, Any]) -> tuple[str, str | None]:
    """The question and the conversation id of an ask body; ClientError(400) when either is wrong."""
    if "question" not in data:
        raise ClientError(400, "missing field: question")
    question = data["question"]
    if not isinstance(question, str):
        raise ClientError(400, "question must be a string")
    conversation = data.get("conversation")
    if conversation is not None and not (isinstance(conversation, str) and _CONVERSATION.fullmatch(conversation)):
        raise ClientError(400, "conversation must be null or an id returned by this API")
    return question, conversation


class WebApi:
    """The two API routes; the rate limit (when set) counts /api/ask requests per client."""

    def __init__(self, answerer: Answerer, view: DocumentView | None, limiter: RateLimiter | None,
                 limit_loopback: bool = True, max_body: int = DEFAULT_MAX_BODY) -> None:
        self._answerer = answerer
        self._limiter = limiter
        self._limit_loopback = limit_loopback
        self._max_body = max_body
        self._document = None if view is None else Asset.of(
            orjson.dumps(document_json(view)),
            "application/json")

    async def ask(self, request: Request) -> Response:
        """POST /api/ask: answer ``{"question", "conversation"}`` as `resbot ask --json` does."""
        try:
            await self._check_rate(request)
            if media_type(request) != "application/json":
                raise ClientError(415, "send the question as JSON (Content-Type: application/json)")
            question, conversation = parse_ask(parse_json_object(await read_body(request, self._max_body)))
        except ClientError as exc:
            return api_error(exc.status, exc.message, exc.headers)
        conversation = conversation or new_conversation()
        answer = await self._answerer.ask(PLATFORM, f"{PLATFORM}:{conversation}", question)
        if answer.error:
            return _json({"error": answer.text, "code": answer.error}, 400, {"Cache-Control": "no-store"})
        return _json({**answer_json(answer), "conversation": conversation}, headers={"Cache-Control": "no-store"})

    async def document(self, request: Request) -> Response:
        """GET /api/document: the resolution as JSON (built once)."""
        if self._document is None:
            return api_error(404, "no document is loaded")
        return cached_response(request, self._document, "no-cache", API_HEADERS)

    async def _check_rate(self, request: Request) -> None:
        """ClientError(429) with Retry-After once this client is over its limit."""
        if self._limiter is None:
            return
        host = request.client.host if request.client else None
        if not self._limit_loopback and is_loopback(host):
            return
        allowed, retry_after = await self._limiter.hit(f"ask:{client_key(host)}")
        if not allowed:
            raise ClientError(429, f"too many questions; try again in {retry_after} s",
                              {"Retry-After": str(retry_after)})

    def routes(self) -> list[BaseRoute]:
        """/api/ask (POST) and /api/document (GET)."""
        return [Route("/api/ask", self.ask, methods=["POST"]),
                Route("/api/document", self.document, methods=["GET"])]
