"""Courtesy invariance floors: a greeting or thanks around a question does not change its answer."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.core import Core
from bot.courtesy_eval import (
    CourtesyReport,
    Wrappers,
    evaluate_courtesy,
    format_courtesy_table,
    load_wrappers,
    run_courtesy,
    stand_alone_questions,
)


@pytest.fixture(scope="module")
def reports(core: Core) -> dict[str, CourtesyReport]:
    return {r.name: r for r in run_courtesy(core)}


def test_every_stand_alone_question_is_asked_with_every_wrapper(core: Core, reports: dict[str, CourtesyReport]) -> None:
    questions = stand_alone_questions(core.config.path("eval").parent)
    sets = load_wrappers(core.config.path("eval").with_name("courtesy_eval.yaml"))
    assert len(questions) >= 800 and set(reports) == {"dev", "held-out"}
    for name, wrappers in sets.items():
        assert reports[name.replace("_", "-")].total == len(questions) * (len(wrappers.openers) + len(wrappers.closers))
    assert not set(sets["dev"].openers) & set(sets["held_out"].openers)
    assert not set(sets["dev"].closers) & set(sets["held_out"].closers)


def test_dev_floor(reports: dict[str, CourtesyReport]) -> None:
    assert reports["dev"].share >= 0.99, reports["dev"].changed[:20]


def test_heldout_does_not_regress(reports: dict[str, CourtesyReport]) -> None:
    # Written before the stripping existed and never tuned on: a guard at the first figure, not a target.
    assert reports["held-out"].share >= 0.92


def test_a_changed_answer_is_counted_and_listed(core: Core) -> None:
    report = evaluate_courtesy(core, ["when is World Day?"], Wrappers(("Hi, ",), (" and is Canada a sponsor",)), "t")
    assert (report.kept, report.total) == (1, 2)
    assert "is Canada a sponsor" in report.changed[0]
    assert "| t | 2 | 50.0% (1/2) |" in format_courtesy_table([report])


def test_wrappers_put_openers_before_and_closers_after() -> None:
    assert Wrappers(("Hi, ",), (" thanks",)).wordings("q?") == ["Hi, q?", "q? thanks"]


def test_the_file_is_read_from_the_content_folder(tmp_path: Path) -> None:
    (tmp_path / "courtesy_eval.yaml").write_text("dev: {openers: ['Yo, '], closers: []}\n", encoding="utf-8")
    assert load_wrappers(tmp_path / "courtesy_eval.yaml") == {"dev": Wrappers(("Yo, ",), ())}
