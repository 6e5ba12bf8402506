"""Where a subject occurs in the text: every paragraph holding all its words, or the words it lacks.

A subject word matches a paragraph through its stem, a glossary concept or a synonym group. Words
that stand only inside an organisation's name ("Drugs" in "Office on Drugs and Crime") do not count:
the text does not speak of drugs there.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.extract import Segment, answering_words, best_segment, quote
from retrieval.nlp import Analyzer, Entity, Term
from retrieval.parse import Chunk, Document
from retrieval.search import Searcher

_WORD = re.compile(r"[A-Za-z][A-Za-z'’]*")
_NAME_LABELS = frozenset({"ORG", "GPE"})
_ALTERNATIVES = re.compile(r"\s+(?:and|or|&)\s+|\s*[/,;]\s*", re.I)
# Reading order for listings: operative paragraphs first, then the preamble, footnotes, document data.
PREFIX_MIN = 4
TERMS_MEMO_SIZE = 4096
COMMON_SHARE = 0.25
KIND_ORDER = {"operative": 0, "preambular": 1, "subitem": 1, "footnote": 2, "meta": 3}


@dataclass(frozen=True, slots=True)
class Mentions:
    """The paragraphs that hold every word of a subject, and the subject's words the text lacks."""

    subject: str
    terms: tuple[Term, ...]
    ids: tuple[str, ...]
    missing: tuple[str, ...]
    partial: bool = False  # no paragraph holds every word: these hold the most of them
    in_names: tuple[str, ...] = ()  # paragraphs that hold it only inside a name ("Drugs" in UNODC's)

    @property
    def found(self) -> bool:
        """True when some paragraph mentions the subject."""
        return bool(self.ids)


class MentionIndex:
    """Per paragraph, every term and word stem it holds outside organisation names."""

    def __init__(self, document: Document, searcher: Searcher, segments: dict[str, tuple[Segment, ...]]) -> None:
        self.document = document
        self.searcher = searcher
        self.analyzer: Analyzer = searcher.analyzer
        self.segments = segments
        self._order = {c.id: (KIND_ORDER.get(c.kind, 4), i) for i, c in enumerate(document.chunks)}
        self._held = {c.id: self._held_terms(c) for c in document.chunks}
        self._terms_memo: dict[str, tuple[Term, ...]] = {}
        self._with_names = {c.id: self._held[c.id] | self._name_words(c) for c in document.chunks}
        self._everywhere = frozenset().union(*self._held.values())
        self._words = frozenset(w for c in document.chunks for w in re.findall(r"[a-z]+", c.text.lower()))

    def _held_terms(self, chunk: Chunk) -> frozenset[str]:
        analysis = self.searcher.analyses[chunk.id]
        text = chunk.text
        for e in analysis.entities:  # blank out organisation and place names, keeping offsets
            if e.label in _NAME_LABELS:
                text = text[: e.start] + " " * (e.end - e.start) + text[e.end:]
        words = {self.analyzer.stem(part) for w in _WORD.findall(text.lower()) for part in re.split(r"['’]", w) if part}
        return frozenset(words | {t.value for t in analysis.terms})

    def _name_words(self, chunk: Chunk) -> frozenset[str]:
        """Word stems that stand inside organisation and place names in a chunk."""
        analysis = self.searcher.analyses[chunk.id]
        return frozenset(self.analyzer.stem(w.lower()) for e in analysis.entities if e.label in _NAME_LABELS
                         for w in _WORD.findall(e.text))

    def subject_terms(self, subject: str) -> tuple[Term, ...]:
        """The subject's terms after typo repair, once each, without words its named things already say."""
        cached = self._terms_memo.get(subject)
        if cached is None:
            cached = self._subject_terms(subject)
            if len(self._terms_memo) < TERMS_MEMO_SIZE:  # a pure function of the subject: asked again, reused
                self._terms_memo[subject] = cached
        return cached

    def _subject_terms(self, subject: str) -> tuple[Term, ...]:
        corrected = self.searcher.typos.fix(self.analyzer.strip_stop_phrases(subject))
        analysis = self.analyzer.analyze(corrected)
        named = self._named_words(analysis.entities)
        unique: dict[str, Term] = {}
        for term in analysis.terms:
            term = self._expand_prefix(term)
            if term.value in named:  # "committee" in "the Chief Statisticians committee"
                continue
            unique.setdefault(term.value, term)
        return tuple(unique.values())

    def _named_words(self, entities: tuple[Entity, ...]) -> frozenset[str]:
        """Stems and concepts a subject's named things already hold (their full names and aliases).

        "Conference of the Parties to UNTOC": the Conference's own name holds the Convention's.
        """
        concepts = [c for e in entities if (c := self.analyzer.glossary.concept_for_token(e.concept)) is not None]
        held: set[str] = set()
        for concept in concepts:
            names = (concept.name, *concept.aliases)
            held.update(self.analyzer.stem(w.lower()) for n in names for w in _WORD.findall(n))
            for other in concepts:
                if other is not concept and any(a.lower() in n.lower() for a in other.aliases for n in names):
                    held.add(other.token)
        return frozenset(held)

    def _holds(self, chunk_id: str, term: Term, table: dict[str, frozenset[str]] | None = None) -> bool:
        held = (table or self._held)[chunk_id]
        if term.value in held:
            return True
        # A synonym-group word also matches itself ("kids" when the text says "kids").
        return bool(term.synonym and term.surface and self.analyzer.stem(term.surface) in held)

    def occurs(self, term: Term) -> bool:
        """True when some paragraph holds the term."""
        return term.value in self._everywhere or bool(
            term.synonym and term.surface and self.analyzer.stem(term.surface) in self._everywhere)

    def _expand_prefix(self, term: Term) -> Term:
        """A clipped word ("rehab", "admin") stands for the text's word it begins, when only one does."""
        word = term.surface or term.value
        if term.value.startswith(("@", "~", "#")) or len(word) < PREFIX_MIN or self.occurs(term):
            return term
        longer = {self.analyzer.stem(w) for w in self._words if w.startswith(word)}
        return Term(longer.pop(), surface=word) if len(longer) == 1 else term

    def says(self, word: str) -> bool:
        """True when the text uses ``word`` itself (any case), and it is no stop word."""
        return word.lower() in self._words and bool(self.subject_terms(word))

    def common(self, term: Term) -> bool:
        """True for a term most paragraphs hold ("trafficking", "persons"): no topic by itself."""
        return self.searcher.index.doc_freq.get(term.value, 0) > COMMON_SHARE * len(self.document.chunks)

    def find(self, subject: str, kinds: frozenset[str] | None = None) -> Mentions:
        """Every paragraph (of ``kinds``, default all) holding each subject term; reading order, operative first."""
        terms = self.subject_terms(subject)
        if not terms:
            return Mentions(subject, terms, (), ())
        chunks = [c for c in self.document.chunks if kinds is None or c.kind in kinds]
        in_names = self._sorted([c.id for c in chunks if all(self._holds(c.id, t, self._with_names) for t in terms)])
        words = {self.analyzer.stem(w.lower()): w for w in _WORD.findall(subject)}
        missing = tuple(t.surface or words.get(t.value, t.value) for t in terms if not self.occurs(t))
        if missing:
            return Mentions(subject, terms, (), missing, in_names=tuple(in_names))
        ids = self._sorted([c.id for c in chunks if all(self._holds(c.id, t) for t in terms)])
        partial = False
        if not ids:
            ids, partial = self._either(subject, kinds) or (self._most_of(chunks, terms), True)
        extra = tuple(i for i in in_names if i not in ids)
        return Mentions(subject, terms, tuple(ids), (), partial, extra)

    def _sorted(self, ids: list[str]) -> list[str]:
        """Reading order, operative first; a sub-item stands for its parent (PP8(d), not PP8)."""
        parents = {self.document.by_id[i].parent for i in ids}
        return sorted((i for i in ids if i not in parents), key=self._order.__getitem__)

    def _either(self, subject: str, kinds: frozenset[str] | None) -> tuple[list[str], bool] | None:
        """'capacity building and technical assistance': every paragraph on either part, when each is found."""
        parts = [p for p in _ALTERNATIVES.split(subject) if p.strip()]
        if len(parts) < 2:
            return None
        found = [self.find(p, kinds) for p in parts]
        if not all(f.found and not f.partial for f in found):
            return None
        return self._sorted(list(dict.fromkeys(i for f in found for i in f.ids))), False

    def _most_of(self, chunks: list[Chunk], terms: tuple[Term, ...]) -> list[str]:
        """The paragraphs holding the largest weighted share of the terms (at least half of the weight)."""
        weight = self.searcher.index.weight
        total = sum(weight(t.value) for t in terms) or 1.0
        shares = {c.id: sum(weight(t.value) for t in terms if self._holds(c.id, t)) / total for c in chunks}
        best = max(shares.values(), default=0.0)
        if best < 0.5:
            return []
        return [cid for cid, share in shares.items() if share >= best - 1e-9]

    def clause(self, chunk_id: str, terms: tuple[Term, ...], max_chars: int) -> str:
        """The verbatim clause of a paragraph that holds the most of the terms."""
        chunk = self.document.by_id[chunk_id]
        segs = self.segments[chunk_id]
        values = [t.value for t in terms]
        index = best_segment(segs, values, self.searcher.index.weight)
        return quote(chunk.text, segs, index, max_chars)

    def answering(self, chunk_id: str, terms: tuple[Term, ...]) -> str:
        """The words of a paragraph that speak of the terms, for a headline (see ``answering_words``)."""
        segs = self.segments[chunk_id]
        index = best_segment(segs, [t.value for t in terms], self.searcher.index.weight)
        return answering_words(self.document.by_id[chunk_id].text, segs, index)
