"""'What is X?' for a named thing: its full name and what the text says of it, where it first appears."""

from __future__ import annotations

import re

from bot.answers.toolkit import Toolkit, join_names
from bot.model import Answer
from retrieval.glossary import Concept

MAX_LEFTOVER_WORDS = 0  # words of the subject outside the name: none ("weather in Doha" is no definition)
_WORD = re.compile(r"[A-Za-z0-9]+")


class DefinitionAnswers:
    """Definitions of the glossary's named things (instruments, bodies, funds, events, mandates)."""

    def __init__(self, kit: Toolkit) -> None:
        self.kit = kit

    def define(self, question: str, subject: str) -> Answer | None:
        """The named thing's full name and first mention, or None when the subject names no one thing."""
        concept = self._concept(subject)
        if concept is None:
            return None
        ids = [c.id for c in self.kit.document.chunks if c.kind not in ("meta", "footnote")
               and concept.token in self.kit.searcher.index.doc_terms[self._position(c.id)]]
        if not ids:
            return None
        terms = self.kit.mentions.subject_terms(subject)
        clause = self.kit.mentions.clause(ids[0], terms, self.kit.quote_chars)
        text = self.kit.say("definition", name=_cap(concept.name), clause=f"“{clause}”", cite=ids[0])
        if len(ids) > 1:
            text += self.kit.say("definition_more", ids=join_names(ids[1:8]) + (" …" if len(ids) > 8 else ""))
        cites = (self.kit.citation(ids[0], clause), *(self.kit.citation(i) for i in ids[1:3]))
        return Answer(question=question, found=True, kind="definition", text=text, citations=cites,
                      confidence=1.0, related=tuple(ids[3:]), subject=subject)

    def _concept(self, subject: str) -> Concept | None:
        """The one concept the subject names, when little else is said."""
        analyzer = self.kit.searcher.analyzer
        entities = [e for e in analyzer.analyze(subject).entities if e.concept.startswith("@")]
        if not entities:
            return self._by_name_words(subject)
        if len({e.concept for e in entities}) != 1:
            return None
        e = entities[0]
        rest = subject[: e.start] + " " + subject[e.end:]
        leftover = [w for w in _WORD.findall(rest.lower()) if w not in analyzer.stopwords]
        if len(leftover) > MAX_LEFTOVER_WORDS:
            return None
        return analyzer.glossary.concept_for_token(e.concept)

    def _by_name_words(self, subject: str) -> Concept | None:
        """The one concept whose full name holds every word of the subject ("the fund on contemporary forms
        of slavery" is the Voluntary Trust Fund on Contemporary Forms of Slavery)."""
        analyzer = self.kit.searcher.analyzer
        words = {analyzer.stem(w) for w in _WORD.findall(subject.lower()) if w not in analyzer.stopwords}
        if len(words) < 2:
            return None
        matches = [c for c in analyzer.glossary.concepts.values()
                   if words <= {analyzer.stem(w) for w in _WORD.findall(c.name.lower())}]
        return matches[0] if len(matches) == 1 else None

    def _position(self, chunk_id: str) -> int:
        return next(i for i, c in enumerate(self.kit.document.chunks) if c.id == chunk_id)


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]
