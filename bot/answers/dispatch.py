"""One entry point for the question shapes: read the shape, hand the question to its answer kind."""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path

from bot.answers.count import CountAnswers
from bot.answers.definition import DefinitionAnswers
from bot.answers.membership import MembershipAnswers
from bot.answers.mention import MentionAnswers
from bot.answers.overview import OverviewAnswers
from bot.answers.shapes import Shape, ShapeReader
from bot.answers.toolkit import Toolkit
from bot.answers.topic import TopicAnswers
from bot.model import Answer
from retrieval.countries import Countries, load_countries
from retrieval.structure import Directive

LATE_SHAPES = frozenset({"definition", "topic"})


class ShapeAnswers:
    """Answers by question shape; None leaves the question to the factual answer."""

    def __init__(self, kit: Toolkit, directives: tuple[Directive, ...], countries_path: Path) -> None:
        # The country table costs about 0.1 s to read: only the first yes/no on a State pays it.
        countries: Callable[[], Countries] = functools.cache(lambda: load_countries(countries_path))
        self.reader = ShapeReader(kit.templates)
        examples = kit.templates.examples
        self.mentions = MentionAnswers(kit)
        self.members = MembershipAnswers(kit, countries)
        self.topics = TopicAnswers(kit, examples[3] if len(examples) > 3 else "", self.members.list_paragraph)
        self.counts = CountAnswers(kit, self.members, countries)
        self.definitions = DefinitionAnswers(kit)
        self.overviews = OverviewAnswers(kit, directives, kit.templates.overview_verbs)
        self._handlers: dict[str, Callable[[str, Shape], Answer | None]] = {
            "overview": lambda q, s: self.overviews.overview(q),
            "count": lambda q, s: self.counts.count(q, s.subject),
            "mention": self.mentions.mention,
            "membership": self.members.answer,
            "locate": self.topics.locate,
            "topic": self.topics.topic,
            "definition": lambda q, s: self.definitions.define(q, s.subject),
        }

    def shape_of(self, question: str) -> Shape | None:
        """The question's shape, if it has one of the listed shapes."""
        return self.reader.read(question)

    def try_answer(self, question: str, shape: Shape | None, late: bool = False) -> Answer | None:
        """The answer of the question's shape (read once by the caller), or None.

        Early shapes (overview, count, yes/no, locate) are unambiguous and go first; the late ones
        (definition, topic) are broad, so the structured and document answers get their say first.
        """
        if shape is None or (shape.name in LATE_SHAPES) != late:
            return None
        return self._handlers[shape.name](question, shape)
