"""'Does it mention X?': Yes with where, or No, naming the closest thing the text does say."""

from __future__ import annotations

from bot.answers.shapes import Shape
from bot.answers.toolkit import Toolkit, join_names
from bot.model import Answer

MAX_LINES = 6
CLOSE_MIN_COVERAGE = 0.5  # a "closest passage" must share at least this much of the subject's weight
MAX_NO_TERMS = 3  # a No is said of short subjects only: "climate change", not a sentence of loose words


class MentionAnswers:
    """Yes/no answers about whether the text names something."""

    def __init__(self, kit: Toolkit) -> None:
        self.kit = kit

    def mention(self, question: str, shape: Shape) -> Answer | None:
        """'Yes — ... in OP15' or 'No. The resolution does not mention X.'"""
        found = self.kit.mentions.find(shape.subject)
        if not found.terms and not shape.subject.isupper():
            return None  # nothing but common words: not a subject one can say yes or no about
        if found.missing and found.in_names:
            # "the aviation organization": only inside a name (the ICAO's) - a Yes that says so, never a No.
            chunk_id = found.in_names[0]
            clause = self.kit.mentions.clause(chunk_id, found.terms, 160)
            text = self.kit.say("mention_in_name", subject=shape.subject, ids=join_names(list(found.in_names[:6])))
            return Answer(question=question, found=True, kind="mention", text=text, confidence=0.8,
                          citations=(self.kit.citation(chunk_id, clause),), subject=shape.subject)
        if found.found and not found.partial:
            items, tail = self.kit.listing(found.ids, shape.subject, MAX_LINES)
            text = self.kit.say("mention_yes", subject=shape.subject, count=len(found.ids),
                                paragraphs="paragraph" if len(found.ids) == 1 else "paragraphs",
                                ids=join_names(list(found.ids))) + tail
            cites = tuple(self.kit.citation(i.cite, i.text) for i in items[:3])
            return Answer(question=question, found=True, kind="mention", text=text, items=items, citations=cites,
                          confidence=1.0, related=found.ids[3:], subject=shape.subject)
        if found.partial or (found.missing and len(found.terms) > MAX_NO_TERMS):
            return None  # every word is in the text, or the wording is loose: ranking answers, never a false No
        return self._no(question, shape.subject)

    def _no(self, question: str, subject: str) -> Answer:
        """A plain No, with the nearest passage when one shares most of the subject's words."""
        result = self.kit.searcher.search(subject, k=1, exclude_kinds=frozenset({"meta"}))
        hit = result.hits[0] if result.hits else None
        if hit is not None and hit.literal and hit.coverage >= CLOSE_MIN_COVERAGE:
            chunk = self.kit.document.by_id[hit.id]
            terms = self.kit.mentions.subject_terms(subject)
            clause = self.kit.mentions.clause(hit.id, terms, 160)
            text = self.kit.say("mention_no_close", subject=subject, label=chunk.label, cite=chunk.id,
                                closest=f"“{clause}”")
            return Answer(question=question, found=False, kind="mention", text=text,
                          citations=(self.kit.citation(chunk.id, clause),), confidence=0.5, subject=subject)
        return Answer(question=question, found=False, kind="mention", text=self.kit.say("mention_no", subject=subject),
                      confidence=1.0, subject=subject)
