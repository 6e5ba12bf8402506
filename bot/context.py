"""What a follow-up question can lean on; the stores that keep it live in bot.state."""

from __future__ import annotations

from dataclasses import dataclass

from bot.model import Answer


@dataclass(frozen=True, slots=True)
class Context:
    """What a follow-up question can lean on: the previous answer in the same chat."""

    last: Answer


def advance(context: Context | None, answer: Answer) -> Context | None:
    """The context a conversation keeps after ``answer``: a found answer becomes the new subject."""
    return Context(last=answer) if answer.found else context
