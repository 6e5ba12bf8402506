"""POST /telegram: hand verified Telegram updates to a python-telegram-bot Application."""

from __future__ import annotations

import logging
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from telegram import Update
from telegram.error import TelegramError

from bot.channels.security import token_matches
from bot.channels.webcommon import ClientError, media_type, parse_json_object, read_body
from bot.state import Dedupe

log = logging.getLogger("resbot.web.telegram")

SECRET_HEADER = "x-telegram-bot-api-secret-token"


class TelegramWebhook:
    """Checks the secret header in constant time, parses strictly, queues each update once."""

    def __init__(self, application: Any, secret: str, max_body: int, seen: Dedupe,
                 webhook_url: str | None = None,
                 allowed_updates: list[str] | None = None) -> None:
        self._app = application
        self._secret = secret
        self._max_body = max_body
        self._seen = seen
        self._webhook_url = webhook_url
        self._allowed_updates = allowed_updates
        self.ready = False

    async def start(self) -> None:
        """Initialise and start the Application; with a webhook URL, register it with Telegram."""
        try:
            await self._app.initialize()
            if self._app.post_init is not None:  # run_polling/run_webhook would call it
                await self._app.post_init(self._app)
            if self._webhook_url:
                await self._app.bot.set_webhook(url=self._webhook_url, secret_token=self._secret,
                                                allowed_updates=self._allowed_updates)
                log.info("Telegram webhook set to %s", self._webhook_url)
            await self._app.start()
        except TelegramError as exc:
            log.error("Telegram webhook unavailable: %s", exc)
            return
        self.ready = True

    async def stop(self) -> None:
        """Stop and shut down the Application (pending updates are dropped)."""
        if self._app.running:
            await self._app.stop()
        await self._app.shutdown()
        self.ready = False

    async def handle(self, request: Request) -> Response:
        """403 without the right secret, 415 for non-JSON, 400 for malformed updates, else 200."""
        if not token_matches(self._secret, request.headers.get(SECRET_HEADER)):
            raise ClientError(403, "invalid or missing secret token")
        if media_type(request) != "application/json":
            raise ClientError(415, "expected application/json")
        data = parse_json_object(await read_body(request, self._max_body))
        update_id = data.get("update_id")
        if not isinstance(update_id, int) or isinstance(update_id, bool):
            raise ClientError(400, "not a Telegram update")
        if not self.ready:
            raise ClientError(503, "Telegram is not ready", {"Retry-After": "5"})
        try:
            update = Update.de_json(data, self._app.bot)
        except Exception:  # PTB raises assorted errors for malformed nested objects
            raise ClientError(400, "malformed Telegram update") from None
        if await self._seen.first_time(f"telegram:{update_id}"):
            await self._app.update_queue.put(update)
        return Response(status_code=200)
