"""POST /api/feedback: a web page's "not helpful" button, written to the unanswered-question log.

Body: ``{"question": "<the question as asked>", "helpful": false}`` (``helpful`` may be left
out). The answer's shape comes from the core, not the client. Replies ``{"recorded": true}``
when a line was written; ``false`` when the log is off, the answer was marked helpful, or the
question was not answered at all (it is logged as "not found" already).
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from bot.channels.webcommon import Answerer, ClientError, media_type, parse_json_object, read_body

WEB_CHANNEL = "web"


class FeedbackRoute:
    """Records "not helpful" marks from the web page."""

    def __init__(self, answerer: Answerer, max_body: int, max_question_chars: int) -> None:
        self._answerer = answerer
        self._max_body = max_body
        self._max_question = max_question_chars

    async def handle(self, request: Request) -> Response:
        """Validate the mark (400 / 413 / 415 on bad input) and log it when the log is on."""
        if media_type(request) != "application/json":
            raise ClientError(415, "expected application/json")
        data = parse_json_object(await read_body(request, self._max_body))
        question = data.get("question")
        if not isinstance(question, str) or not question.strip():
            raise ClientError(400, "question must be a non-empty string")
        if len(question) > self._max_question:
            raise ClientError(400, "question too long")
        helpful = data.get("helpful", False)
        if not isinstance(helpful, bool):
            raise ClientError(400, "helpful must be true or false")
        log = self._answerer.log
        if log is None or helpful:
            return JSONResponse({"recorded": False})
        answer = await self._answerer.lookup(question)
        if not answer.found:
            return JSONResponse({"recorded": False})
        return JSONResponse({"recorded": log.unhelpful(WEB_CHANNEL, answer.question, answer.kind)})
