"""What shape a question has (topic, locate, yes/no, overview, count, definition), from templates.yaml."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from bot.templates import Templates

_QUESTION_WORD = re.compile(
    r"^\W*(?:who|whom|whose|what|when|where|which|why|how|is|are|was|were|does|do|did|has|have|can|could|"
    r"should|would|will|must|may|list|name|show|give|tell|explain|find|define)\b", re.I)
_LEAD = re.compile(r"^(?:(?:about|on|with|to|of|up|that|which|where|regarding|concerning|re|the|this|these|"
                   r"mentions?|talks?|deals?|refers?|covers?|discuss(?:es)?|says?|is|are|speaks?|addresses|"
                   r"sets?|mentioning|naming|lists?)\s+)+", re.I)
_TRAIL = re.compile(r"(?:\s+(?:is|are|was|were|does|do|did|it|in it|there|on|in|among|amongst|of|the|a|an|"
                    r"list))+$", re.I)


_LATIN_WORD = re.compile(r"[A-Za-z]{2}")
RECENT_SHAPES = 256  # shapes kept: the texts a few questions lead to


@dataclass(frozen=True, slots=True)
class Shape:
    """A question's shape and the thing it asks about (``subject``), plus a named list if any."""

    name: str
    subject: str
    group: str = ""


def _group(m: re.Match[str], prefix: str) -> str:
    """The first non-empty group named ``prefix``, ``prefix2``, ``prefix3`` ..."""
    for name, value in m.groupdict().items():
        if value and name.rstrip("0123456789") == prefix:
            return value.strip()
    return ""


class ShapeReader:
    """Reads a question's shape with the patterns of templates.yaml, first match wins."""

    def __init__(self, templates: Templates) -> None:
        self.templates = templates
        fillers = "|".join(re.escape(f) for f in templates.subject_filler)
        self._filler = re.compile(rf"\b(?:{fillers})\b", re.I) if fillers else None
        typos = "|".join(re.escape(t) for t in templates.question_typos)
        self._typos = re.compile(rf"\b(?:{typos})\b", re.I) if typos else None
        # The core, the follow-up check and the answer kinds each ask for the same question's shape.
        self._recent = functools.lru_cache(maxsize=RECENT_SHAPES)(self._read)  # thread-safe

    def read(self, question: str) -> Shape | None:
        """The shape of ``question``, or None when it has none of the listed shapes."""
        return self._recent(question)

    def _read(self, question: str) -> Shape | None:
        if self._typos is not None:  # one pass: "whcih paragraph" -> "which paragraph"
            typos = self.templates.question_typos
            question = self._typos.sub(lambda m: typos[m.group().lower()], question)
        for name, pattern in self.templates.shapes:
            m = pattern.search(question)
            if m is None:
                continue
            subject = self.clean_subject(_group(m, "x"))
            if name not in ("overview",) and not subject:
                continue
            return Shape(name, subject, self.clean_subject(_group(m, "y")))
        return self._bare_topic(question)

    def _bare_topic(self, question: str) -> Shape | None:
        """A few words with no question word ("refugees", "victims trust fund") ask about a topic."""
        words = question.split()
        if not words or len(words) > self.templates.bare_topic_words or _QUESTION_WORD.search(question):
            return None
        subject = self.clean_subject(question)
        if not _LATIN_WORD.search(subject):
            return None  # a script the analyser cannot read: no topic to look for
        return Shape("topic", subject) if subject else None

    def clean_subject(self, text: str) -> str:
        """The subject without filler ("at all", "in the res"), leading verbs or trailing punctuation."""
        if self._filler is not None:
            text = self._filler.sub(" ", text)
        text = " ".join(text.split()).strip(" ?!.,;:-–—'\"“”")
        text = _LEAD.sub("", text)
        return _TRAIL.sub("", text).strip(" ?!.,;:-–—")
