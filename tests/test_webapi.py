"""POST /api/ask and GET /api/document on the real ASGI server (loopback), with a scripted and the real core."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from bot.channels.web import document_view
from bot.cli import main
from bot.core import Core
from bot.render.document import DocumentView
from tests.fakes.web_harness import Stack, cleared, plain_answer, raw_request, running

JSON = {"Content-Type": "application/json"}


@pytest.fixture(scope="module")
def view(core: Core) -> DocumentView:
    return document_view(core)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def api_stack(view: DocumentView) -> AsyncIterator[Stack]:
    """A scripted core behind the API, no rate limit."""
    async with running(env={}, document=view, ask_rate_limit=0) as stack:
        yield stack


@pytest_asyncio.fixture(loop_scope="module")
async def api(api_stack: Stack) -> Stack:
    return cleared(api_stack)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def real(core: Core, view: DocumentView) -> AsyncIterator[Stack]:
    """The real answer core behind the API."""
    async with running(core=core, env={}, document=view, ask_rate_limit=0) as stack:
        yield stack


async def ask(st: Stack, body: object, **kwargs: object) -> tuple[int, dict[str, object]]:
    reply = await st.post("/api/ask", content=json.dumps(body).encode(), headers=JSON, **kwargs)  # type: ignore[arg-type]
    assert reply.headers["content-type"] == "application/json"
    return reply.status_code, reply.json()


@pytest.mark.asyncio(loop_scope="module")
async def test_the_answer_is_the_cli_json_plus_a_conversation(real: Stack,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    status, data = await ask(real, {"question": "when is World Day?", "conversation": None})
    assert status == 200
    assert main(["ask", "--json", "when is World Day?"]) == 0
    cli = json.loads(capsys.readouterr().out)
    conversation = data.pop("conversation")
    assert data == cli
    assert isinstance(conversation, str) and len(conversation) >= 16
    assert "30 July" in str(data["text"]) and data["citations"][0]["id"] == "OP5"  # type: ignore[index]


@pytest.mark.asyncio(loop_scope="module")
async def test_a_follow_up_uses_the_conversation(real: Stack) -> None:
    _, first = await ask(real, {"question": "who coordinates ICAT?", "conversation": None})
    _, more = await ask(real, {"question": "more", "conversation": first["conversation"]})
    assert more["conversation"] == first["conversation"]
    assert more["found"] is True and more["kind"] == "more" and "who coordinates ICAT?" in str(more["text"])
    _, alone = await ask(real, {"question": "more", "conversation": None})
    assert alone["kind"] != "more"  # without the conversation there is nothing to go on


@pytest.mark.asyncio(loop_scope="module")
async def test_conversations_are_kept_apart(api: Stack) -> None:
    _, one = await ask(api, {"question": "first", "conversation": None})
    _, two = await ask(api, {"question": "second"})
    assert one["conversation"] != two["conversation"]
    await ask(api, {"question": "again", "conversation": one["conversation"]})
    assert api.core.contexts[0] is None and api.core.contexts[1] is None
    context = api.core.contexts[2]
    assert context is not None and context.last.question == "first"


@pytest.mark.asyncio(loop_scope="module")
async def test_the_question_is_echoed_as_data_never_markup(api: Stack) -> None:
    status, data = await ask(api, {"question": "<img src=x onerror=alert(1)>", "conversation": None})
    assert status == 200 and data["question"] == "<img src=x onerror=alert(1)>"


@pytest.mark.asyncio(loop_scope="module")
@pytest.mark.parametrize(("body", "message"), [
    ({}, "missing field: question"),
    ({"conversation": None}, "missing field: question"),
    ({"question": 5}, "question must be a string"),
    ({"question": None}, "question must be a string"),
    ({"question": ["a"]}, "question must be a string"),
    ({"question": "hi", "conversation": 3}, "conversation must be null or an id"),
    ({"question": "hi", "conversation": "short"}, "conversation must be null or an id"),
    ({"question": "hi", "conversation": "x" * 65}, "conversation must be null or an id"),
    ({"question": "hi", "conversation": "abc def ghi jkl mno"}, "conversation must be null or an id"),
    ([], "expected a JSON object"),
    ("question", "expected a JSON object"),
])
async def test_wrong_fields_are_400(api: Stack, body: object, message: str) -> None:
    status, data = await ask(api, body)
    assert status == 400 and str(data["error"]).startswith(message)
    assert api.core.questions == []


@pytest.mark.asyncio(loop_scope="module")
@pytest.mark.parametrize(("question", "code"), [("", "empty"), ("   ", "empty"), ("x" * 1001, "too_long")])
async def test_empty_and_over_long_questions_are_400(api: Stack, question: str, code: str) -> None:
    status, data = await ask(api, {"question": question, "conversation": None})
    assert status == 400 and data["code"] == code and data["error"]


@pytest.mark.asyncio(loop_scope="module")
async def test_the_real_core_refuses_empty_and_long_questions(real: Stack) -> None:
    for question, code in (("\u200b \x00", "empty"), ("why " * 400, "too_long")):
        status, data = await ask(real, {"question": question})
        assert status == 400 and data["code"] == code, question


@pytest.mark.asyncio(loop_scope="module")
@pytest.mark.parametrize("body", [b"{", b"not json", b'{"question": "a"', b"\xff\xfe{}", b"[" * 100_00])
async def test_malformed_bodies_are_400(api: Stack, body: bytes) -> None:
    reply = await api.post("/api/ask", content=body, headers=JSON)
    assert reply.status_code == 400 and "error" in reply.json()


@pytest.mark.asyncio(loop_scope="module")
@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data",
                                          "", "application/jsonx"])
async def test_other_content_types_are_415(api: Stack, content_type: str) -> None:
    headers = {"Content-Type": content_type} if content_type else {}
    reply = await api.post("/api/ask", content=b'{"question": "hi"}', headers=headers)
    assert reply.status_code == 415 and "application/json" in reply.json()["error"]
    assert api.core.questions == []


@pytest.mark.asyncio(loop_scope="module")
async def test_json_with_a_charset_is_accepted(api: Stack) -> None:
    reply = await api.post("/api/ask", content=b'{"question": "hi"}',
                           headers={"Content-Type": "application/json; charset=utf-8"})
    assert reply.status_code == 200 and reply.json()["text"] == "You asked: hi"


@pytest.mark.asyncio(loop_scope="module")
async def test_bodies_over_the_limit_are_413(api: Stack) -> None:
    big = json.dumps({"question": "a" * 20_000}).encode()
    reply = await api.post("/api/ask", content=big, headers=JSON)
    assert reply.status_code == 413 and reply.json() == {"error": "body too large"}
    async def pieces() -> AsyncIterator[bytes]:
        yield big[:10_000]
        yield big[10_000:]

    chunked = await api.post("/api/ask", content=pieces(), headers=JSON)
    assert chunked.status_code == 413  # no Content-Length: counted while reading


@pytest.mark.asyncio(loop_scope="module")
@pytest.mark.parametrize(("method", "path"), [("GET", "/api/ask"), ("PUT", "/api/ask"), ("DELETE", "/api/ask"),
                                              ("POST", "/api/document"), ("POST", "/")])
async def test_wrong_methods_are_405_json(api: Stack, method: str, path: str) -> None:
    reply = await api.client.request(method, api.server.url + path)
    assert reply.status_code == 405 and reply.json()["error"] == "method not allowed"
    assert reply.headers["x-content-type-options"] == "nosniff"


@pytest.mark.asyncio(loop_scope="module")
async def test_api_responses_carry_security_headers(api: Stack) -> None:
    reply = await api.post("/api/ask", content=b'{"question": "hi"}', headers=JSON)
    assert reply.headers["x-content-type-options"] == "nosniff"
    assert reply.headers["referrer-policy"] == "no-referrer"
    assert "frame-ancestors 'none'" in reply.headers["content-security-policy"]
    assert reply.headers["cache-control"] == "no-store"


@pytest.mark.asyncio(loop_scope="module")
async def test_document_json(api: Stack, view: DocumentView) -> None:
    reply = await api.get("/api/document")
    assert reply.status_code == 200 and reply.headers["content-type"] == "application/json"
    data = reply.json()
    ids = [p["id"] for p in data["preamble"]] + [p["id"] for p in data["operative"]]
    assert ids[:2] == ["PP1", "PP2"] and ids[-1] == "OP22"
    assert data["footnotes"][10]["id"] == "FN11"
    again = await api.get("/api/document", headers={"If-None-Match": reply.headers["etag"]})
    assert again.status_code == 304 and again.content == b""


@pytest.mark.asyncio(loop_scope="module")
async def test_the_answer_is_found_or_not_found_with_200(api: Stack) -> None:
    api.core.replies["population of Mexico?"] = plain_answer("population of Mexico?", "Not in this resolution.",
                                                             found=False)
    status, data = await ask(api, {"question": "population of Mexico?"})
    assert status == 200 and data["found"] is False and data["citations"] == []


async def test_the_rate_limit_answers_429_with_retry_after() -> None:
    async with running(env={}, ask_rate_limit=3, ask_rate_window_seconds=120) as st:
        codes = []
        for _ in range(5):
            reply = await st.post("/api/ask", content=b'{"question": "hi"}', headers=JSON)
            codes.append(reply.status_code)
        assert codes == [200, 200, 200, 429, 429]
        assert 110 <= int(reply.headers["retry-after"]) <= 120
        assert "too many questions" in reply.json()["error"]
        assert len(st.core.questions) == 3
        bad = await st.post("/api/ask", content=b"{", headers=JSON)
        assert bad.status_code == 429  # counted before the body is read
        assert (await st.get("/api/document")).status_code == 404  # no document given, and never limited


async def test_loopback_is_exempt_only_when_config_says_so() -> None:
    async with running(env={}, ask_rate_limit=1, ask_rate_limit_loopback=False) as st:
        codes = [(await st.post("/api/ask", content=b'{"question": "hi"}', headers=JSON)).status_code
                 for _ in range(4)]
        assert codes == [200, 200, 200, 200]


async def test_the_api_and_the_page_can_be_switched_off(view: DocumentView) -> None:
    async with running(env={}, document=view, api=False, page=False) as st:
        for method, path in (("POST", "/api/ask"), ("GET", "/api/document"), ("GET", "/"),
                             ("GET", "/static/page.js")):
            reply = await st.client.request(method, st.server.url + path, headers=JSON)
            assert reply.status_code == 404, path
        assert (await st.get("/healthz")).status_code == 200


async def test_a_bad_window_is_a_config_error() -> None:
    from bot.config import ConfigError

    with pytest.raises(ConfigError, match="ask_rate_window_seconds"):
        async with running(env={}, ask_rate_limit=5, ask_rate_window_seconds=0):
            pass


@pytest.mark.asyncio(loop_scope="module")
async def test_a_huge_header_is_refused_and_the_server_lives_on(api: Stack) -> None:
    reply = await raw_request(api.server.port, "POST", "/api/ask", b'{"question": "hi"}',
                              {"Content-Type": "application/json", "X-Big": "a" * 70_000})
    assert reply.status in (400, 431)
    assert (await api.post("/api/ask", content=b'{"question": "hi"}', headers=JSON)).status_code == 200
