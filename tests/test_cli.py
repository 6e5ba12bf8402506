from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli import chat_reply, main
from bot.core import Core

ROOT = Path(__file__).resolve().parent.parent


def run_cli(*args: str, stdin: bytes = b"") -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([sys.executable, "-m", "bot", *args], input=stdin, capture_output=True, cwd=ROOT,
                          timeout=120, check=False)


def test_ask_prints_answer_quote_and_sources(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ask", "when", "is", "World", "Day?"]) == 0
    out = capsys.readouterr().out
    assert "30 July" in out and "“Further recalls its decision to designate 30 July" in out
    assert "Sources: OP5 (operative paragraph 5)" in out


def test_ask_json_shape(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ask", "--json", "who coordinates ICAT?"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert set(data) >= {"question", "found", "kind", "answer", "text", "confidence", "citations"}
    # the headline (wrapped at the terminal's width), then quote and sources
    assert data["text"] and " ".join(data["answer"].split()).startswith(" ".join(data["text"].split()))
    assert data["found"] is True and data["kind"] == "who" and 0 <= data["confidence"] <= 1
    first = data["citations"][0]
    assert first["id"] in {"PP16", "OP10"} and first["label"].endswith(first["id"][2:])
    assert isinstance(first["score"], float) and first["text"]
    scores = [c["score"] for c in data["citations"]]
    assert scores == sorted(scores, reverse=True)


def test_ask_reads_stdin_lines_in_order() -> None:
    result = run_cli("ask", "--json", stdin=b"when is world day?\n\nlist the sponsors\nfootnote 11\n")
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.decode().splitlines()]
    assert [d["question"] for d in lines] == ["when is world day?", "list the sponsors", "footnote 11"]
    assert b"Traceback" not in result.stderr


def test_invalid_utf8_on_stdin_is_reported() -> None:
    result = run_cli("ask", stdin=b"when is world day?\n\xff\xfe\n")
    assert result.returncode == 2
    assert b"not valid UTF-8" in result.stderr and b"Traceback" not in result.stderr
    assert b"30 July" in result.stdout


@pytest.mark.parametrize(("question", "code", "message"), [(" ", 2, "Please ask a question"),
                                                           ("x" * 100_000, 2, "too long"),
                                                           ("\x00\x1b[31mwhen is world day?\r", 0, "30 July")])
def test_bad_input(question: str, code: int, message: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ask", question]) == code
    captured = capsys.readouterr()
    assert message in captured.out and "Traceback" not in captured.err


def test_show(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["show", "PP8(c)"]) == 0
    assert "To promote comprehensive, coordinated and consistent responses" in capsys.readouterr().out
    assert main(["show", "OP99"]) == 2
    assert "22 operative paragraphs" in capsys.readouterr().out


def test_chat_from_a_pipe() -> None:
    result = run_cli("chat", stdin=b"who coordinates ICAT?\n/help\n/quit\nnever reached\n")
    assert result.returncode == 0
    out = result.stdout.decode()
    assert "Office on Drugs and Crime" in out and "I answer questions" in out and "never" not in out


def test_chat_json_keeps_the_conversation() -> None:
    messages = b"who coordinates ICAT?\nand when is World Day?\nis Russia a sponsor?\nand Canada?\n"
    result = run_cli("chat", "--json", stdin=messages)
    assert result.returncode == 0
    answers = [json.loads(line) for line in result.stdout.decode().splitlines()]
    assert len(answers) == 4
    assert {"question", "found", "kind", "answer", "citations"} <= set(answers[0])
    assert answers[1]["citations"][0]["id"] == "OP5" and "30 July" in answers[1]["answer"]
    assert answers[3]["answer"].startswith("No") and "Canada" in answers[3]["answer"]


def test_chat_keeps_context(core: Core) -> None:
    reply, context = chat_reply(core, "when is world day?", None)
    assert "30 July" in reply and context is not None and context.last.citations[0].id == "OP5"


def test_missing_telegram_token_is_one_line(monkeypatch: pytest.MonkeyPatch,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv("TELEGRAM_BOT_TOKEN", raising=False)
    assert main(["telegram"]) == 2
    err = capsys.readouterr().err.strip()
    assert "TELEGRAM_BOT_TOKEN" in err and "\n" not in err


def test_ask_path_does_not_import_channel_stacks() -> None:
    code = ("import sys; from bot.cli import main; main(['ask', 'when is world day?']); "
            "stacks = ('telegram', 'starlette', 'uvicorn', 'slack_sdk'); "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in stacks))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, cwd=ROOT, timeout=120, check=True)
    assert result.stdout.decode().strip().splitlines()[-1] == "[]"


def test_every_subcommand_is_documented_in_readme() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for command in ("ask", "chat", "show", "eval", "telegram", "serve"):
        assert f"resbot {command}" in readme, command


def test_eval_verbose_lists_dev_failures_but_hides_held_out_ones(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["eval", "-v"]) == 0
    out = capsys.readouterr().out
    assert "| dev |" in out and "| held-out |" in out
    assert "held-out failures" not in out
    assert main(["eval", "--show-heldout"]) == 0
    assert "held-out failures" in capsys.readouterr().out
