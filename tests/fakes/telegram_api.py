"""A fake Telegram Bot API on 127.0.0.1 for tests: records every call, can be scripted to fail.

The bot under test talks to it over real HTTP (``Bot(base_url=fake.base_url)``); updates are
queued with :meth:`FakeTelegramAPI.push` and handed out by ``getUpdates``. Messages sent with
``parse_mode=HTML`` are checked the way Telegram checks them (known tags only, balanced,
no bare ``<`` or ``&``, 1-4096 UTF-16 code units of visible text, at most 100 entities) and
rejected with a 400 "can't parse entities" otherwise.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from tests.fakes.loopback import LoopbackServer

TOKEN = "123456:TEST-token"
BOT_ID = 7000001
BOT_USERNAME = "resbot_test_bot"

# Parameters PTB sends as plain strings; every other form field is JSON-encoded.
_RAW_FIELDS = frozenset({
    "text", "parse_mode", "callback_query_id", "inline_query_id", "inline_message_id",
    "next_offset", "url", "secret_token", "language_code",
})
_ALLOWED_TAGS = frozenset({
    "b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "span", "tg-spoiler", "a",
    "code", "pre", "blockquote", "tg-emoji",
})
_NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units, as Telegram counts."""
    return len(text.encode("utf-16-le")) // 2


class HTMLCheckError(ValueError):
    """The text would make Telegram answer "Bad Request: can't parse entities"."""


class _TelegramHTML(HTMLParser):
    """Telegram's HTML subset: collects the visible text and counts entities."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.stack: list[str] = []
        self.parts: list[str] = []
        self.entities = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in _ALLOWED_TAGS:
            raise HTMLCheckError(f'unsupported start tag "{tag}"')
        if tag == "a" and not dict(attrs).get("href"):
            raise HTMLCheckError("<a> without href")
        self.stack.append(tag)
        self.entities += 1

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        raise HTMLCheckError(f'unsupported self-closing tag "{tag}"')

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            raise HTMLCheckError(f'unexpected end tag "{tag}"')
        self.stack.pop()
        if tag == "blockquote":
            self.parts.append("\x00bq-end")

    def handle_data(self, data: str) -> None:
        if "<" in data or "&" in data:
            raise HTMLCheckError("unescaped < or & in text")
        if self.stack and self.stack[-1] == "blockquote":
            self.parts.append("\x00bq-text")
        self.parts.append(data)

    def handle_entityref(self, name: str) -> None:
        if name not in _NAMED_ENTITIES:
            raise HTMLCheckError(f'unsupported entity "&{name};"')
        self.parts.append(_NAMED_ENTITIES[name])

    def handle_charref(self, name: str) -> None:
        code = int(name[1:], 16) if name[:1] in "xX" else int(name)
        self.parts.append(chr(code))

    def unknown_decl(self, data: str) -> None:
        raise HTMLCheckError("unsupported declaration")

    def handle_comment(self, data: str) -> None:
        raise HTMLCheckError("comments are not supported")


def parse_html(text: str) -> tuple[str, int, str]:
    """Check Telegram HTML; return (visible text, entity count, text with '> ' quote marks)."""
    parser = _TelegramHTML()
    parser.feed(text)
    parser.close()
    if parser.stack:
        raise HTMLCheckError(f'unclosed tag "{parser.stack[-1]}"')
    if parser.rawdata:  # an incomplete tag such as "<b" left in the buffer
        raise HTMLCheckError("unterminated tag")
    plain = "".join(p for p in parser.parts if not p.startswith("\x00"))
    marked: list[str] = []
    quoting = False
    for part in parser.parts:
        if part == "\x00bq-text":
            quoting = True
        elif part == "\x00bq-end":
            quoting = False
        elif quoting:
            marked.append("\n".join("> " + line for line in part.split("\n")))
        else:
            marked.append(part)
    return plain, parser.entities, "".join(marked)


def visible_text(text: str, parse_mode: str | None) -> str:
    """What the user sees of a message sent with ``parse_mode``."""
    return parse_html(text)[0] if parse_mode == "HTML" else text


@dataclass
class Call:
    """One recorded Bot API call."""

    method: str
    params: dict[str, Any]
    at: float
    status: int = 200
    result: Any = None

    @property
    def text(self) -> str:
        """The ``text`` parameter (empty if none)."""
        return str(self.params.get("text", ""))

    @property
    def chat_id(self) -> int | None:
        """The ``chat_id`` parameter as an int, if given."""
        value = self.params.get("chat_id")
        return int(value) if value is not None else None

    @property
    def buttons(self) -> list[dict[str, Any]]:
        """Inline keyboard buttons of ``reply_markup``, flattened row by row."""
        markup = self.params.get("reply_markup") or {}
        return [b for row in markup.get("inline_keyboard", []) for b in row]


@dataclass
class _Failure:
    """A scripted error answer for the next ``times`` matching calls."""

    method: str
    code: int
    description: str
    retry_after: int | None
    times: int
    match: Callable[[dict[str, Any]], bool]


@dataclass
class _Event:
    """A transcript line: what the user did or what the bot sent."""

    who: str
    text: str
    buttons: list[str] = field(default_factory=list)


class FakeTelegramAPI:
    """A local Bot API: ``async with FakeTelegramAPI() as fake:`` then ``fake.base_url``."""

    def __init__(self, token: str = TOKEN, username: str = BOT_USERNAME) -> None:
        self.token = token
        self.username = username
        self.calls: list[Call] = []
        self.events: list[_Event] = []
        self._pending: list[dict[str, Any]] = []
        self._failures: list[_Failure] = []
        self._update_ids = itertools.count(1)
        self._message_ids = itertools.count(1000)
        self._changed = asyncio.Condition()
        self._loopback = LoopbackServer()
        self.port = 0

    # -- lifecycle -------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        """The ``base_url`` to give PTB (the token is appended by PTB)."""
        return f"http://127.0.0.1:{self.port}/bot"

    async def start(self) -> None:
        """Serve on a free port of 127.0.0.1 until :meth:`stop`."""
        route = Route("/bot{token}/{method}", self._endpoint, methods=["GET", "POST"])
        self.port = await self._loopback.start(Starlette(routes=[route]))

    async def stop(self) -> None:
        """Shut the server down (bounded), waking any long poll first."""
        if not self._loopback.request_stop():
            return
        async with self._changed:
            self._changed.notify_all()
        await self._loopback.wait_stopped()

    async def __aenter__(self) -> FakeTelegramAPI:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # -- scripting ---------------------------------------------------------------------------

    def push(self, update: dict[str, Any]) -> int:
        """Queue an update for getUpdates; an ``update_id`` is assigned when missing."""
        update = dict(update)
        update.setdefault("update_id", next(self._update_ids))
        self._pending.append(update)
        asyncio.get_running_loop().create_task(self._notify())
        return int(update["update_id"])

    def fail(
        self, method: str, code: int, description: str, *, retry_after: int | None = None,
        times: int = 1, match: Callable[[dict[str, Any]], bool] = lambda _p: True,
    ) -> None:
        """Answer the next ``times`` calls of ``method`` (that ``match``) with an error."""
        self._failures.append(_Failure(method, code, description, retry_after, times, match))

    def calls_of(self, method: str) -> list[Call]:
        """Recorded successful and failed calls of one method, in order."""
        return [c for c in self.calls if c.method == method]

    async def wait_for(self, method: str, count: int = 1, timeout: float = 5.0) -> list[Call]:
        """Wait until ``method`` was called at least ``count`` times; return those calls."""
        async with asyncio.timeout(timeout), self._changed:
            await self._changed.wait_for(lambda: len(self.calls_of(method)) >= count)
        return self.calls_of(method)

    async def settle(self, quiet: float = 0.3, timeout: float = 5.0) -> None:
        """Wait until no update is pending and no call but getUpdates came for ``quiet`` seconds."""
        def count() -> int:
            return sum(1 for c in self.calls if c.method != "getUpdates")

        async with asyncio.timeout(timeout):
            while True:
                seen = count()
                await asyncio.sleep(quiet)
                if not self._pending and count() == seen:
                    return

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    # -- transcript --------------------------------------------------------------------------

    def transcript(self) -> str:
        """The conversation as a user sees it: their messages and the bot's visible replies."""
        lines: list[str] = []
        for event in self.events:
            prefix = "You: " if event.who == "user" else "Bot: "
            body = event.text.replace("\n", "\n" + " " * len(prefix))
            lines.append(prefix + body)
            if event.buttons:
                lines.append(" " * len(prefix) + "  ".join(f"[{b}]" for b in event.buttons))
        return "\n".join(lines) + "\n"

    def _record_user(self, update: dict[str, Any]) -> None:
        if "message" in update:
            msg = update["message"]
            said = msg.get("text") or _describe_media(msg)
        elif "callback_query" in update:
            said = f"(taps [{self._button_label(update['callback_query']['data'])}])"
        elif "inline_query" in update:
            said = f"(types inline) @{self.username} {update['inline_query']['query']}"
        elif "edited_message" in update:
            said = f"(edits a message to) {update['edited_message'].get('text', '')}"
        else:
            said = "(other update)"
        self.events.append(_Event("user", said))

    def _button_label(self, data: str) -> str:
        """The label of the most recent sent button carrying ``data``."""
        for call in reversed(self.calls):
            for button in call.buttons:
                if button.get("callback_data") == data:
                    return str(button["text"])
        return data

    def _record_bot(self, method: str, params: dict[str, Any]) -> None:
        rows = (params.get("reply_markup") or {}).get("inline_keyboard", [])
        labels = [b["text"] for row in rows for b in row]
        if method in ("sendMessage", "editMessageText"):
            text = params.get("text", "")
            shown = parse_html(text)[2] if params.get("parse_mode") == "HTML" else text
            if method == "editMessageText":
                shown = "(edits its message)\n" + shown
            self.events.append(_Event("bot", shown, labels))
        elif method == "answerInlineQuery":
            titles = [r.get("title", "") for r in params.get("results", [])]
            self.events.append(_Event("bot", "(inline results) " + " | ".join(titles)))

    # -- HTTP --------------------------------------------------------------------------------

    async def _endpoint(self, request: Request) -> JSONResponse:
        if request.path_params["token"] != self.token:
            body = {"ok": False, "error_code": 401, "description": "Unauthorized"}
            return JSONResponse(body, 401)
        method = request.path_params["method"]
        params = _decode(await _form(request))
        call = Call(method, params, time.monotonic())
        self.calls.append(call)
        await self._notify()  # a long-polling getUpdates is visible while it waits
        try:
            status, body = await self._answer(method, params)
        finally:
            await self._notify()
        call.status = status
        call.result = body.get("result")
        return JSONResponse(body, status)

    def _scripted(self, method: str, params: dict[str, Any]) -> tuple[int, dict[str, Any]] | None:
        for failure in self._failures:
            if failure.method == method and failure.times > 0 and failure.match(params):
                failure.times -= 1
                body: dict[str, Any] = {"ok": False, "error_code": failure.code,
                                        "description": failure.description}
                if failure.retry_after is not None:
                    body["parameters"] = {"retry_after": failure.retry_after}
                return failure.code, body
        return None

    async def _answer(self, method: str, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        if method == "getUpdates":
            return 200, {"ok": True, "result": await self._get_updates(params)}
        scripted = self._scripted(method, params)
        if scripted is not None:
            return scripted
        handler = _HANDLERS.get(method)
        if handler is None:
            return 404, {"ok": False, "error_code": 404,
                         "description": "Not Found: method not found"}
        try:
            result = handler(self, params)
        except HTMLCheckError as exc:
            return 400, {"ok": False, "error_code": 400,
                         "description": f"Bad Request: can't parse entities: {exc}"}
        except _BadRequest as exc:
            return 400, {"ok": False, "error_code": 400, "description": f"Bad Request: {exc}"}
        self._record_bot(method, params)
        return 200, {"ok": True, "result": result}

    async def _get_updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        wait = min(float(params.get("timeout") or 0), 5.0)
        if not self._pending and wait > 0 and not self._loopback.stopping:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(wait), self._changed:
                    await self._changed.wait_for(self._poll_ready)
        limit = int(params.get("limit") or 100)
        batch, self._pending = self._pending[:limit], self._pending[limit:]
        for update in batch:
            self._record_user(update)
        return batch

    def _poll_ready(self) -> bool:
        return bool(self._pending) or self._loopback.stopping

    # -- method handlers (return the "result" field) -------------------------------------------

    def _get_me(self, params: dict[str, Any]) -> dict[str, Any]:
        return {"id": BOT_ID, "is_bot": True, "first_name": "Resbot", "username": self.username,
                "can_join_groups": True, "can_read_all_group_messages": False,
                "supports_inline_queries": True}

    def _message(self, params: dict[str, Any]) -> dict[str, Any]:
        text = str(params.get("text", ""))
        shown = visible_text(text, params.get("parse_mode"))
        _check_length(shown, text, params.get("parse_mode"))
        chat_id = int(params["chat_id"])
        chat = {"id": chat_id, "type": "private" if chat_id > 0 else "supergroup"}
        if chat_id < 0:
            chat["title"] = "Test group"
        else:
            chat["first_name"] = "Tester"
        return {"message_id": next(self._message_ids), "date": int(time.time()), "chat": chat,
                "from": self._get_me({}), "text": shown.strip()}

    def _edit(self, params: dict[str, Any]) -> dict[str, Any] | bool:
        if "inline_message_id" in params:
            text, mode = str(params.get("text", "")), params.get("parse_mode")
            _check_length(visible_text(text, mode), text, mode)
            return True
        message = self._message(params)
        message["message_id"] = int(params["message_id"])
        message["edit_date"] = int(time.time())
        return message

    def _true(self, params: dict[str, Any]) -> bool:
        return True

    def _answer_inline(self, params: dict[str, Any]) -> bool:
        results = params.get("results", [])
        if len(results) > 50:
            raise _BadRequest("too many inline query results")
        ids = [r.get("id") for r in results]
        if len(set(ids)) != len(ids) or any(len(str(i).encode()) > 64 for i in ids):
            raise _BadRequest("RESULT_ID_INVALID")
        for result in results:
            content = result.get("input_message_content") or {}
            text, mode = str(content.get("message_text", "")), content.get("parse_mode")
            _check_length(visible_text(text, mode), text, mode)
        return True

    def _webhook_info(self, params: dict[str, Any]) -> dict[str, Any]:
        return {"url": "", "has_custom_certificate": False,
                "pending_update_count": len(self._pending)}


class _BadRequest(Exception):
    """Any other 400 answer."""


def _check_length(shown: str, raw: str, parse_mode: Any) -> None:
    size = utf16_len(shown.strip())
    if size == 0:
        raise _BadRequest("message text is empty")
    if size > 4096:
        raise _BadRequest("message is too long")
    if parse_mode == "HTML" and parse_html(raw)[1] > 100:
        raise _BadRequest("too many entities")


_HANDLERS: dict[str, Callable[[FakeTelegramAPI, dict[str, Any]], Any]] = {
    "getMe": FakeTelegramAPI._get_me,
    "sendMessage": FakeTelegramAPI._message,
    "editMessageText": FakeTelegramAPI._edit,
    "answerInlineQuery": FakeTelegramAPI._answer_inline,
    "answerCallbackQuery": FakeTelegramAPI._true,
    "setMyCommands": FakeTelegramAPI._true,
    "deleteMyCommands": FakeTelegramAPI._true,
    "deleteWebhook": FakeTelegramAPI._true,
    "setWebhook": FakeTelegramAPI._true,
    "getWebhookInfo": FakeTelegramAPI._webhook_info,
    "sendChatAction": FakeTelegramAPI._true,
    "close": FakeTelegramAPI._true,
    "logOut": FakeTelegramAPI._true,
}


async def _form(request: Request) -> dict[str, str]:
    """The urlencoded or JSON body PTB sent (files are never uploaded by resbot)."""
    body = await request.body()
    if request.headers.get("content-type", "").startswith("application/json"):
        data = json.loads(body or b"{}")
        return {k: v if isinstance(v, str) else json.dumps(v) for k, v in data.items()}
    return dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True))


def _decode(form: dict[str, Any]) -> dict[str, Any]:
    """Undo PTB's form encoding: plain strings stay, everything else is JSON."""
    out: dict[str, Any] = {}
    for key, value in form.items():
        if key in _RAW_FIELDS or not isinstance(value, str):
            out[key] = value
            continue
        try:
            out[key] = json.loads(value)
        except ValueError:
            out[key] = value
    return out


def _describe_media(message: dict[str, Any]) -> str:
    for kind in ("sticker", "photo", "voice", "video", "document", "location"):
        if kind in message:
            return f"({kind})"
    return "(non-text message)"


# -- update builders ----------------------------------------------------------------------------

_user_ids = itertools.count(100)
_message_ids = itertools.count(1)
_query_ids = itertools.count(1)
USER = {"id": 4242, "is_bot": False, "first_name": "Tester", "username": "tester"}


def _chat(chat_id: int) -> dict[str, Any]:
    if chat_id > 0:
        return {"id": chat_id, "type": "private", "first_name": "Tester"}
    return {"id": chat_id, "type": "supergroup", "title": "Test group"}


def _utf16_offset(text: str, index: int) -> int:
    return utf16_len(text[:index])


def _entities(text: str) -> Iterator[dict[str, Any]]:
    """Entities Telegram would attach: a leading bot command and @mentions."""
    command = re.match(r"/[A-Za-z0-9_]+(@[A-Za-z0-9_]+)?", text)
    if command:
        yield {"type": "bot_command", "offset": 0, "length": utf16_len(command.group())}
    for mention in re.finditer(r"(?<![\w/])@[A-Za-z0-9_]{5,32}", text):
        yield {"type": "mention", "offset": _utf16_offset(text, mention.start()),
               "length": utf16_len(mention.group())}


def message(
    text: str, *, chat_id: int = 4242, user: dict[str, Any] | None = None,
    reply_to: dict[str, Any] | None = None, **extra: Any,
) -> dict[str, Any]:
    """A Message object with the entities Telegram would add."""
    msg: dict[str, Any] = {"message_id": next(_message_ids), "date": int(time.time()),
                           "chat": _chat(chat_id), "from": user or USER, "text": text}
    entities = list(_entities(text))
    if entities:
        msg["entities"] = entities
    if reply_to is not None:
        msg["reply_to_message"] = reply_to
    msg.update(extra)
    return msg


def text_update(text: str, *, chat_id: int = 4242, update_id: int | None = None,
                **extra: Any) -> dict[str, Any]:
    """An update carrying a new text message."""
    update: dict[str, Any] = {"message": message(text, chat_id=chat_id, **extra)}
    if update_id is not None:
        update["update_id"] = update_id
    return update


def edited_update(text: str, *, chat_id: int = 4242) -> dict[str, Any]:
    """An update carrying an edited text message."""
    msg = message(text, chat_id=chat_id)
    msg["edit_date"] = int(time.time())
    return {"edited_message": msg}


def sticker_update(*, chat_id: int = 4242) -> dict[str, Any]:
    """An update carrying a sticker."""
    msg = message("", chat_id=chat_id)
    del msg["text"]
    msg["sticker"] = {"file_id": "CAAD", "file_unique_id": "u1", "type": "regular",
                      "width": 512, "height": 512, "is_animated": False, "is_video": False}
    return {"message": msg}


def photo_update(*, chat_id: int = 4242, caption: str | None = None) -> dict[str, Any]:
    """An update carrying a photo."""
    msg = message("", chat_id=chat_id)
    del msg["text"]
    msg["photo"] = [{"file_id": "AgAD", "file_unique_id": "p1", "width": 90, "height": 90}]
    if caption:
        msg["caption"] = caption
    return {"message": msg}


def callback_update(
    data: str, *, chat_id: int = 4242, message_id: int = 1000, inline_message_id: str | None = None,
) -> dict[str, Any]:
    """An update for a pressed inline keyboard button under a bot message."""
    query: dict[str, Any] = {"id": f"cq{next(_query_ids)}", "from": USER,
                             "chat_instance": "ci1", "data": data}
    if inline_message_id is not None:
        query["inline_message_id"] = inline_message_id
    else:
        query["message"] = {"message_id": message_id, "date": int(time.time()),
                            "chat": _chat(chat_id), "text": "…",
                            "from": {"id": BOT_ID, "is_bot": True, "first_name": "Resbot",
                                     "username": BOT_USERNAME}}
    return {"callback_query": query}


def inline_update(query: str) -> dict[str, Any]:
    """An update for an inline query typed as ``@bot query``."""
    return {"inline_query": {"id": f"iq{next(_query_ids)}", "from": USER, "query": query,
                             "offset": ""}}
