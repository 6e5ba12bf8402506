"""bot/report.py and `resbot report`: grouping by normalised text, counts per channel and shape, --json."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from bot.cli import main
from bot.config import PROJECT_ROOT, load_config
from bot.report import build_report, format_report, log_files, normalise
from bot.unanswered import LogSettings, QuestionLog, backup_path
from tests.fakes.web_harness import MATTERMOST_TOKEN, free_socket


def write_log(path: Path, rows: list[dict[str, Any]], extra_lines: tuple[str, ...] = ()) -> None:
    """A log file of ``rows`` (each given fields over a default entry) and any raw lines."""
    lines = [json.dumps({"time": "2026-11-29T10:00:00Z", "event": "not_found", "channel": "cli", "shape": "what",
                        "question": "q", "user": None, **row}) for row in rows]
    path.write_text("\n".join([*lines, *extra_lines]) + "\n", encoding="utf-8")


ROWS = [
    {"question": "What is the population of Mexico?", "channel": "telegram", "user": "aaaa",
     "time": "2026-11-29T09:00:00Z"},
    {"question": "what is the population of mexico", "channel": "telegram", "user": "bbbb"},
    {"question": "What is the  population of Mexico?!", "channel": "slack", "shape": "who", "user": "aaaa",
     "time": "2026-11-29T11:00:00Z"},
    {"question": "when is World Day?", "channel": "web", "shape": "when", "event": "unhelpful"},
    {"question": "how tall is Everest?", "channel": "mattermost"},
]


def test_normalise_folds_case_punctuation_spacing_and_width() -> None:
    assert normalise("  What is the  POPULATION of Mexico?! ") == "what is the population of mexico"
    assert normalise("ＩＣＡＴ’s role") == normalise("icat's role") == "icat s role"
    assert normalise("64/293") == "64 293"


def test_report_groups_counts_and_orders_by_frequency(tmp_path: Path) -> None:
    path = tmp_path / "u.jsonl"
    write_log(path, ROWS)
    report = build_report([path])
    assert report.entries == 5 and report.skipped == 0
    top = report.groups[0].as_json()
    assert top == {"question": "What is the population of Mexico?", "normalised": "what is the population of mexico",
                   "count": 3, "not_found": 3, "unhelpful": 0, "channels": {"telegram": 2, "slack": 1},
                   "shapes": {"what": 2, "who": 1}, "users": 2, "first": "2026-11-29T09:00:00Z",
                   "last": "2026-11-29T11:00:00Z"}
    assert [g.key for g in report.groups[1:]] == ["how tall is everest", "when is world day"]
    assert report.groups[2].as_json()["unhelpful"] == 1


def test_lines_that_are_not_entries_are_skipped_and_counted(tmp_path: Path) -> None:
    path = tmp_path / "u.jsonl"
    write_log(path, ROWS[:1], ('{"time": "2026-11-29T10:00:00Z", "question": "cut off', "[]", '{"question": ""}',
                               "plain text"))
    report = build_report([path])
    assert report.entries == 1 and report.skipped == 4
    assert "4 lines were not log entries" in format_report(report, 10)


def test_text_report_is_a_table_most_frequent_first(tmp_path: Path) -> None:
    path = tmp_path / "u.jsonl"
    write_log(path, ROWS)
    text = format_report(build_report([path]), 2)
    lines = text.splitlines()
    assert lines[0].startswith("Unanswered questions: 5 entries, 3 distinct questions, 2 users (hashed)")
    assert "the 2 most frequent" in lines[1]
    header = next(i for i, line in enumerate(lines) if line.startswith("count"))
    assert lines[header].split() == ["count", "not", "found", "unhelpful", "channels", "shapes", "question"]
    first = lines[header + 1]
    assert first.split()[:3] == ["3", "3", "0"] and "telegram 2, slack 1" in first
    assert first.endswith("What is the population of Mexico?")
    assert len(lines) == header + 3  # --top 2


def test_log_files_include_rotated_ones_in_order(tmp_path: Path) -> None:
    path = tmp_path / "unanswered.jsonl"
    log = QuestionLog(LogSettings(path, max_bytes=1024, backups=2), None)
    from bot.model import Answer

    for n in range(30):
        log.answered("cli", Answer(f"question {n} about nothing in the text at all", False, "what", "no"))
    assert log_files(path) == [path, backup_path(path, 1), backup_path(path, 2)]
    assert build_report(log_files(path)).entries == sum(
        len(p.read_text(encoding="utf-8").splitlines()) for p in log_files(path))


def config_file(tmp_path: Path, **unanswered: Any) -> Path:
    """A config file in ``tmp_path``: the project's, content paths absolute, the log section as given."""
    data = dict(load_config(environ={}).data)
    data["content"] = {key: str(PROJECT_ROOT / value) for key, value in data["content"].items()}
    data["retrieval"] = {**data["retrieval"], "cache_dir": str(PROJECT_ROOT / ".cache")}
    data["unanswered"] = unanswered
    path = tmp_path / "resbot.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


def test_cli_report_reads_the_configured_log_and_its_rotated_files(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = config_file(tmp_path, enabled=True, path="u.jsonl")
    write_log(tmp_path / "u.jsonl", ROWS[:2])
    write_log(tmp_path / "u.jsonl.1", ROWS[2:])
    assert main(["--config", str(config), "report", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["files"] == [str(tmp_path / "u.jsonl"), str(tmp_path / "u.jsonl.1")]
    assert data["entries"] == 5 and data["distinct_questions"] == 3 and data["questions"][0]["count"] == 3
    assert main(["--config", str(config), "report", str(tmp_path / "u.jsonl.1"), "--top", "1"]) == 0
    text = capsys.readouterr().out
    assert "3 entries, 3 distinct questions" in text and "the 1 most frequent" in text


def test_cli_report_on_an_empty_log_says_so(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "u.jsonl").write_text("", encoding="utf-8")
    assert main(["report", str(tmp_path / "u.jsonl")]) == 0
    assert "Nothing logged yet." in capsys.readouterr().out


@pytest.mark.parametrize(("args", "message"), [
    (["report"], "no unanswered-question log at {tmp}/u.jsonl (setting unanswered.path; the log is off: "
                 "unanswered.enabled)"),
    (["report", "{tmp}/missing.jsonl"], "cannot read {tmp}/missing.jsonl: No such file or directory"),
    (["report", "{tmp}"], "cannot read {tmp}: Is a directory"),
    (["report", "--top", "0", "{tmp}/missing.jsonl"], "--top must be at least 1, got 0"),
])
def test_cli_report_errors_are_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str],
                                        message: str) -> None:
    config = config_file(tmp_path, enabled=False, path="u.jsonl")
    assert main(["--config", str(config), *(a.format(tmp=tmp_path) for a in args)]) == 2
    err = capsys.readouterr().err
    assert err == f"resbot: {message.format(tmp=tmp_path)}\n"


def test_report_on_a_log_written_by_a_real_resbot_serve(tmp_path: Path) -> None:
    log = tmp_path / "unanswered.jsonl"
    config = config_file(tmp_path, enabled=True, path=str(log))
    sock = free_socket()
    port = sock.getsockname()[1]
    sock.close()
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("SLACK_", "TELEGRAM_", "MATTERMOST_", "ROCKETCHAT_", "WEBHOOK", "REDIS", "RESBOT"))}
    env.update({"MATTERMOST_TOKEN": MATTERMOST_TOKEN, "RESBOT_LOG_SALT": "serve-salt"})
    proc = subprocess.Popen([sys.executable, "-m", "bot", "--config", str(config), "serve", "--host", "127.0.0.1",
                             "--port", str(port)], cwd=tmp_path, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, proc.communicate()[0].decode()
            try:
                httpx.get(url + "/healthz", timeout=2)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "server did not start"
                time.sleep(0.2)
        for question, user in [("what is the population of Mexico?", "u1"), ("What is the population of Mexico", "u2"),
                               ("how tall is Mount Everest?", "u1"), ("when is World Day?", "u1")]:
            reply = httpx.post(url + "/mattermost", timeout=10, headers={"Authorization": f"Token {MATTERMOST_TOKEN}"},
                               data={"command": "/resbot", "channel_id": "c1", "user_id": user, "text": question})
            assert reply.status_code == 200
        assert httpx.post(url + "/api/feedback", json={"question": "who coordinates ICAT?"}, timeout=10).json() == {
            "recorded": True}
    finally:
        proc.send_signal(signal.SIGTERM)
        output = proc.communicate(timeout=15)[0].decode()
    assert "Traceback" not in output
    done = subprocess.run([sys.executable, "-m", "bot", "report", str(log), "--json"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["entries"] == 4 and data["skipped_lines"] == 0
    first = data["questions"][0]
    assert (first["normalised"], first["count"], first["channels"], first["users"]) == (
        "what is the population of mexico", 2, {"mattermost": 2}, 2)
    assert {q["normalised"]: q["unhelpful"] for q in data["questions"]}["who coordinates icat"] == 1
    assert "u1" not in log.read_text(encoding="utf-8").replace('"user"', "")
    text = subprocess.run([sys.executable, "-m", "bot", "report", str(log)], cwd=tmp_path, capture_output=True,
                          text=True, timeout=60, check=False)
    assert text.returncode == 0 and "how tall is Mount Everest?" in text.stdout
