"""Compare rank-bm25 variants, parameters and rejection thresholds on the dev evaluation set.

Choices are made on the dev set only; the held-out set is printed for the chosen setting
alone, so it never steers the choice.  Usage: .venv/bin/python benchmarks/tune_bm25.py
"""

from __future__ import annotations

import copy
import itertools
import sys
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.config import Config, load_config
from bot.core import Core
from bot.evaluate import Report, evaluate, load_cases

VARIANTS = ("okapi", "l", "plus")
K1 = (0.4, 0.6, 0.9, 1.2)
B = (0.3, 0.5, 0.75)
COVERAGE = (0.3, 0.35, 0.4, 0.45)
MIN_SCORE = (0.5, 1.0, 2.0)


def with_settings(base: Config, retrieval: dict[str, object]) -> Config:
    """A copy of ``base`` with some retrieval settings replaced and answers never memoised.

    Thresholds are changed on a built Core below, so a memoised answer would hide the change.
    """
    data = copy.deepcopy(dict(base.data))
    data["retrieval"] = {**data.get("retrieval", {}), **retrieval}
    data["answer"] = {**data.get("answer", {}), "cache_size": 0}
    return Config(data=data, root=base.root, environ=base.environ)


def score(report: Report) -> tuple[float, ...]:
    """Order settings: top-1 first, then off-topic rejection, then keys, then top-3."""
    f = report.figures
    return (f["top1"] - 0.02 * f["in_topic_rejected"], f["off_topic_rejection"], f["answer_keys"], f["top3"])


def main() -> None:
    base = load_config(environ={})
    dev = load_cases(base.path("eval"))
    rows = []
    for variant, k1, b in itertools.product(VARIANTS, K1, B):
        core = Core(with_settings(base, {"variant": variant, "k1": k1, "b": b}))
        for cov, floor in itertools.product(COVERAGE, MIN_SCORE):
            core.limits = replace(core.limits, min_coverage=cov, min_score=floor)
            report = evaluate(core, dev, "dev")
            rows.append((score(report), variant, k1, b, cov, floor, report))
    rows.sort(key=lambda r: r[0], reverse=True)
    print("| variant | k1 | b | min_coverage | min_score | dev top-1 | top-3 | keys | off-topic rejected "
          "| in-topic rejected |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for _, variant, k1, b, cov, floor, report in rows[:15]:
        f = report.figures
        print(f"| {variant} | {k1} | {b} | {cov} | {floor} | {f['top1']:.1%} | {f['top3']:.1%} "
              f"| {f['answer_keys']:.1%} | {f['off_topic_rejection']:.1%} | {report.rejected_in_topic} |")
    for name in VARIANTS:
        best = next(r for r in rows if r[1] == name)
        print(f"best {name}: k1={best[2]} b={best[3]} cov={best[4]} floor={best[5]} "
              f"top1={best[6].figures['top1']:.1%}")
    print("\nNormalisation at the configured settings (dev set):")
    for normaliser in ("stem", "none"):
        report = evaluate(Core(with_settings(base, {"normaliser": normaliser})), dev, "dev")
        f = report.figures
        print(f"  {normaliser}: top-1 {f['top1']:.1%}, top-3 {f['top3']:.1%}, keys {f['answer_keys']:.1%}, "
              f"off-topic rejected {f['off_topic_rejection']:.1%}, in-topic rejected {report.rejected_in_topic}")


if __name__ == "__main__":
    main()
