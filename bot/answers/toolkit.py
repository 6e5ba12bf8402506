"""What every answer kind works with: the document, search, clause finder and templates."""

from __future__ import annotations

from dataclasses import dataclass

from bot.answers.mentions import MentionIndex
from bot.extract import Segment, quote
from bot.model import Citation, Item
from bot.templates import Templates
from retrieval.parse import Chunk, Document
from retrieval.search import Searcher

LINE_CHARS = 200  # one listing line: the clause that holds the subject


def plural(count: int, word: str) -> str:
    """'1 paragraph', '3 paragraphs'."""
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def join_names(names: list[str]) -> str:
    """'a', 'a and b', 'a, b and c'."""
    if not names:
        return ""
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def cap(text: str) -> str:
    """The text with its first letter in capitals."""
    return text[:1].upper() + text[1:]


@dataclass(frozen=True)
class Toolkit:
    """Shared, read-only helpers handed to each answer kind."""

    document: Document
    searcher: Searcher
    templates: Templates
    segments: dict[str, tuple[Segment, ...]]
    mentions: MentionIndex
    quote_chars: int

    def say(self, key: str, **fields: object) -> str:
        """The shape_answers template ``key`` filled in."""
        return self.templates.shape_answers[key].format(**fields)

    def citation(self, chunk_id: str, quoted: str | None = None, score: float = 1.0) -> Citation:
        """A citation of one chunk, with ``quoted`` or its opening as the quote."""
        chunk = self.document.by_id[chunk_id]
        return Citation(chunk.id, chunk.label, chunk.text, quoted if quoted is not None else self.opening(chunk),
                        score)

    def opening(self, chunk: Chunk) -> str:
        """The first clauses of a chunk, up to the quote length."""
        return quote(chunk.text, self.segments[chunk.id], 0, self.quote_chars)

    def listing(self, ids: tuple[str, ...], subject: str, cap_lines: int) -> tuple[tuple[Item, ...], str]:
        """One line per paragraph (its clause on ``subject``), capped; and the 'and N more' tail."""
        terms = self.mentions.subject_terms(subject)
        items = tuple(Item(self.mentions.clause(cid, terms, LINE_CHARS), cid) for cid in ids[:cap_lines])
        rest = ids[cap_lines:]
        tail = " " + self.say("topic_more", more=len(rest), ids=", ".join(rest)) if rest else ""
        return items, tail
