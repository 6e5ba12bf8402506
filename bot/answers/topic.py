"""Topic and locate answers: every paragraph where a subject occurs, operative first, one line each."""

from __future__ import annotations

import re
from collections.abc import Callable

from bot.answers.shapes import Shape
from bot.answers.toolkit import Toolkit, cap, join_names
from bot.model import Answer

ALTERNATIVES = re.compile(r"\s+(?:and|or|&)\s+|\s*[/,;]\s*", re.I)
MAX_LINES = 8
MAX_LOCATE = 6  # a locate question naming more paragraphs than this is answered by ranking instead
MAX_MISSING_TERMS = 3  # a longer subject with one unknown word is loose wording, left to ranking


class TopicAnswers:
    """'what does it say about X', 'anything on X', 'which paragraph mentions X'."""

    def __init__(self, kit: Toolkit, example: str, lists: Callable[[str], str | None] = lambda _: None) -> None:
        self.kit = kit
        self.example = example
        self.lists = lists  # the paragraph holding a named list the subject asks for ("ICAT's members")

    def topic(self, question: str, shape: Shape) -> Answer | None:
        """Every paragraph on the subject, or a 'not found' naming the word the text lacks."""
        found = self.kit.mentions.find(shape.subject)
        note = ""
        if found.missing:
            if len(found.terms) > MAX_MISSING_TERMS + 2:
                return None  # loose wording: ranking does better
            kept = self._present_alternatives(shape.subject)
            if not kept:
                # "wildlife trafficking", "forced labour in the fishing industry": the qualifier is what
                # was asked, and the text lacks it.
                return self.missing(question, shape.subject, found.missing, found.terms, found.in_names)
            # "war and conflict zones": answer on the part the text has, and say which words it lacks.
            note = self.kit.say("topic_partial", words="word" if len(found.missing) == 1 else "words",
                                missing=join_names([f"“{w}”" for w in found.missing]))
            found = self.kit.mentions.find(kept)
            shape = Shape(shape.name, kept, shape.group)
            if found.missing or not found.found:
                return None
        if not found.found or found.partial:
            return None  # no paragraph holds all of it: ranking does better with loose wording
        ids = found.ids + found.in_names
        if len(ids) == 1:
            return self._single(question, shape.subject, ids[0], note)
        items, tail = self.kit.listing(ids, found.subject, MAX_LINES)
        text = note + self.kit.say("topic", subject=shape.subject, count=len(ids), paragraphs="paragraphs") + tail
        cites = tuple(self.kit.citation(i.cite, i.text) for i in items[:3])
        return Answer(question=question, found=True, kind="topic", text=text, items=items, citations=cites,
                      confidence=1.0, related=ids[3:], subject=shape.subject)

    def _present_alternatives(self, subject: str) -> str:
        """The parts of an 'A and B' subject the text holds, each without a generic last word ("zones")."""
        kept = []
        for part in ALTERNATIVES.split(subject):
            words = part.split()
            if words and words[-1].lower() in self.kit.templates.generic_heads:
                words = words[:-1]
            phrase = " ".join(words)
            found = self.kit.mentions.find(phrase) if phrase else None
            if found is not None and found.terms and not found.missing and not all(
                    self.kit.mentions.common(t) for t in found.terms):
                kept.append(phrase)
        return " and ".join(kept)

    def _single(self, question: str, subject: str, chunk_id: str, note: str = "") -> Answer:
        """One paragraph on the subject: name it and quote it at full quote length."""
        chunk = self.kit.document.by_id[chunk_id]
        terms = self.kit.mentions.subject_terms(subject)
        short_enough = len(chunk.text) <= 2 * self.kit.quote_chars
        quoted = chunk.text if short_enough else self.kit.mentions.clause(chunk_id, terms, self.kit.quote_chars)
        text = note + self.kit.say("topic_one", subject=subject, label=chunk.label, cite=chunk.id,
                                   clause=self.kit.mentions.answering(chunk_id, terms))
        return Answer(question=question, found=True, kind="topic", text=text, confidence=1.0, subject=subject,
                      citations=(self.kit.citation(chunk_id, quoted),))

    def locate(self, question: str, shape: Shape) -> Answer | None:
        """The paragraph ids that hold the subject, each with its clause."""
        listed = self.lists(shape.subject)
        if listed is not None:
            return self._single(question, shape.subject, listed)
        found = self.kit.mentions.find(shape.subject)
        if not found.found or found.partial or len(found.ids) > MAX_LOCATE:
            return None
        ids = (found.ids + found.in_names)[:MAX_LOCATE]
        items, _ = self.kit.listing(ids, shape.subject, MAX_LOCATE)
        first = self.kit.document.by_id[ids[0]]
        if len(ids) == 1:
            text = self.kit.say("locate_one", subject_cap=cap(shape.subject), label=first.label, cite=first.id)
        else:
            text = self.kit.say("locate_many", subject_cap=cap(shape.subject), count=len(ids),
                                paragraphs="paragraphs", ids=join_names(list(ids)))
        cites = tuple(self.kit.citation(i.cite, i.text) for i in items[:3])
        return Answer(question=question, found=True, kind="locate", text=text, items=items, citations=cites,
                      confidence=1.0, related=found.ids[3:], subject=shape.subject)

    def missing(self, question: str, subject: str, missing: tuple[str, ...], terms: tuple[object, ...],
                in_names: tuple[str, ...] = ()) -> Answer:
        """'The resolution does not mention wildlife', naming each word the text lacks (and any name holding it)."""
        words = join_names([f"“{w}”" for w in missing])
        # Only the user's own words the text itself uses ("trafficking"), never "a" or a stem's cousin
        # ("recommend a restaurant" does not speak of "recommend a").
        present = [w for w in subject.split() if w.lower() not in {m.lower() for m in missing}
                   and self.kit.mentions.says(w)]
        rest = self.kit.say("topic_missing_rest", present=" ".join(present)) if present and len(terms) > 1 else ""
        text = self.kit.say("topic_missing", missing=words, rest=rest, example=self.example)
        if in_names:
            text += self.kit.say("only_in_names", ids=join_names(list(in_names[:6])))
        return Answer(question=question, found=False, kind="topic", text=text, subject=subject)

