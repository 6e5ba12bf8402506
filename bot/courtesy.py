"""Greetings before a question and thanks after it, so that a polite question is answered as a bare one.

"Hi, quick question: when is World Day? thanks!" is answered as "when is World Day?". The words
come from ``courtesy`` in content/templates.yaml; a message that is nothing but courtesy is told
apart (a greeting or thanks) so the core can reply in kind.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

# Between a greeting or opener and the question, or before a closing "thanks".
_SEPARATOR = r"[\s,;:.!\-–—]"
_END_OF_WORD = r"(?=[\s,;:.!?\-–—]|$)"
_TRAILING = " \t\n,;:.!?-–—"  # what may stand between the question, its closers and the end


def _one_question_mark(text: str) -> str:
    """``text`` ending in one "?" where it ended in several marks with one among them ("do ??", "do?!")."""
    head = text.rstrip(" \t\n?!.")
    return head + "?" if head and "?" in text[len(head):] else text


@dataclass(frozen=True, slots=True)
class Stripped:
    """The question without its courtesy, and what was around it."""

    question: str
    greeted: bool = False  # something stood before the question ("Hi,", "Sorry to ask,", "Thanks! and")
    thanked: bool = False  # thanks were given, after the question or before it

    @property
    def only_courtesy(self) -> bool:
        """True when nothing but courtesy was said ("hi", "thanks!"), not for a message with no words at all."""
        return (self.greeted or self.thanked) and not any(ch.isalnum() for ch in self.question)


def _alternatives(phrases: Iterable[str], backwards: bool = False) -> str:
    """A regex alternation of ``phrases``, longest first, each with flexible white space (``backwards``: reversed)."""
    ordered = sorted({str(p).strip().lower() for p in phrases if str(p).strip()}, key=len, reverse=True)
    if backwards:
        ordered = [" ".join(word[::-1] for word in reversed(phrase.split())) for phrase in ordered]
    return "|".join(r"\s+".join(re.escape(word) for word in phrase.split()) for phrase in ordered)


class Courtesy:
    """Finds greetings and openers at the start of a message and thanks at its end."""

    def __init__(self, greetings: Iterable[str] = (), names: Iterable[str] = (), openers: Iterable[str] = (),
                 closers: Iterable[str] = ()) -> None:
        greetings, openers, closers = tuple(greetings), tuple(openers), tuple(closers)
        greeting, name, opener, closer = (_alternatives(greetings), _alternatives(names),
                                          _alternatives(openers), _alternatives(closers))
        # Most messages start and end with none of these words: a set look-up spares them the patterns.
        self._first_words = frozenset(p.split()[0].lower() for p in (*greetings, *openers) if p.split())
        self._last_words = frozenset(p.split()[-1].lower() for p in closers if p.split())
        parts = []
        if greeting:  # "hi", "hello there", "hey bot,": a space is separation enough
            addressed = rf"(?:\s+(?:{name}))?" if name else ""
            parts.append(rf"(?:{greeting}){addressed}{_END_OF_WORD}(?:{_SEPARATOR}+|$)")
        if opener:  # "quick question:", "sorry to ask,": only with punctuation after them
            parts.append(rf"(?:{opener})\s*[,;:!\-–—]+\s*")
        self._opening = re.compile(rf"^(?:{'|'.join(parts)})+", re.I) if parts else None
        # Closers are matched on the reversed text, one at a time from its end: linear in the message,
        # where one pattern anchored at the end backtracks badly on long runs of punctuation.
        backwards = _alternatives(closers, backwards=True)
        self._closer_backwards = re.compile(rf"(?:{backwards})(?:\s+(?:dna|&))?(?={_SEPARATOR}|$)",
                                            re.I) if backwards else None
        self._thanks = re.compile(rf"(?:^|\s)(?:{closer}){_END_OF_WORD}", re.I) if closer else None

    @classmethod
    def from_data(cls, data: Mapping[str, Any] | None) -> Courtesy:
        """From the ``courtesy`` mapping of templates.yaml (greetings, names, openers, closers lists)."""
        data = data or {}
        return cls(*(tuple(str(p) for p in data.get(key) or ()) for key in ("greetings", "names", "openers",
                                                                               "closers")))

    def separate(self, text: str) -> Stripped:
        """``text`` without the greeting before it and the thanks after it; final marks with a "?" become one "?"."""
        greeted = thanked = False
        words = text.split(maxsplit=1)
        if not words:
            return Stripped(text.strip())
        opens = words[0].rstrip(_TRAILING).lower() in self._first_words
        if opens and self._opening is not None and (m := self._opening.match(text)) is not None:
            greeted = True
            thanked = self._thanks is not None and self._thanks.search(m.group()) is not None  # "thanks! and ..."
            text = text[m.end():]
        last = text.rstrip(_TRAILING).rsplit(maxsplit=1)
        closed = self._closers_end(text) if last and last[-1].lower() in self._last_words else 0
        if closed:
            head = text[: len(text) - closed].rstrip()
            if "?" in text[len(head):] and head and not head.endswith("?"):  # "... World Day cheers??"
                head += "?"
            text, thanked = head, True
        return Stripped(_one_question_mark(text.strip()), greeted, thanked)

    def _closers_end(self, text: str) -> int:
        """How many characters from the end hold closers (and the marks among them); 0 when none."""
        if self._closer_backwards is None:
            return 0
        backwards, position, closed = text[::-1], 0, 0
        while True:
            while position < len(backwards) and backwards[position] in _TRAILING:
                position += 1
            m = self._closer_backwards.match(backwards, position)
            if m is None:
                return closed
            position = closed = m.end()
