"""What a follow-up question can lean on; the stores that keep it live in bot.state."""

from __future__ import annotations

from dataclasses import dataclass

from bot.model import Answer, Citation, Item


@dataclass(frozen=True, slots=True)
class Context:
    """What a follow-up question can lean on: the previous answer in the same chat."""

    last: Answer

    @classmethod
    def after(cls, answer: Answer) -> Context:
        """The context a conversation keeps after ``answer``: only what follow-ups read.

        Follow-ups read the question, its subject, the answer's kind and confidence and the ids it
        cited or listed; the answer's text, quotes and links would make each stored context (on
        Redis, sent and encoded with every answer) ten times larger for nothing.
        """
        return cls(last=Answer(
            question=answer.question, found=answer.found, kind=answer.kind, text="",
            citations=tuple([Citation(c.id, "", "", "", c.score) for c in answer.citations]),
            confidence=answer.confidence, items=tuple([Item("", i.cite, i.group) for i in answer.items]),
            related=answer.related, error=answer.error, subject=answer.subject))


def advance(context: Context | None, answer: Answer) -> Context | None:
    """The context a conversation keeps after ``answer``: a found answer becomes the new subject."""
    return Context.after(answer) if answer.found else context
