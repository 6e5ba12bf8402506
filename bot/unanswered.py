"""The opt-in log of what went unanswered: JSON Lines, user ids only as salted hashes, rotated by size.

Each line is one event: a question the resolution does not answer (``not_found``) or an answer
a user marked as unhelpful (``unhelpful``), with its time, channel, question shape
(``Answer.kind``) and the question as the core cleaned it. Writing never raises: a full disk or
an unwritable file is logged as a warning and the answer goes out as usual.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import hmac
import json
import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.config import Config, ConfigError
from bot.model import Answer

log = logging.getLogger("resbot.unanswered")

SECTION = "unanswered"
SALT_VARIABLE = "RESBOT_LOG_SALT"
NOT_FOUND = "not_found"
UNHELPFUL = "unhelpful"
DEFAULT_PATH = "unanswered.jsonl"
DEFAULT_MAX_BYTES = 1_048_576
DEFAULT_BACKUPS = 3


@dataclass(frozen=True, slots=True)
class LogSettings:
    """Where the log goes and when it is rotated."""

    path: Path
    max_bytes: int = DEFAULT_MAX_BYTES
    backups: int = DEFAULT_BACKUPS


def backup_path(path: Path, number: int) -> Path:
    """The ``number``-th rotated file of ``path`` (``unanswered.jsonl.1`` is the newest)."""
    return path.with_name(f"{path.name}.{number}")


def utc_stamp(seconds: float) -> str:
    """ISO 8601 UTC time to the second, e.g. ``2026-11-29T17:02:03Z``."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(seconds))


class QuestionLog:
    """Appends unanswered questions and unhelpful marks to a size-rotated JSON Lines file."""

    def __init__(self, settings: LogSettings, salt: str | None,
                 clock: Callable[[], float] = time.time) -> None:
        self.settings = settings
        self._salt = salt.encode("utf-8") if salt else None
        self._clock = clock
        self._lock = threading.Lock()
        self._failing = False
        self.dropped = 0

    @property
    def path(self) -> Path:
        """The current (newest) file."""
        return self.settings.path

    def user_hash(self, channel: str, user: str | int | None) -> str | None:
        """A salted hash standing for one user of one channel; None without a user or a salt."""
        if user is None or user == "" or self._salt is None:
            return None
        digest = hmac.new(self._salt, f"{channel}:{user}".encode(), hashlib.sha256)
        return digest.hexdigest()[:16]

    def answered(self, channel: str, answer: Answer, user: str | int | None = None) -> bool:
        """Log ``answer`` if it says the resolution does not answer a usable question; True if written."""
        if answer.found or not answer.usable or answer.kind == "courtesy":  # "hi", "thanks": nothing was asked
            return False
        return self._append(NOT_FOUND, channel, answer.kind, answer.question, user)

    def unhelpful(self, channel: str, question: str, kind: str, user: str | int | None = None) -> bool:
        """Log an answer a user marked as unhelpful; True if written."""
        return self._append(UNHELPFUL, channel, kind, question, user)

    def _append(self, event: str, channel: str, kind: str, question: str, user: str | int | None) -> bool:
        """One JSON line; any OSError is logged (once until writing works again), never raised."""
        record: dict[str, Any] = {"time": utc_stamp(self._clock()), "event": event, "channel": channel,
                                  "shape": kind, "question": question, "user": self.user_hash(channel, user)}
        line = (json.dumps(record, ensure_ascii=False) + "\n").encode("utf-8")
        with self._lock:
            try:
                self._write(line)
            except OSError as exc:
                self.dropped += 1
                if not self._failing:
                    log.warning("cannot write the unanswered-question log %s (%s); answering goes on "
                                "without it", self.path, exc.strerror or exc)
                self._failing = True
                return False
            if self._failing:
                log.warning("writing the unanswered-question log %s again (%d entries lost)",
                            self.path, self.dropped)
                self._failing = False
        return True

    def _write(self, line: bytes) -> None:
        """Rotate if ``line`` would pass the size limit, then append it whole or not at all."""
        path = self.path
        path.parent.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(FileNotFoundError):
            size = path.stat().st_size
            if size and size + len(line) > self.settings.max_bytes:
                self._rotate()
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            size = os.fstat(fd).st_size
            try:
                if os.write(fd, line) != len(line):
                    raise OSError(errno.ENOSPC, "short write")
            except OSError:
                _truncate(fd, size)  # no half line for the next entry to be glued to
                raise
        finally:
            os.close(fd)

    def _rotate(self) -> None:
        """``log`` -> ``log.1`` -> ``log.2`` ...; the oldest beyond ``backups`` is dropped."""
        path, backups = self.path, self.settings.backups
        if backups <= 0:
            path.unlink(missing_ok=True)
            return
        backup_path(path, backups).unlink(missing_ok=True)
        for number in range(backups - 1, 0, -1):
            older = backup_path(path, number)
            if older.exists():
                older.rename(backup_path(path, number + 1))
        path.rename(backup_path(path, 1))


def _truncate(fd: int, size: int) -> None:
    """Cut the file back to ``size`` bytes if it can be (not on a device such as /dev/full)."""
    with contextlib.suppress(OSError):
        os.ftruncate(fd, size)


def _setting_int(config: Config, key: str, default: int, minimum: int) -> int:
    """An integer setting of the ``unanswered`` section, at least ``minimum``."""
    raw = config.get(SECTION, key, default)
    if isinstance(raw, bool) or not isinstance(raw, int) or raw < minimum:
        raise ConfigError(f"{SECTION}.{key}: must be a whole number of at least {minimum}, got {raw!r}{config.where()}")
    return raw


def configured_path(config: Config) -> Path:
    """Where the log is (or would be) written, whether or not it is on."""
    raw = config.get(SECTION, "path", DEFAULT_PATH)
    if not isinstance(raw, str) or not raw.strip():
        raise ConfigError(f"{SECTION}.path: must be a file name, got {raw!r}{config.where()}")
    return config.output_path(raw)


def log_settings(config: Config) -> LogSettings | None:
    """The log's settings from ``config`` (checked even when off), or None when it is off (the default)."""
    enabled = config.get(SECTION, "enabled", False)
    if not isinstance(enabled, bool):
        raise ConfigError(f"{SECTION}.enabled: must be true or false, got {enabled!r}{config.where()}")
    path = configured_path(config)
    max_bytes = _setting_int(config, "max_bytes", DEFAULT_MAX_BYTES, 1024)
    backups = _setting_int(config, "backups", DEFAULT_BACKUPS, 0)
    return LogSettings(path, max_bytes, backups) if enabled else None


def question_log(config: Config) -> QuestionLog | None:
    """The log ``config`` asks for, or None when it is off; warns when user ids cannot be hashed."""
    settings = log_settings(config)
    if settings is None:
        return None
    salt = config.secret(SALT_VARIABLE)
    if salt is None:
        log.warning("%s is not set: the unanswered-question log leaves user ids out", SALT_VARIABLE)
    return QuestionLog(settings, salt)
