"""The naive baseline the issue compares against: rank-bm25 defaults on whitespace tokens.

Same chunks and evaluation questions as resbot; the top-scoring chunk is the answer and
nothing is ever rejected. Usage: .venv/bin/python benchmarks/baseline.py
"""

from __future__ import annotations

import sys
from pathlib import Path

from rank_bm25 import BM25Okapi

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.config import load_config
from bot.evaluate import load_cases
from retrieval.parse import load_document


def main() -> None:
    config = load_config(environ={})
    document = load_document(config.path("resolution"))
    chunks = list(document.chunks)
    model = BM25Okapi([c.text.lower().split() for c in chunks])
    for name in ("eval.yaml", "eval_heldout.yaml"):
        cases = [c for c in load_cases(config.path("eval").with_name(name)) if c.gold and not c.is_list]
        off = [c for c in load_cases(config.path("eval").with_name(name)) if not c.gold]
        hits = 0
        for case in cases:
            scores = model.get_scores(case.question.lower().split())
            hits += chunks[int(scores.argmax())].id in case.gold
        print(f"{name}: baseline top-1 {hits / len(cases):.1%} on {len(cases)} questions; "
              f"off-topic rejected 0/{len(off)}")


if __name__ == "__main__":
    main()
