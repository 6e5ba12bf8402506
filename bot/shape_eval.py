"""Evaluation by question shape (topic, locate, yes/no, overview, count, definition, follow-up).

Each shape has its own check of what a right answer looks like; follow-ups run through the
conversation path exactly as a chat would.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.context import Context, advance
from bot.core import Core
from bot.evaluate import answer_haystack, key_matches
from bot.model import Answer
from retrieval.yamltext import load_yaml

SHAPES = ("topic", "locate", "mention", "membership", "overview", "count", "definition", "follow_up")
# What an overview must name, at least OVERVIEW_MIN of them (each a|b alternatives).
OVERVIEW_TOPICS = ("trafficking in persons", "UNODC|Office on Drugs and Crime",
                   "ICAT|Inter-Agency Coordination Group", "Global Plan of Action", "World Day",
                   "Secretary-General", "Member States")
OVERVIEW_MIN = 3


@dataclass(frozen=True, slots=True)
class ShapeCase:
    """One question of a known shape with what its answer must show."""

    question: str
    shape: str
    gold: tuple[str, ...]
    keys: tuple[str, ...]
    start: str = ""
    after: tuple[str, ...] = ()


@dataclass
class ShapeReport:
    """Right answers per shape, and the failures behind the rest."""

    name: str
    total: dict[str, int] = field(default_factory=dict)
    right: dict[str, int] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)

    def rate(self, shape: str) -> float:
        """Share of the shape's questions answered right (1.0 when there are none)."""
        total = self.total.get(shape, 0)
        return self.right.get(shape, 0) / total if total else 1.0

    @property
    def overall(self) -> float:
        """Share of all questions answered right."""
        total = sum(self.total.values())
        return sum(self.right.values()) / total if total else 1.0


def load_shape_cases(path: Path) -> list[ShapeCase]:
    """Read a shapes evaluation YAML file."""
    data: list[dict[str, Any]] = load_yaml(path.read_text(encoding="utf-8")) or []
    return [ShapeCase(str(d["q"]), str(d["shape"]), tuple(str(g) for g in d.get("gold") or ()),
                      tuple(str(k) for k in d.get("keys") or ()), str(d.get("start") or ""),
                      tuple(str(a) for a in d.get("after") or ())) for d in data]


def cited_ids(answer: Answer) -> list[str]:
    """Every id the answer points the user to: citations, then list items, in order, once each."""
    return list(dict.fromkeys([c.id for c in answer.citations] + [i.cite for i in answer.items]))


def _keys_ok(case: ShapeCase, answer: Answer) -> bool:
    hay = answer_haystack(answer)
    return all(key_matches(k, hay) for k in case.keys)


def _cites_enough(case: ShapeCase, answer: Answer, need: int) -> bool:
    ids = cited_ids(answer)
    return sum(g in ids for g in case.gold) >= min(need, len(case.gold))


def _starts(case: ShapeCase, answer: Answer) -> bool:
    return answer.text.lower().startswith(case.start.lower())


def check_listing(case: ShapeCase, answer: Answer) -> str | None:
    """Topic and locate: every gold found is listed (at least two), or a qualifier-less 'not found'."""
    if not case.gold:
        return None if not answer.found and _keys_ok(case, answer) else "should be not found, naming the missing word"
    if not answer.found:
        return "not found"
    if not _cites_enough(case, answer, 2):
        return f"cites {cited_ids(answer)[:8]}"
    return None if _keys_ok(case, answer) else "keys"


def check_yes_no(case: ShapeCase, answer: Answer) -> str | None:
    """Mention and membership: the first word is the right Yes or No, and a Yes says where."""
    if not _starts(case, answer):
        return f"should start {case.start!r}"
    if case.start.lower() == "yes" and case.gold and not _cites_enough(case, answer, 1):
        return f"cites {cited_ids(answer)[:8]}"
    return None if _keys_ok(case, answer) else "keys"


def check_overview(case: ShapeCase, answer: Answer) -> str | None:
    """An overview names at least three of the resolution's main subjects."""
    hay = answer_haystack(answer)
    named = sum(key_matches(t, hay) for t in OVERVIEW_TOPICS)
    return None if answer.found and named >= OVERVIEW_MIN else f"names {named} main subjects"


def check_count(case: ShapeCase, answer: Answer) -> str | None:
    """A count gives the number in its headline."""
    if not answer.found:
        return "not found"
    return None if all(key_matches(k, answer.text.lower()) for k in case.keys) else "number missing"


def check_definition(case: ShapeCase, answer: Answer) -> str | None:
    """A definition names the thing in full and cites where the text speaks of it."""
    if not answer.found:
        return "not found"
    if case.gold and not _cites_enough(case, answer, 1):
        return f"cites {cited_ids(answer)[:5]}"
    return None if _keys_ok(case, answer) else "keys"


def check_follow_up(case: ShapeCase, answer: Answer) -> str | None:
    """A follow-up is judged like a factual answer: a gold citation, the keys, the first word."""
    if case.start and not _starts(case, answer):
        return f"should start {case.start!r}"
    if not case.gold:
        return None if not answer.found else "should be not found"
    if not answer.found:
        return "not found"
    if not _cites_enough(case, answer, 1):
        return f"cites {cited_ids(answer)[:5]}"
    return None if _keys_ok(case, answer) else "keys"


CHECKS: dict[str, Callable[[ShapeCase, Answer], str | None]] = {
    "topic": check_listing, "locate": check_listing, "mention": check_yes_no, "membership": check_yes_no,
    "overview": check_overview, "count": check_count, "definition": check_definition,
    "follow_up": check_follow_up,
}


def ask_in_conversation(core: Core, case: ShapeCase) -> Answer:
    """Ask the earlier messages, then the question, each with the context the chat would keep."""
    context: Context | None = None
    for earlier in case.after:
        context = advance(context, core.answer(earlier, context=context))
    return core.answer(case.question, context=context)


def evaluate_shapes(core: Core, cases: Iterable[ShapeCase], name: str) -> ShapeReport:
    """Run every case through the core (follow-ups through the conversation path) and check it."""
    report = ShapeReport(name)
    for case in cases:
        answer = ask_in_conversation(core, case)
        problem = CHECKS[case.shape](case, answer)
        report.total[case.shape] = report.total.get(case.shape, 0) + 1
        if problem is None:
            report.right[case.shape] = report.right.get(case.shape, 0) + 1
        else:
            report.failures.append(f"{case.shape}: {case.question!r} -> {problem}: {answer.text[:120]!r}")
    return report


def format_shape_table(reports: list[ShapeReport]) -> str:
    """A markdown table: one row per shape, one column per report."""
    head = "| shape | " + " | ".join(r.name for r in reports) + " |"
    lines = [head, "|---|" + "---|" * len(reports)]
    for shape in SHAPES:
        cells = [f"{r.rate(shape):.0%} ({r.right.get(shape, 0)}/{r.total.get(shape, 0)})" for r in reports]
        lines.append(f"| {shape} | " + " | ".join(cells) + " |")
    lines.append("| **all** | " + " | ".join(f"{r.overall:.1%}" for r in reports) + " |")
    return "\n".join(lines)


def run_shapes(core: Core) -> list[ShapeReport]:
    """The shapes batches: dev (tuned on) and two held-out sets (never tuned on)."""
    base = core.config.path("eval")
    reports = []
    for file, name in (("eval_shapes.yaml", "dev"), ("eval_shapes_heldout.yaml", "held-out"),
                       ("eval_shapes_heldout2.yaml", "held-out 2")):
        path = base.with_name(file)
        if path.exists():
            with core.config.reading("content.eval", path):
                cases = load_shape_cases(path)
            reports.append(evaluate_shapes(core, cases, name))
    return reports
