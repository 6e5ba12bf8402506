"""Courtesy invariance: the same answer whether a question is asked bare or wrapped in a greeting or thanks.

Every stand-alone evaluation question is asked bare, then once with each opener and once with each
closer of content/courtesy_eval.yaml. A wrapped wording counts as kept when its answer is found
exactly when the bare one is and cites the same paragraph first.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from bot.core import Core
from bot.evaluate import load_cases
from bot.model import Answer
from retrieval.yamltext import load_yaml

COURTESY_FILE = "courtesy_eval.yaml"  # not eval*.yaml: those files hold question cases


@dataclass(frozen=True, slots=True)
class Wrappers:
    """Openers put before a question and closers put after it."""

    openers: tuple[str, ...]
    closers: tuple[str, ...]

    def wordings(self, question: str) -> list[str]:
        """The question once with each opener and once with each closer."""
        return [opener + question for opener in self.openers] + [question + closer for closer in self.closers]


@dataclass
class CourtesyReport:
    """How many wrapped wordings kept the bare question's answer, and some that did not."""

    name: str
    kept: int = 0
    total: int = 0
    changed: list[str] = field(default_factory=list)

    @property
    def share(self) -> float:
        """Kept wordings over all wrapped wordings (1.0 when there were none)."""
        return self.kept / self.total if self.total else 1.0


def load_wrappers(path: Path) -> dict[str, Wrappers]:
    """The named wrapper sets (dev, held_out) of a courtesy file."""
    data = load_yaml(path.read_text(encoding="utf-8")) or {}
    return {str(name): Wrappers(tuple(str(o) for o in spec.get("openers") or ()),
                                tuple(str(c) for c in spec.get("closers") or ()))
            for name, spec in data.items()}


def stand_alone_questions(eval_dir: Path) -> list[str]:
    """Every evaluation question that needs no earlier turn, each once, in file order."""
    seen: dict[str, None] = {}
    for path in sorted(eval_dir.glob("eval*.yaml")):
        for case in load_cases(path):
            question = case.question.strip()
            if question and not case.context:
                seen.setdefault(question, None)
    return list(seen)


def outcome(answer: Answer) -> tuple[bool, str]:
    """What must not change: found or not, and the first cited paragraph."""
    return answer.found, answer.citations[0].id if answer.citations else ""


def evaluate_courtesy(core: Core, questions: Sequence[str], wrappers: Wrappers, name: str) -> CourtesyReport:
    """Ask each question bare and wrapped; count the wrapped wordings whose outcome is the bare one's."""
    report = CourtesyReport(name)
    for question in questions:
        bare = outcome(core.answer(question))
        for wording in wrappers.wordings(question):
            report.total += 1
            got = outcome(core.answer(wording))
            if got == bare:
                report.kept += 1
            else:
                report.changed.append(f"{wording!r}: {got} (bare: {bare})")
    return report


def run_courtesy(core: Core) -> list[CourtesyReport]:
    """The dev and held-out wrapper sets over every stand-alone evaluation question (none without the file)."""
    base = core.config.path("eval")
    path = base.with_name(COURTESY_FILE)
    if not path.exists():
        return []
    with core.config.reading("content.eval", path):
        sets = load_wrappers(path)
        questions = stand_alone_questions(base.parent)
    return [evaluate_courtesy(core, questions, wrappers, name.replace("_", "-")) for name, wrappers in sets.items()]


def format_courtesy_table(reports: Sequence[CourtesyReport]) -> str:
    """Markdown: per wrapper set, the share of wrapped wordings answered as the bare question."""
    lines = ["| wrappers | wordings | same answer as bare |", "|---|---|---|"]
    lines += [f"| {r.name} | {r.total} | {r.share:.1%} ({r.kept}/{r.total}) |" for r in reports]
    return "\n".join(lines)
