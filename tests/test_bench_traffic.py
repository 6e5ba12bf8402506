"""benchmarks/traffic.py: distinct questions from the evaluation sets, none repeated within a run."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from bot.core import Core
from bot.evaluate import load_cases
from retrieval.nlp import clean_text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))
from traffic import base_questions, distinct_questions  # noqa: E402


def test_base_questions_are_the_standalone_evaluation_questions() -> None:
    bases = base_questions()
    follow_ups = {c.question.rstrip("?").strip() for c in load_cases(ROOT / "content" / "eval.yaml") if c.context}
    assert len(bases) > 300 and len(set(bases)) == len(bases)
    assert not follow_ups & set(bases) - {c.question.rstrip("?").strip()
                                          for c in load_cases(ROOT / "content" / "eval.yaml") if not c.context}


def test_a_run_never_repeats_a_wording_and_the_core_sees_each_question_once_a_round(core: Core) -> None:
    run = distinct_questions(40_000)
    assert len({clean_text(q) for q in run}) == 40_000
    bases = base_questions()
    assert [q.rstrip("?").strip() for q in run[: len(bases)]] == bases  # every question before any comes back
    # Without greetings and thanks the wordings of one question are one question to the core (hence
    # benchmarks/distinct.py serves with the memo off); within a round every question is new to it,
    # so its recent-analysis caches (256 entries) never answer.
    first_round = [core.asked(q) for q in run[: len(bases)]]
    assert len(set(first_round)) >= len(bases) - 5 and len(bases) > 256


def test_runs_with_different_offsets_do_not_overlap_and_the_supply_is_bounded() -> None:
    first, second = distinct_questions(5_000), distinct_questions(5_000, offset=5_000)
    assert not set(first) & set(second)
    with pytest.raises(ValueError, match="distinct questions"):
        distinct_questions(10, offset=10**7)
