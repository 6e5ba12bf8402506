"""Telegram frontend: a python-telegram-bot Application, its handlers and the polling runner.

Polling: ``resbot telegram`` (or ``python -m bot.channels.telegram``) calls :func:`run`.
Webhook: the web app builds the same Application with ``build_application(...,
updater=False)``, then ``await app.initialize(); await setup_bot(app); await app.start()``,
and puts each verified ``Update.de_json(payload, app.bot)`` on ``app.update_queue``
(or awaits ``app.process_update``); ``await app.stop(); await app.shutdown()`` at exit.
Duplicate update_ids are dropped inside the Application, so both modes answer once.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import re
import secrets
import signal
import sys
from collections.abc import Callable, Coroutine, Sequence
from typing import TYPE_CHECKING, Any, Final

from telegram import (
    BotCommand,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InlineQueryResultArticle,
    InputTextMessageContent,
    LinkPreviewOptions,
    Message,
    MessageEntity,
    ReplyParameters,
    Update,
)
from telegram.constants import ChatType, ParseMode
from telegram.error import BadRequest, Forbidden, InvalidToken, NetworkError, RetryAfter, TelegramError
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    ApplicationHandlerStop,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    InlineQueryHandler,
    MessageHandler,
    TypeHandler,
    filters,
)

from bot.config import Config, ConfigError, load_config
from bot.context import Context
from bot.model import Answer
from bot.render import telegram as render
from bot.state import ContextStore, Dedupe, State, open_state
from bot.state.memory import MemoryContexts, MemoryDedupe
from bot.unanswered import QuestionLog, question_log

if TYPE_CHECKING:
    from bot.core import Core

log = logging.getLogger(__name__)

TOKEN_VARIABLE: Final = "TELEGRAM_BOT_TOKEN"
DEFAULT_BASE_URL: Final = "https://api.telegram.org/bot"
DEFAULT_BASE_FILE_URL: Final = "https://api.telegram.org/file/bot"
ALLOWED_UPDATES: Final = ("message", "inline_query", "callback_query")
COMMANDS: Final = (
    ("start", "What I cover, with example questions"),
    ("help", "How to ask, and all commands"),
    ("ask", "Ask a question: /ask when is World Day?"),
    ("para", "Show operative paragraph N: /para 5"),
    ("op", "Show operative paragraph N: /op 5"),
    ("pp", "Show preambular paragraph N: /pp 3"),
    ("footnote", "Show footnote N: /footnote 11"),
    ("sponsors", "Who sponsors the draft"),
    ("about", "The document: symbol, date, committee"),
)
NON_TEXT_HINT: Final = "I only read text. Send me a question about the resolution, or /help."
UNKNOWN_COMMAND: Final = "I do not know that command. See /help for what I can do."
ERROR_NOTICE: Final = "Sorry, something went wrong on my side. Please try again."
EXPIRED_BUTTON: Final = "This button has expired. Ask me again, or see /help."
FEEDBACK_SECONDS: Final = 86_400.0  # how long a "Not helpful" button works
NO_PREVIEW: Final = LinkPreviewOptions(is_disabled=True)
REF_KINDS: Final = {"para": "OP", "op": "OP", "pp": "PP", "footnote": "FN", "fn": "FN"}

TelegramApp = Application[Any, Any, Any, Any, Any, Any]
CallbackCtx = ContextTypes.DEFAULT_TYPE

# Only brand-new messages: edited messages and channel posts never reach a handler.
NEW_MESSAGE = filters.UpdateType.MESSAGE
PRIVATE = filters.ChatType.PRIVATE
GROUPS = filters.ChatType.GROUPS


def paragraph_ref(command: str, args: Sequence[str]) -> str | None:
    """The chunk id asked for by ``/para 5``, ``/pp 8(c)``, ``/op OP5``, ``/footnote 11``."""
    raw = "".join(args).upper().replace(" ", "")
    match = re.fullmatch(r"(OP|PP|FN)?(\d{1,3})(?:\(?([A-Z])\)?)?", raw)
    if not match or command not in REF_KINDS:
        return None
    kind = match.group(1) or REF_KINDS[command]
    sub = f"({match.group(3).lower()})" if match.group(3) else ""
    return f"{kind}{int(match.group(2))}{sub}"


def keyboard(rows: Sequence[Sequence[render.Button]]) -> InlineKeyboardMarkup | None:
    """PTB markup for the renderer's button rows (None when there are none)."""
    if not rows:
        return None
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(b.text, callback_data=b.data) for b in row] for row in rows]
    )


def group_question(message: Message, username: str, bot_id: int) -> str | None:
    """The question in a group message that mentions or replies to the bot, else None."""
    text = message.text or ""
    addressed = False
    for value in message.parse_entities([MessageEntity.MENTION]).values():
        if value[1:].lower() == username.lower():
            addressed = True
            text = text.replace(value, " ")
    for entity in message.entities:
        if entity.type == MessageEntity.TEXT_MENTION and entity.user and entity.user.id == bot_id:
            addressed = True
    replied = message.reply_to_message
    if replied and replied.from_user and replied.from_user.id == bot_id:
        addressed = True
    return " ".join(text.split()) if addressed else None


class TelegramFrontend:
    """The handlers: translate updates into core calls and Answers into Telegram messages."""

    def __init__(self, core: Core, *, inline_cache_seconds: int = 300,
                 dedupe_size: int = 10_000, context_ttl: float = 1800.0,
                 dedupe: Dedupe | None = None, store: ContextStore | None = None,
                 log: QuestionLog | None = None, feedback: tuple[ContextStore, Dedupe] | None = None) -> None:
        self.core = core
        self.store: ContextStore = store or MemoryContexts(ttl_seconds=context_ttl)
        self.inline_cache_seconds = inline_cache_seconds
        self.log = log
        self._seen: Dedupe = dedupe or MemoryDedupe(float("inf"), max_items=dedupe_size)
        self._unreachable: set[int] = set()
        # "Not helpful" buttons: token -> the answer it sits under, and the tokens already pressed.
        self._buttons, self._pressed = feedback or (MemoryContexts(ttl_seconds=FEEDBACK_SECONDS),
                                                    MemoryDedupe(FEEDBACK_SECONDS))

    def install(self, app: TelegramApp) -> None:
        """Register every handler and the error handler on ``app``."""
        app.add_handler(TypeHandler(Update, self.drop_duplicates), group=-1)
        simple = {"start": self.start, "help": self.help, "ask": self.ask,
                  "sponsors": self.sponsors, "about": self.about}
        for name, callback in simple.items():
            app.add_handler(CommandHandler(name, callback, filters=NEW_MESSAGE))
        app.add_handler(CommandHandler(["para", "op", "pp", "footnote", "fn"], self.paragraph,
                                       filters=NEW_MESSAGE))
        app.add_handler(MessageHandler(NEW_MESSAGE & PRIVATE & filters.COMMAND, self.unknown))
        app.add_handler(MessageHandler(NEW_MESSAGE & PRIVATE & filters.TEXT, self.private_text))
        app.add_handler(MessageHandler(NEW_MESSAGE & GROUPS & filters.TEXT & ~filters.COMMAND,
                                       self.group_text))
        app.add_handler(MessageHandler(NEW_MESSAGE & PRIVATE & ~filters.StatusUpdate.ALL,
                                       self.non_text))
        app.add_handler(InlineQueryHandler(self.inline))
        app.add_handler(CallbackQueryHandler(self.button))
        app.add_error_handler(self.on_error)

    # -- plumbing -------------------------------------------------------------------------

    async def drop_duplicates(self, update: Update, context: CallbackCtx) -> None:
        """Stop processing an update whose update_id was already handled."""
        if not await self._seen.first_time(str(update.update_id)):
            log.info("duplicate update %s ignored", update.update_id)
            raise ApplicationHandlerStop

    async def send(self, update: Update, context: CallbackCtx, reply: render.Reply) -> None:
        """Send every piece of ``reply`` to the update's chat; the keyboard goes on the last."""
        chat = update.effective_chat
        if chat is None:
            return
        message = update.effective_message
        in_group = chat.type != ChatType.PRIVATE
        thread = message.message_thread_id if message and message.is_topic_message else None
        for index, piece in enumerate(reply.pieces):
            last = index == len(reply.pieces) - 1
            quote = (ReplyParameters(message.message_id, allow_sending_without_reply=True)
                     if in_group and message and index == 0 else None)
            await context.bot.send_message(
                chat.id, piece, parse_mode=ParseMode.HTML, link_preview_options=NO_PREVIEW,
                reply_markup=keyboard(reply.keyboard) if last else None,
                reply_parameters=quote, message_thread_id=thread,
            )

    def context_key(self, update: Update) -> str:
        """Follow-up memory key: the chat, and in groups also the asking user."""
        chat = update.effective_chat
        user = update.effective_user
        chat_id = chat.id if chat else 0
        if chat is not None and chat.type == ChatType.PRIVATE:
            return f"telegram:{chat_id}"
        return f"telegram:{chat_id}:{user.id if user else 0}"

    async def ask_core(self, update: Update, question: str) -> Answer:
        """Answer ``question`` with this chat's follow-up context, remember it, log it if unanswered."""
        key = self.context_key(update)
        # Most questions are no follow-up: their context is not read (on Redis, a round trip saved).
        context = await self.store.get(key) if self.core.may_follow_up(question) else None
        answer: Answer = self.core.answer(question, context=context)
        if answer.found:
            await self.store.put(key, Context.after(answer))
        elif self.log is not None:
            user = update.effective_user
            self.log.answered("telegram", answer, user.id if user else None)
        return answer

    async def render_answer(self, answer: Answer, *, echo: bool = False) -> render.Reply:
        """The answer's messages, with a "Not helpful" button when the unanswered-question log is on."""
        return render.render_answer(answer, echo=echo, feedback=await self.feedback_token(answer))

    async def feedback_token(self, answer: Answer) -> str | None:
        """A new token for a found answer's "Not helpful" button; None when nothing would record it."""
        if self.log is None or not answer.found:
            return None
        token = secrets.token_urlsafe(6)
        await self._buttons.put(token, Context(last=answer))
        return token

    async def mark_unhelpful(self, token: str, user_id: int) -> str:
        """Log the answer under a pressed "Not helpful" button (once per button); the notice to show."""
        marked = await self._buttons.get(token) if token else None
        if marked is None or self.log is None:
            return EXPIRED_BUTTON
        if not await self._pressed.first_time(token):
            return "Already noted. Thank you."
        self.log.unhelpful("telegram", marked.last.question, marked.last.kind, user_id)
        return "Thank you: noted for the people who maintain this bot."

    async def answer_question(self, update: Update, context: CallbackCtx, question: str,
                              *, echo: bool = False) -> None:
        """Answer one question in the update's chat."""
        answer = await self.ask_core(update, question)
        await self.send(update, context, await self.render_answer(answer, echo=echo))

    # -- commands -------------------------------------------------------------------------

    async def start(self, update: Update, context: CallbackCtx) -> None:
        """/start: greeting, coverage, three example questions as buttons."""
        await self.send(update, context,
                        render.render_start(self.core.help_text(), self.core.examples()))

    async def help(self, update: Update, context: CallbackCtx) -> None:
        """/help: coverage and the command list."""
        await self.send(update, context, render.render_help(self.core.help_text(), COMMANDS))

    async def ask(self, update: Update, context: CallbackCtx) -> None:
        """/ask <question>: works in groups in privacy mode."""
        question = " ".join(context.args or [])
        if not question.strip():
            examples = self.core.examples()
            example = f"\nFor example: /ask {examples[0]}" if examples else ""
            await self.send(update, context, render.render_notice(
                f"Please ask a question after /ask.{example}"))
            return
        await self.answer_question(update, context, question)

    async def paragraph(self, update: Update, context: CallbackCtx) -> None:
        """/para N, /op N, /pp N, /footnote N: show one chunk of the document."""
        message = update.effective_message
        words = (message.text or "").split() if message else []
        command = words[0][1:].split("@")[0].lower() if words else "para"
        ref = paragraph_ref(command, context.args or [])
        if ref is None:
            sample = "11" if command in ("footnote", "fn") else "5"
            await self.send(update, context, render.render_notice(
                f"Usage: /{command} N, for example /{command} {sample}"))
            return
        await self.send(update, context, render.render_paragraph(self.core.show(ref)))

    async def sponsors(self, update: Update, context: CallbackCtx) -> None:
        """/sponsors: the sponsoring States."""
        await self.send(update, context, render.render_paragraph(self.core.show("sponsors")))

    async def about(self, update: Update, context: CallbackCtx) -> None:
        """/about: document data (symbol, date, session, committee)."""
        await self.send(update, context, render.render_paragraph(self.core.show("about")))

    async def unknown(self, update: Update, context: CallbackCtx) -> None:
        """An unknown command in a private chat."""
        await self.send(update, context, render.render_notice(UNKNOWN_COMMAND))

    # -- messages -------------------------------------------------------------------------

    async def private_text(self, update: Update, context: CallbackCtx) -> None:
        """Plain text in a private chat is a question."""
        message = update.effective_message
        if message is None or message.via_bot is not None:
            return  # our own inline answer posted into this chat
        await self.answer_question(update, context, message.text or "")

    async def group_text(self, update: Update, context: CallbackCtx) -> None:
        """In groups, answer only messages that mention or reply to the bot."""
        message = update.effective_message
        if message is None or message.via_bot is not None:
            return
        question = group_question(message, context.bot.username, context.bot.id)
        if question is not None:
            await self.answer_question(update, context, question)

    async def non_text(self, update: Update, context: CallbackCtx) -> None:
        """Stickers, photos, voice and the like in a private chat get a short hint."""
        await self.send(update, context, render.render_notice(NON_TEXT_HINT))

    # -- inline mode and buttons ----------------------------------------------------------

    async def inline(self, update: Update, context: CallbackCtx) -> None:
        """Inline mode: up to 5 results, the answer first, then the cited paragraphs."""
        query = update.inline_query
        if query is None:
            return
        text = query.query.strip()
        if text:
            answer = self.core.answer(text)
            shown = [self.core.show(c.id) for c in answer.citations[:4]] if answer.found else []
            results = render.inline_results(answer, shown)
        else:
            examples = self.core.examples()[:5]
            results = render.inline_examples([self.core.answer(q) for q in examples])
        await query.answer(
            [InlineQueryResultArticle(
                id=r.id, title=r.title, description=r.description,
                input_message_content=InputTextMessageContent(
                    r.html, parse_mode=ParseMode.HTML, link_preview_options=NO_PREVIEW),
                reply_markup=keyboard(r.keyboard),
            ) for r in results],
            cache_time=self.inline_cache_seconds,
        )

    async def button(self, update: Update, context: CallbackCtx) -> None:
        """Callback buttons: full paragraph, related hits, example questions."""
        query = update.callback_query
        if query is None:
            return
        prefix, ids = render.parse_callback(query.data or "")
        if prefix == render.UNHELPFUL:
            await query.answer(await self.mark_unhelpful(ids[0] if ids else "", query.from_user.id))
            return
        await query.answer()
        reply = await self.button_reply(update, prefix, ids)
        if query.message is None and query.inline_message_id:
            # A message sent through inline mode: the bot may not be in that chat, so edit it.
            await context.bot.edit_message_text(
                reply.pieces[0], inline_message_id=query.inline_message_id,
                parse_mode=ParseMode.HTML, link_preview_options=NO_PREVIEW)
            return
        await self.send(update, context, reply)

    async def button_reply(self, update: Update, prefix: str, ids: list[str]) -> render.Reply:
        """What a pressed button shows."""
        if prefix == render.FULL and ids:
            return render.render_paragraph(self.core.show(ids[0]))
        if prefix == render.RELATED and ids:
            return render.render_related([self.core.show(i) for i in ids])
        if prefix == render.QUESTION and ids:
            return await self.render_answer(await self.ask_core(update, ids[0]), echo=True)
        if prefix == render.EXAMPLE and ids and ids[0].isdigit():
            examples = self.core.examples()
            if int(ids[0]) < len(examples):
                question = examples[int(ids[0])]
                return await self.render_answer(await self.ask_core(update, question), echo=True)
        return render.render_notice(EXPIRED_BUTTON)

    # -- errors ---------------------------------------------------------------------------

    async def on_error(self, update: object, context: CallbackCtx) -> None:
        """Log errors; never send a traceback. Unreachable chats are logged once, not retried."""
        error = context.error
        chat = update.effective_chat if isinstance(update, Update) else None
        if isinstance(error, Forbidden):
            chat_id = chat.id if chat else 0
            if chat_id not in self._unreachable:
                self._unreachable.add(chat_id)
                log.warning("chat %s cannot be reached (%s); not retrying", chat_id, error)
            return
        if isinstance(error, RetryAfter):
            log.warning("flood control still active after one retry: %s", error)
            return
        if isinstance(error, TelegramError):
            log.warning("Telegram API error: %s", error)
            return
        log.error("error while handling an update", exc_info=error)
        if chat is not None:
            try:
                await context.bot.send_message(chat.id, ERROR_NOTICE)
            except TelegramError as exc:
                log.warning("could not tell chat %s about the error: %s", chat.id, exc)


async def setup_bot(app: TelegramApp) -> None:
    """Register the command menu (``set_my_commands``); failure is logged, not fatal."""
    try:
        await app.bot.set_my_commands([BotCommand(name, text) for name, text in COMMANDS])
    except TelegramError as exc:
        log.warning("could not register the command menu: %s", exc)


def build_application(config: Config, core: Core, *, token: str, base_url: str | None = None,
                      updater: bool = True, state: State | None = None,
                      log: QuestionLog | None = None) -> TelegramApp:
    """The PTB Application with every handler; ``updater=False`` for the webhook route.

    With ``state``, update dedupe, follow-up contexts and "Not helpful" buttons live there (shared
    by replicas on Redis). ``log`` is the unanswered-question log (None: off), with its button.
    """
    builder = (
        ApplicationBuilder()
        .token(token)
        .base_url(base_url or config.get("telegram", "base_url", DEFAULT_BASE_URL))
        .base_file_url(config.get("telegram", "base_file_url", DEFAULT_BASE_FILE_URL))
        .rate_limiter(RetryingRateLimiter(
            max_retries=int(config.get("telegram", "max_retries", 1)),
            network_retries=int(config.get("telegram", "network_retries", 2))))
        .connect_timeout(float(config.get("telegram", "request_timeout", 5.0)))
        .read_timeout(float(config.get("telegram", "request_timeout", 5.0)))
        .write_timeout(float(config.get("telegram", "request_timeout", 5.0)))
        .job_queue(None)
        .post_init(setup_bot)
    )
    if not updater:
        builder = builder.updater(None)
    app: TelegramApp = builder.build()
    context_ttl = float(config.get("telegram", "context_ttl_seconds", 1800))
    frontend = TelegramFrontend(
        core,
        inline_cache_seconds=int(config.get("telegram", "inline_cache_seconds", 300)),
        dedupe_size=int(config.get("telegram", "dedupe_size", 10_000)),
        context_ttl=context_ttl,
        dedupe=state.dedupe("telegram-updates", float(config.get("telegram", "dedupe_seconds", 86_400)))
        if state else None,
        store=state.contexts("contexts", context_ttl) if state else None,
        log=log,
        feedback=(state.contexts("feedback", FEEDBACK_SECONDS), state.dedupe("feedback-marks", FEEDBACK_SECONDS))
        if state and log else None,
    )
    frontend.install(app)
    app.bot_data["frontend"] = frontend
    return app


class RetryingRateLimiter(AIORateLimiter):
    """AIORateLimiter (waits out 429s) that also retries timeouts, resets and 5xx answers, with backoff.

    Bad requests, 403s and other definite answers are never retried. A retried send that had in
    fact reached Telegram before timing out would show twice; Bot API sends carry no idempotency key.
    """

    def __init__(self, *, max_retries: int, network_retries: int = 2, backoff: float = 0.5) -> None:
        super().__init__(max_retries=max_retries)
        self._network_retries = network_retries
        self._backoff = backoff

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | dict[str, Any] | list[dict[str, Any]]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> bool | dict[str, Any] | list[dict[str, Any]]:
        """Run the request through the rate limiter; on a network error wait and try again (bounded)."""
        for attempt in range(self._network_retries + 1):
            try:
                return await super().process_request(callback, args, kwargs, endpoint, data, rate_limit_args)
            except BadRequest:
                raise
            except NetworkError as exc:  # TimedOut, connection errors, 5xx
                if attempt == self._network_retries:
                    raise
                log.warning("%s failed (%s); retry %d of %d", endpoint, exc, attempt + 1, self._network_retries)
                await asyncio.sleep(self._backoff * 2.0 ** attempt)
        raise AssertionError("unreachable")


class _NoTraceback(logging.Filter):
    """Keep PTB's retry-loop log lines but drop tracebacks of bad tokens and network errors."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Strip the traceback from matching records; never drop a record."""
        if record.exc_info and isinstance(record.exc_info[1], InvalidToken | NetworkError):
            record.exc_info = None
            record.exc_text = None
        return True


def configure_logging() -> None:
    """Timestamped INFO logs; no per-request httpx lines (their URLs contain the token)."""
    if not logging.getLogger().handlers:
        logging.basicConfig(
            level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("telegram.ext").addFilter(_NoTraceback())  # PTB's network retry loop
    # PTB >= 22.2 warns inside every RetryAfter unless this opt-in is set; resbot never reads
    # RetryAfter.retry_after itself (AIORateLimiter does, type-agnostically).
    os.environ.setdefault("PTB_TIMEDELTA", "1")


def run(config: Config, args: argparse.Namespace) -> int:
    """``resbot telegram``: long polling until SIGINT/SIGTERM; returns the exit status."""
    token = config.require_secret(TOKEN_VARIABLE)
    from bot.core import get_core

    configure_logging()
    base_url = getattr(args, "base_url", None)
    state = open_state(config)
    app = build_application(config, get_core(config), token=token, base_url=base_url, state=state,
                            log=question_log(config))

    async def close_state(_: TelegramApp) -> None:
        await state.aclose()

    app.post_shutdown = close_state
    asyncio.set_event_loop(asyncio.new_event_loop())
    try:
        app.run_polling(
            allowed_updates=list(ALLOWED_UPDATES),
            timeout=int(config.get("telegram", "poll_timeout", 10)),
            stop_signals=(signal.SIGINT, signal.SIGTERM),
        )
    except InvalidToken:
        raise ConfigError(
            f"{TOKEN_VARIABLE} was rejected by the Bot API; check it with BotFather") from None
    except NetworkError as exc:
        log.error("cannot reach the Telegram Bot API at %s: %s", base_url or config.get(
            "telegram", "base_url", DEFAULT_BASE_URL), exc)
        return 1
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m bot.channels.telegram [--base-url URL] [--config PATH]``."""
    parser = argparse.ArgumentParser(prog="python -m bot.channels.telegram")
    parser.add_argument("--base-url", default=None, help="Bot API base URL (token is appended)")
    parser.add_argument("--config", default=None, help="path to config.yaml")
    args = parser.parse_args(argv)
    try:
        return run(load_config(args.config), args)
    except ConfigError as exc:
        print(f"resbot: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
