"""Compare clause-ranking methods (retrieval/clauses.py) and their blend with the paragraph score.

Each method's blend is chosen on the dev sets alone (eval.yaml, eval_factual.yaml, eval_unmerged.yaml and
the shapes dev set, summed; on a tie the larger blend); then every method at its chosen blend is measured
on every set, held-out ones included, and the method with the best dev figures wins (on a tie, a clause
method over paragraph order). Held-out figures are printed, never used to choose.
Usage: .venv/bin/python benchmarks/clause_methods.py
"""

from __future__ import annotations

import copy
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.config import Config, load_config
from bot.core import Core
from bot.evaluate import Case, Report, evaluate, load_cases
from bot.shape_eval import ShapeCase, ShapeReport, evaluate_shapes, load_shape_cases

METHODS = ("none", "window", "bm25")
BLENDS = (0.0, 0.05, 0.1, 0.15, 0.3, 0.5)
DEV = ("eval.yaml", "eval_factual.yaml", "eval_unmerged.yaml")
HELD_OUT = ("eval_heldout.yaml", "eval_factual_heldout.yaml")
SHAPES_DEV, SHAPES_HELD_OUT = "eval_shapes.yaml", "eval_shapes_heldout.yaml"


def with_clauses(base: Config, method: str, blend: float) -> Config:
    """A copy of ``base`` with another clause method and blend, answers never memoised."""
    data = copy.deepcopy(dict(base.data))
    data["retrieval"] = {**data.get("retrieval", {}), "clause_method": method, "clause_blend": blend}
    data["answer"] = {**data.get("answer", {}), "cache_size": 0}
    return Config(data=data, root=base.root, environ=base.environ)


def dev_score(reports: list[Report], shapes: ShapeReport | None) -> tuple[float, ...]:
    """Order settings on the dev sets: ranked top-1 plus shapes answered right, then answer keys, headline
    keys, top-3 (counts summed)."""
    right = sum(shapes.right.values()) if shapes else 0
    return (sum(r.top1 for r in reports) - 2 * sum(r.rejected_in_topic for r in reports) + right,
            sum(r.keys_ok for r in reports), sum(r.headline_keys_ok for r in reports), sum(r.top3 for r in reports))


def row(name: str, report: Report) -> str:
    """One markdown row of figures."""
    f = report.figures
    return (f"| {name} | {report.name} | {f['top1']:.1%} | {f['top3']:.1%} | {f['answer_keys']:.1%} "
            f"| {f['headline_keys']:.1%} | {f['off_topic_rejection']:.1%} | {report.rejected_in_topic} |")


def main() -> None:
    base = load_config(environ={})
    folder = base.path("eval").parent
    sets: dict[str, list[Case]] = {n: load_cases(folder / n) for n in (*DEV, *HELD_OUT) if (folder / n).exists()}
    shapes: dict[str, list[ShapeCase]] = {n: load_shape_cases(folder / n) for n in (SHAPES_DEV, SHAPES_HELD_OUT)
                                          if (folder / n).exists()}
    chosen: dict[str, tuple[float, tuple[float, ...]]] = {}
    for method in METHODS:
        for blend in (0.0,) if method == "none" else BLENDS:
            core = Core(with_clauses(base, method, blend))
            shape_dev = evaluate_shapes(core, shapes[SHAPES_DEV], "shapes") if SHAPES_DEV in shapes else None
            score = dev_score([evaluate(core, sets[n], n) for n in DEV if n in sets], shape_dev)
            print(f"{method:7} blend {blend:.2f}: dev {score}", flush=True)
            if method not in chosen or score >= chosen[method][1]:  # ties: the larger blend lets the clause decide more
                chosen[method] = (blend, score)
    print("\n| method (blend) | set | top-1 | top-3 | answer keys | headline keys | off-topic rejected "
          "| in-topic rejected |\n|---|---|---|---|---|---|---|---|")
    for method, (blend, _) in chosen.items():
        core = Core(with_clauses(base, method, blend))
        for name, cases in sets.items():
            print(row(f"{method} ({blend})", evaluate(core, cases, name)))
        for name, shape_cases in shapes.items():
            report = evaluate_shapes(core, shape_cases, name)
            print(f"| {method} ({blend}) | {name} (shapes answered right) | {report.overall:.1%} | | | | | |")
    best = max(chosen, key=lambda m: (chosen[m][1], m != "none"))  # ties: a clause method over paragraph order
    print(f"\nbest on dev: {best} (blend {chosen[best][0]})")


if __name__ == "__main__":
    main()
