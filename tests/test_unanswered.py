"""bot/unanswered.py: the JSON Lines log, salted user hashes, rotation, and never failing an answer."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from pathlib import Path
from typing import Any

import pytest

from bot.config import Config, ConfigError, load_config
from bot.model import Answer
from bot.unanswered import (
    NOT_FOUND,
    UNHELPFUL,
    LogSettings,
    QuestionLog,
    backup_path,
    log_settings,
    question_log,
)

SALT = "a-salt-from-the-environment"
NOW = 1_795_900_000.0  # 2026-11-28T21:06:40Z


def not_found(question: str = "what is the population of Mexico?", kind: str = "what") -> Answer:
    """An answer saying the resolution does not cover ``question``."""
    return Answer(question=question, found=False, kind=kind, text="I could not find that in this resolution.")


def found(question: str = "when is World Day?") -> Answer:
    """A found answer."""
    return Answer(question=question, found=True, kind="when", text="30 July.")


def entries(path: Path) -> list[dict[str, Any]]:
    """Every line of a log file, parsed."""
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def make_log(path: Path, salt: str | None = SALT, **settings: int) -> QuestionLog:
    """A log at ``path`` with a fixed clock."""
    return QuestionLog(LogSettings(path, **settings), salt, clock=lambda: NOW)


def test_a_not_found_answer_is_one_json_line_with_a_salted_user_hash(tmp_path: Path) -> None:
    path = tmp_path / "unanswered.jsonl"
    log = make_log(path)
    assert log.answered("slack", not_found(), "U0RAWID42") is True
    [entry] = entries(path)
    expected = hmac.new(SALT.encode(), b"slack:U0RAWID42", hashlib.sha256).hexdigest()[:16]
    assert entry == {"time": "2026-11-28T21:06:40Z", "event": NOT_FOUND, "channel": "slack", "shape": "what",
                     "question": "what is the population of Mexico?", "user": expected}
    assert "U0RAWID42" not in path.read_text(encoding="utf-8")


def test_found_and_unusable_answers_are_not_logged(tmp_path: Path) -> None:
    path = tmp_path / "unanswered.jsonl"
    log = make_log(path)
    assert log.answered("cli", found()) is False
    empty = Answer(question="", found=False, kind="invalid", text="Please ask a question.", error="empty")
    assert log.answered("cli", empty) is False
    assert not path.exists()


def test_unhelpful_marks_are_logged_with_their_shape(tmp_path: Path) -> None:
    path = tmp_path / "unanswered.jsonl"
    log = make_log(path)
    assert log.unhelpful("telegram", "when is World Day?", "when", 918273645)
    [entry] = entries(path)
    assert entry["event"] == UNHELPFUL and entry["shape"] == "when" and entry["channel"] == "telegram"
    assert entry["user"] and "918273645" not in path.read_text(encoding="utf-8")


def test_hashes_differ_by_channel_and_salt_and_are_absent_without_either(tmp_path: Path) -> None:
    log = make_log(tmp_path / "a.jsonl")
    assert log.user_hash("slack", "U1") == log.user_hash("slack", "U1")
    assert log.user_hash("slack", "U1") != log.user_hash("mattermost", "U1")
    assert log.user_hash("slack", "U1") != make_log(tmp_path / "b.jsonl", salt="other").user_hash("slack", "U1")
    assert log.user_hash("slack", None) is None and log.user_hash("slack", "") is None
    unsalted = make_log(tmp_path / "c.jsonl", salt=None)
    unsalted.answered("slack", not_found(), "U1")
    assert entries(tmp_path / "c.jsonl")[0]["user"] is None


def test_question_text_is_kept_verbatim_as_json(tmp_path: Path) -> None:
    path = tmp_path / "unanswered.jsonl"
    question = 'is "<script>" in it?\nمرحبا 🙂'
    make_log(path).answered("web", not_found(question))
    assert entries(path)[0]["question"] == question
    assert len(path.read_text(encoding="utf-8").splitlines()) == 1


def test_rotation_by_size_keeps_the_configured_number_of_files(tmp_path: Path) -> None:
    path = tmp_path / "unanswered.jsonl"
    log = make_log(path, max_bytes=1024, backups=2)
    for n in range(40):
        log.answered("cli", not_found(f"question number {n:02d} about something else entirely"))
    files = sorted(tmp_path.iterdir())
    assert files == [path, backup_path(path, 1), backup_path(path, 2)]
    assert all(f.stat().st_size <= 1024 for f in files)
    newest, older = entries(path), entries(backup_path(path, 1))
    assert newest[-1]["question"].startswith("question number 39")
    assert older[-1]["question"] < newest[0]["question"]  # .1 holds the entries just before


def test_rotation_without_backups_starts_the_file_afresh(tmp_path: Path) -> None:
    path = tmp_path / "unanswered.jsonl"
    log = make_log(path, max_bytes=1024, backups=0)
    for n in range(40):
        log.answered("cli", not_found(f"question number {n:02d} about something else entirely"))
    assert list(tmp_path.iterdir()) == [path]
    assert entries(path)[-1]["question"].startswith("question number 39")


def test_a_full_disk_never_raises_and_warns_once(caplog: pytest.LogCaptureFixture) -> None:
    log = make_log(Path("/dev/full"))
    with caplog.at_level(logging.WARNING, logger="resbot.unanswered"):
        assert log.answered("slack", not_found(), "U1") is False
        assert log.answered("slack", not_found(), "U1") is False
    assert log.dropped == 2
    warnings = [r for r in caplog.records if "cannot write" in r.getMessage()]
    assert len(warnings) == 1 and "/dev/full" in warnings[0].getMessage()


def test_an_unwritable_path_never_raises_and_recovers(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the log's folder should be", encoding="utf-8")
    log = make_log(blocker / "unanswered.jsonl")
    with caplog.at_level(logging.WARNING, logger="resbot.unanswered"):
        assert log.answered("cli", not_found()) is False
        blocker.unlink()
        assert log.answered("cli", not_found()) is True  # the folder is created once it can be
    assert [r.getMessage() for r in caplog.records][-1].startswith("writing the unanswered-question log")
    assert len(entries(blocker / "unanswered.jsonl")) == 1


def test_a_directory_in_place_of_the_file_never_raises(tmp_path: Path) -> None:
    log = make_log(tmp_path)
    assert log.answered("cli", not_found()) is False


def config_with(tmp_path: Path, section: dict[str, Any] | None, environ: dict[str, str] | None = None) -> Config:
    """The project config with another ``unanswered`` section, rooted at ``tmp_path``."""
    data = dict(load_config(environ={}).data)
    if section is None:
        data.pop("unanswered", None)
    else:
        data["unanswered"] = section
    return Config(data=data, root=tmp_path, environ=environ or {})


def test_the_log_is_off_by_default(tmp_path: Path) -> None:
    assert load_config(environ={}).get("unanswered", "enabled") is False
    assert question_log(load_config(environ={})) is None
    assert question_log(config_with(tmp_path, None)) is None


def test_settings_resolve_a_relative_path_against_the_config_folder(tmp_path: Path) -> None:
    settings = log_settings(config_with(tmp_path, {"enabled": True, "path": "logs/q.jsonl", "max_bytes": 4096,
                                                   "backups": 1}))
    assert settings == LogSettings(tmp_path / "logs" / "q.jsonl", 4096, 1)
    log = question_log(config_with(tmp_path, {"enabled": True}, {"RESBOT_LOG_SALT": SALT}))
    assert log is not None and log.path == tmp_path / "unanswered.jsonl" and log.user_hash("x", "1")


def test_without_a_salt_the_log_warns_and_keeps_no_user(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="resbot.unanswered"):
        log = question_log(config_with(tmp_path, {"enabled": True}))
    assert log is not None and log.user_hash("slack", "U1") is None
    assert "RESBOT_LOG_SALT is not set" in caplog.text


@pytest.mark.parametrize(("section", "named"), [
    ({"enabled": "yes"}, "unanswered.enabled"),
    ({"enabled": True, "path": ""}, "unanswered.path"),
    ({"enabled": True, "path": 5}, "unanswered.path"),
    ({"enabled": True, "max_bytes": "big"}, "unanswered.max_bytes"),
    ({"enabled": True, "max_bytes": 10}, "unanswered.max_bytes"),
    ({"enabled": False, "backups": -1}, "unanswered.backups"),
])
def test_bad_settings_name_the_setting(tmp_path: Path, section: dict[str, Any], named: str) -> None:
    with pytest.raises(ConfigError, match=named.replace(".", r"\.")):
        question_log(config_with(tmp_path, section))
