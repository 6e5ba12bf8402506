"""POST /api/feedback: a web page's "not helpful" mark lands in the log; bad input gets a 4xx, never a 500."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bot.core import Core
from tests.fakes.web_harness import full_env, running

FOUND = "when is World Day?"
NOT_FOUND = "what is the population of Mexico?"


def entries(path: Path) -> list[dict[str, Any]]:
    """Every line of the log, parsed."""
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


async def test_a_not_helpful_mark_is_logged_with_the_cores_shape(tmp_path: Path, core: Core) -> None:
    path = tmp_path / "unanswered.jsonl"
    async with running(core=core, env=full_env(RESBOT_LOG_SALT="s"), unanswered={"enabled": True,
                                                                                  "path": str(path)}) as st:
        marked = await st.post("/api/feedback", json={"question": FOUND, "helpful": False})
        assert marked.status_code == 200 and marked.json() == {"recorded": True}
        assert (await st.post("/api/feedback", json={"question": FOUND})).json() == {"recorded": True}
        helpful = await st.post("/api/feedback", json={"question": FOUND, "helpful": True})
        assert helpful.json() == {"recorded": False}
        unanswered = await st.post("/api/feedback", json={"question": NOT_FOUND})
        assert unanswered.json() == {"recorded": False}  # logged as "not found" when it was asked
        metrics = (await st.get("/metrics")).text
    assert [(e["event"], e["channel"], e["shape"], e["question"], e["user"]) for e in entries(path)] == [
        ("unhelpful", "web", "when", FOUND, None)] * 2
    assert "resbot_answers_total{" not in metrics  # a mark is not an answer


async def test_marks_are_accepted_but_not_recorded_when_the_log_is_off(tmp_path: Path) -> None:
    async with running(unanswered={"enabled": False, "path": str(tmp_path / "u.jsonl")}) as st:
        reply = await st.post("/api/feedback", json={"question": FOUND})
    assert reply.status_code == 200 and reply.json() == {"recorded": False}
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(("body", "content_type", "status", "error"), [
    (b'{"question": "q"}', "text/plain", 415, "expected application/json"),
    (b"{not json", "application/json", 400, "malformed JSON"),
    (b"[1, 2]", "application/json", 400, "expected a JSON object"),
    (b'{"question": ""}', "application/json", 400, "question must be a non-empty string"),
    (b'{"question": 5}', "application/json", 400, "question must be a non-empty string"),
    (b'{"question": "q", "helpful": "no"}', "application/json", 400, "helpful must be true or false"),
    (json.dumps({"question": "x" * 1001}).encode(), "application/json", 400, "question too long"),
    (b'{"question": "\xff"}', "application/json", 400, "body is not UTF-8"),
    (json.dumps({"question": "x" * 70_000}).encode(), "application/json", 413, "body too large"),
])
async def test_bad_marks_get_a_clear_4xx(tmp_path: Path, body: bytes, content_type: str, status: int,
                                        error: str) -> None:
    async with running(unanswered={"enabled": True, "path": str(tmp_path / "u.jsonl")}) as st:
        reply = await st.post("/api/feedback", content=body, headers={"Content-Type": content_type})
        assert (reply.status_code, reply.json()) == (status, {"error": error})
        assert (await st.get("/api/feedback")).status_code == 405
    assert list(tmp_path.iterdir()) == []


async def test_a_mark_on_a_full_disk_is_answered_not_recorded(core: Core) -> None:
    async with running(core=core, unanswered={"enabled": True, "path": "/dev/full"}) as st:
        reply = await st.post("/api/feedback", json={"question": FOUND})
    assert reply.status_code == 200 and reply.json() == {"recorded": False}
