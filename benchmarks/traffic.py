"""Questions that look like traffic: the evaluation questions, each varied so none repeats within a run.

The core memoises answers per process, so a load of one repeated question measures a dict lookup.
Here every question of the evaluation sets (those that need no earlier turn) is wrapped in polite
openers and closers and small spelling changes, giving tens of thousands of distinct strings, dealt
out in an order that visits every base question before any comes back with another wording.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path

from bot.courtesy_eval import stand_alone_questions

ROOT = Path(__file__).resolve().parent.parent
OPENERS = ("", "Quick question: ", "Hi, ", "Hello! ", "Hey, ", "Please tell me: ", "Question: ",
           "Tell me, ", "Sorry to ask, ", "Could you check: ")
CLOSERS = ("", " thanks", " please", " Thanks!", " thank you", " cheers", " ta", " thx", " pls", " ty")
SHAPES = ("{}", "{}?", "{} ?", "{}??")


def base_questions(content: Path = ROOT / "content") -> list[str]:
    """Every evaluation question that stands alone (no earlier turn), each once, in file order, without its "?"."""
    bare = (question.rstrip("?").strip() for question in stand_alone_questions(content))
    return list(dict.fromkeys(question for question in bare if question))


def variants(question: str) -> Iterator[str]:
    """Distinct wordings of one question (opener, closer and question-mark shape)."""
    for opener, closer, shape in itertools.product(OPENERS, CLOSERS, SHAPES):
        yield opener + shape.format(question + closer)


def distinct_questions(count: int, offset: int = 0, bases: list[str] | None = None) -> list[str]:
    """``count`` different questions; runs with different ``offset`` use different wordings.

    ValueError when ``count`` would need more wordings than exist.
    """
    bases = bases if bases is not None else base_questions()
    per_question = len(OPENERS) * len(CLOSERS) * len(SHAPES)
    if offset + count > len(bases) * per_question:
        raise ValueError(f"only {len(bases) * per_question} distinct questions; asked for {offset + count}")
    streams = [list(variants(q)) for q in bases]
    chosen: list[str] = []
    for index in range(offset, offset + count):
        round_, which = divmod(index, len(bases))
        chosen.append(streams[which][round_])
    return chosen
