"""A fake Slack Web API on 127.0.0.1: records chat.postMessage calls and response_url posts.

Point slack_sdk at it with ``WebClient(token=..., base_url=fake.base_url)``; give slash
commands ``response_url=fake.response_url("x")``. Calls can be scripted to fail.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from tests.fakes.loopback import LoopbackServer

BOT_TOKEN = "xoxb-test-token"
BOT_USER_ID = "UBOT0001"


@dataclass(frozen=True)
class SlackCall:
    """One recorded request: the API method (or ``response:<id>``), its fields and auth header."""

    method: str
    params: dict[str, Any]
    authorization: str


class FakeSlackAPI:
    """``async with FakeSlackAPI() as fake: WebClient(BOT_TOKEN, base_url=fake.base_url)``."""

    def __init__(self) -> None:
        self.calls: list[SlackCall] = []
        self._failures: dict[str, int] = {}
        self._changed = asyncio.Condition()
        self._loopback = LoopbackServer()
        self.port = 0

    @property
    def base_url(self) -> str:
        """The Web API base URL (ends with a slash, as slack_sdk expects)."""
        return f"http://127.0.0.1:{self.port}/api/"

    def response_url(self, name: str) -> str:
        """A response_url that records what is posted to it."""
        return f"http://127.0.0.1:{self.port}/response/{name}"

    async def start(self) -> None:
        """Serve on a free port of 127.0.0.1 until :meth:`stop`."""
        app = Starlette(routes=[
            Route("/api/{method}", self._api, methods=["POST", "GET"]),
            Route("/response/{name}", self._response, methods=["POST"]),
        ])
        self.port = await self._loopback.start(app)

    async def stop(self) -> None:
        """Shut the server down (bounded)."""
        if self._loopback.request_stop():
            await self._loopback.wait_stopped()

    async def __aenter__(self) -> FakeSlackAPI:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    def fail(self, method: str, times: int = 1) -> None:
        """Answer the next ``times`` calls of ``method`` with ``{"ok": false}``."""
        self._failures[method] = self._failures.get(method, 0) + times

    def calls_of(self, method: str) -> list[SlackCall]:
        """Recorded calls of one method, in order."""
        return [c for c in self.calls if c.method == method]

    async def wait_for(self, method: str, count: int = 1, timeout: float = 5.0) -> list[SlackCall]:
        """Wait until ``method`` was called at least ``count`` times; return those calls."""
        async with asyncio.timeout(timeout), self._changed:
            await self._changed.wait_for(lambda: len(self.calls_of(method)) >= count)
        return self.calls_of(method)

    async def settle(self, quiet: float = 0.3, timeout: float = 5.0) -> None:
        """Wait until no call arrived for ``quiet`` seconds."""
        async with asyncio.timeout(timeout):
            while True:
                seen = len(self.calls)
                await asyncio.sleep(quiet)
                if len(self.calls) == seen:
                    return

    async def _record(self, call: SlackCall) -> None:
        self.calls.append(call)
        async with self._changed:
            self._changed.notify_all()

    async def _api(self, request: Request) -> JSONResponse:
        method = request.path_params["method"]
        body = await request.body()
        if request.headers.get("content-type", "").startswith("application/json"):
            params = json.loads(body or b"{}")
        else:
            params = dict(parse_qsl(body.decode("utf-8")))
        await self._record(SlackCall(method, params, request.headers.get("authorization", "")))
        if self._failures.get(method, 0) > 0:
            self._failures[method] -= 1
            return JSONResponse({"ok": False, "error": "internal_error"})
        if request.headers.get("authorization") != f"Bearer {BOT_TOKEN}":
            return JSONResponse({"ok": False, "error": "invalid_auth"})
        if method == "chat.postMessage":
            return JSONResponse({"ok": True, "channel": params.get("channel"),
                                 "ts": f"1700000000.{len(self.calls):06d}"})
        if method == "auth.test":
            return JSONResponse({"ok": True, "user_id": BOT_USER_ID, "bot_id": "BBOT0001"})
        return JSONResponse({"ok": True})

    async def _response(self, request: Request) -> JSONResponse:
        name = request.path_params["name"]
        params = json.loads(await request.body() or b"{}")
        await self._record(SlackCall(f"response:{name}", params, ""))
        return JSONResponse({"ok": True})
