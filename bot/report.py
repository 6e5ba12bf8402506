"""`resbot report`: the most frequent unanswered questions in the log, grouped by normalised text."""

from __future__ import annotations

import json
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.unanswered import NOT_FOUND, UNHELPFUL, backup_path

NON_WORD = re.compile(r"[^\w]+")
QUESTION_WIDTH = 70


def normalise(question: str) -> str:
    """The grouping key of a question: case, accents' forms, punctuation and spacing folded."""
    text = unicodedata.normalize("NFKC", question).casefold()
    return " ".join(NON_WORD.sub(" ", text).split())


@dataclass
class Group:
    """Every logged entry of one normalised question."""

    key: str
    wordings: Counter[str] = field(default_factory=Counter)
    events: Counter[str] = field(default_factory=Counter)
    channels: Counter[str] = field(default_factory=Counter)
    shapes: Counter[str] = field(default_factory=Counter)
    users: set[str] = field(default_factory=set)
    first: str = ""
    last: str = ""

    @property
    def count(self) -> int:
        """How many entries the group holds."""
        return sum(self.events.values())

    @property
    def question(self) -> str:
        """The wording users used most (the first seen on a tie)."""
        return self.wordings.most_common(1)[0][0]

    def add(self, record: dict[str, Any]) -> None:
        """Count one entry."""
        self.wordings[str(record["question"]).strip()] += 1
        self.events[str(record.get("event") or NOT_FOUND)] += 1
        self.channels[str(record.get("channel") or "?")] += 1
        self.shapes[str(record.get("shape") or "?")] += 1
        if isinstance(record.get("user"), str):
            self.users.add(record["user"])
        stamp = str(record.get("time") or "")
        self.first = min(self.first, stamp) if self.first else stamp
        self.last = max(self.last, stamp)

    def as_json(self) -> dict[str, Any]:
        """The group for ``--json``."""
        return {"question": self.question, "normalised": self.key, "count": self.count,
                "not_found": self.events[NOT_FOUND], "unhelpful": self.events[UNHELPFUL],
                "channels": dict(self.channels.most_common()), "shapes": dict(self.shapes.most_common()),
                "users": len(self.users), "first": self.first, "last": self.last}


@dataclass
class Report:
    """The groups of a set of log files, most frequent first, and what could not be read."""

    files: list[Path]
    groups: list[Group]
    entries: int
    skipped: int

    def as_json(self, top: int) -> dict[str, Any]:
        """The report for ``--json``."""
        return {"files": [str(p) for p in self.files], "entries": self.entries, "skipped_lines": self.skipped,
                "distinct_questions": len(self.groups), "questions": [g.as_json() for g in self.groups[:top]]}


def log_files(path: Path) -> list[Path]:
    """``path`` and its rotated files that exist, oldest last."""
    files = [path] if path.exists() else []
    number = 1
    while backup_path(path, number).exists() and number < 1000:
        files.append(backup_path(path, number))
        number += 1
    return files


def records(lines: Iterable[str]) -> Iterable[dict[str, Any] | None]:
    """Each line as an entry, or None when it is not one (a cut or foreign line)."""
    for line in lines:
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError:
            yield None
            continue
        ok = isinstance(record, dict) and isinstance(record.get("question"), str) and record["question"].strip()
        yield record if ok else None


def build_report(files: Sequence[Path]) -> Report:
    """Read every file (OSError propagates) and group the entries by normalised question."""
    groups: dict[str, Group] = {}
    entries = skipped = 0
    for path in files:
        with path.open(encoding="utf-8", errors="replace") as handle:
            for record in records(handle):
                if record is None:
                    skipped += 1
                    continue
                entries += 1
                key = normalise(record["question"]) or record["question"].strip()
                groups.setdefault(key, Group(key)).add(record)
    ordered = sorted(groups.values(), key=lambda g: (-g.count, g.key))
    return Report(list(files), ordered, entries, skipped)


def _counts(counter: Counter[str]) -> str:
    """``telegram 3, slack 1``."""
    return ", ".join(f"{name} {count}" for name, count in counter.most_common())


def _cut(text: str, width: int) -> str:
    """One line of at most ``width`` characters."""
    line = " ".join(text.split())
    return line if len(line) <= width else line[: width - 1] + "…"


def format_report(report: Report, top: int) -> str:
    """The report as a plain-text table."""
    users = len(set().union(*(g.users for g in report.groups))) if report.groups else 0
    names = ", ".join(str(p) for p in report.files)
    head = [f"Unanswered questions: {report.entries} entries, {len(report.groups)} distinct questions, "
            f"{users} users (hashed), from {names}"]
    if report.skipped:
        head.append(f"({report.skipped} lines were not log entries and were skipped)")
    if not report.groups:
        return "\n".join([*head, "Nothing logged yet."])
    first = min(g.first for g in report.groups)
    last = max(g.last for g in report.groups)
    head.append(f"From {first} to {last}; the {min(top, len(report.groups))} most frequent:")
    rows = [("count", "not found", "unhelpful", "channels", "shapes", "question")]
    for group in report.groups[:top]:
        rows.append((str(group.count), str(group.events[NOT_FOUND]), str(group.events[UNHELPFUL]),
                     _counts(group.channels), _counts(group.shapes), _cut(group.question, QUESTION_WIDTH)))
    widths = [max(len(row[i]) for row in rows) for i in range(5)]
    lines = []
    for row in rows:
        cells = [row[i].rjust(widths[i]) if i < 3 else row[i].ljust(widths[i]) for i in range(5)]
        lines.append("  ".join([*cells, row[5]]).rstrip())
    return "\n".join([*head, "", *lines])
