"""Follow-ups inherit the conversation's subject, never the previous answer's type.

"and the US?" after "is Russia a sponsor?" becomes "is the US a sponsor?"; "when was it held?"
after "what was the Bangkok meeting about?" becomes "when was the Bangkok meeting held?"; "and
when is World Day?" is a question of its own and is answered as one.
"""

from __future__ import annotations

import re

from bot.answers.shapes import ShapeReader
from bot.model import Answer
from retrieval.nlp import Analyzer

_PRONOUN = re.compile(r"\b(?:it|its|it's|that|this|they|them|their|those|these|one|ones|he|she|his|her)\b",
                      re.I)
# "does it mention", "did they sponsor it": here "it" is the resolution, not the conversation's subject.
_DOCUMENT_PRONOUN = re.compile(r"\b(?:does|did|do|will|would) (?:it|they) (?:say|mention|talk|cover|address|ask|"
                               r"urge|call|want|recommend|request|invite|encourage|refer|deal|discuss|speak|include)|"
                               r"\b(?:sponsor|support|draft|write|submit|table|put)(?:ed|s)? it\b", re.I)
_QUESTION = re.compile(r"^\W*(?:who|whom|whose|what|when|where|which|why|how|is|are|was|were|does|do|did|has|"
                       r"have|can|could|should|would|will|must|list|name|show|tell|give)\b", re.I)
_EDGE_PUNCTUATION = ".,;:!?()[]\"'“”‘’"
NAMING_SHAPES = frozenset({"membership", "mention", "locate", "count"})  # shapes whose subject is named outright
MAX_ELLIPTIC_TERMS = 2  # a follow-up with more words of its own than this stands on its own


class FollowUps:
    """Rewrites a follow-up as a standalone question from the conversation's last answer."""

    def __init__(self, analyzer: Analyzer, reader: ShapeReader, detail_words: tuple[str, ...] = (),
                 document_names: tuple[str, ...] = ()) -> None:
        self.analyzer = analyzer
        self.reader = reader
        self.detail_words = frozenset(analyzer.stem(w) for w in detail_words)
        names = "|".join(re.escape(n) for n in sorted(document_names, key=len, reverse=True))
        self._document_name = re.compile(rf"\b(?:{names})\b", re.I) if names else None
        rules = getattr(analyzer.nlp.tokenizer, "rules", None) or {}
        self._special = frozenset(word.lower() for word in rules)  # "youre" is two tokens

    def is_question(self, text: str) -> bool:
        """True when ``text`` asks something by itself ("when is World Day"), not a bare name ("Canada", "WHO")."""
        first = text.split()[0] if text.split() else ""
        return bool(_QUESTION.search(text)) and not (first.isupper() and len(first) > 1)

    def swap_subject(self, last: Answer, rest: str) -> str | None:
        """The last question with its subject replaced by ``rest`` ("is Russia a sponsor" -> "is Canada a sponsor")."""
        subject = self.subject_of(last) if last.question else ""
        if not subject:
            return None
        pattern = re.compile(rf"\b{re.escape(subject)}\b", re.I)
        if not pattern.search(last.question):
            return None
        before = last.question[: pattern.search(last.question).start()]  # type: ignore[union-attr]
        if re.search(r"\bthe\s*$", before, re.I):
            rest = re.sub(r"^\s*the\s+", "", rest, flags=re.I)  # "the UK" after "is the US ..." -> "the UK"
        return pattern.sub(lambda _: rest, last.question, count=1)

    def subject_of(self, last: Answer) -> str:
        """The conversation's subject: the last answer's, else the names or content words of its question."""
        if last.subject:
            return last.subject
        if last.kind == "lookup" and last.citations:
            return last.citations[0].id  # "at what level should that meeting be?" after OP10: within OP10
        text = self.analyzer.strip_stop_phrases(last.question)
        names = [e.text for e in self.analyzer.analyze(text).entities if e.concept.startswith("@")]
        if names:
            return " ".join(dict.fromkeys(names))
        shape = self.reader.read(last.question)
        if shape is not None and shape.subject:
            return shape.subject
        return " ".join(self.analyzer.analyze(text).words)

    def elliptic(self, text: str) -> bool:
        """True when the question leans on the conversation: a pronoun, or almost no words of its own."""
        shape = self.reader.read(text)
        named = shape is not None and shape.name in NAMING_SHAPES and shape.subject
        if shape is not None and named and not _PRONOUN.fullmatch(shape.subject):
            return False  # "was Mexico one of the sponsors": it names its own subject
        own = _DOCUMENT_PRONOUN.sub(" ", text)
        if self._document_name is not None:
            named_document = self._document_name.sub(" ", own)
            if named_document != own and not _PRONOUN.search(named_document):
                return False  # "what is this resolution about?": its subject is the resolution itself
        if not _PRONOUN.search(own) and self._has_content_word(own):
            return False  # the common case, told without analysing the text
        terms = [t for t in self.analyzer.terms(self.analyzer.strip_stop_phrases(own))
                 if not _PRONOUN.fullmatch(t)]
        terms = [t for t in terms if t not in self.detail_words]  # "what date?" asks a detail of the subject
        if not terms:
            return True
        return bool(_PRONOUN.search(own)) and len(terms) <= MAX_ELLIPTIC_TERMS

    def _has_content_word(self, text: str) -> bool:
        """True when ``text`` surely has a term of its own: a plain word that is no stopword or detail word.

        A word of letters only that is no tokenizer special case is one token, and any term it yields
        (its stem, a synonym group, a concept it is part of) is not a detail word's stem.
        """
        for raw in self.analyzer.strip_stop_phrases(text).split():
            word = raw.strip(_EDGE_PUNCTUATION).lower()
            if len(word) > 2 and word.isalpha() and word not in self.analyzer.stopwords and word not in self._special \
                    and self.analyzer.stem(word) not in self.detail_words:
                return True
        return False

    def fill_in(self, text: str, last: Answer) -> str | None:
        """``text`` with the conversation's subject in place of its pronoun (or added at the end), or None."""
        subject = self.subject_of(last)
        if not subject:
            return None
        for m in _PRONOUN.finditer(text):
            if _DOCUMENT_PRONOUN.search(text[max(0, m.start() - 12): m.end()]):
                continue  # "does it" is the resolution, not the subject
            possessive = m.group().lower() in ("its", "their", "his", "her")
            return text[: m.start()] + (f"{subject}'s" if possessive else subject) + text[m.end():]
        return f"{text.rstrip(' ?!.')} {subject}?"
