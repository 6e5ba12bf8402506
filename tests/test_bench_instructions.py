"""benchmarks/instructions.py: the distinct-question report and the server-time target in instructions."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))

import instructions


def test_the_web_paths_share_and_the_target_are_computed_from_the_counts() -> None:
    lines = instructions.distinct_report({"memory": 3_400_000.0, "Redis": 3_740_000.0}, 2_000_000.0, 400_000.0)
    text = "\n".join(lines)
    assert "Redis / memory: 1.10" in text
    assert "web path beyond the core and the ceiling: 1,000,000 (50% of the core)" in text
    assert "target 3,400,000 <= 1.5x core + ceiling = 3,400,000: met" in text


def test_a_server_over_its_allowance_is_not_met() -> None:
    text = "\n".join(instructions.distinct_report({"memory": 3_500_000.0}, 2_000_000.0, 400_000.0))
    assert "Redis / memory" not in text
    assert "= 3,400,000: not met" in text


def test_the_counted_questions_follow_the_warm_up_and_never_repeat() -> None:
    questions = instructions.distinct_questions_sent()
    assert len(questions) == instructions.WARMUP + instructions.DISTINCT_REQUESTS
    assert len(set(questions)) == len(questions)
