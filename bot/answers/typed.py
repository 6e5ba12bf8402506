"""Typed "which X" answers: when a question names a kind of thing, the headline names that thing.

"Which declaration was adopted in New York?" asks for a declaration: the answer is the declaration
in the best clause, by its name as the text writes it, not "PP14 addresses this". Things come from
two sources: titled names found by their shape (retrieval/names.py) and the glossary's typed
concepts. The kinds, the nouns that ask for them and the head words of their names are data
(``thing_kinds`` in content/templates.yaml).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from retrieval.glossary import Glossary
from retrieval.names import titled_names
from retrieval.nlp import Analysis, Analyzer, Entity
from retrieval.parse import Document
from retrieval.yamltext import load_yaml

MAX_LISTED = 6
_ACRONYM = re.compile(r"\(([A-Z][A-Za-z-]{1,9})\)\s*$")
# Words that end a "which ..." modifier run: the verb or article after them starts the rest of the question.
_OTHER = re.compile(r"\b(?:other|another|else|second|different)\b", re.I)
_NOT_MODIFIER = ("does|do|did|is|are|was|were|should|must|can|could|will|would|has|have|had|it|this|that|"
                 "the|a|an|of|in|on|to|for|by|with|from|about|at")


@dataclass(frozen=True, slots=True)
class ThingKind:
    """A kind of named thing: the nouns that ask for it, its names' head words, its glossary types."""

    name: str
    nouns: tuple[str, ...]
    plurals: tuple[str, ...]
    heads: tuple[str, ...]
    types: frozenset[str]


@dataclass(frozen=True, slots=True)
class Thing:
    """One named thing in a chunk: the kinds it belongs to, its display name, span and terms."""

    kinds: frozenset[str]
    name: str
    start: int
    end: int
    concept: str
    terms: frozenset[str]


@dataclass(frozen=True, slots=True)
class Asked:
    """What a question asks for: a kind, singular or plural, and the noun's own terms."""

    kind: ThingKind | None  # None: a noun that is no kind, found inside a name ("which statisticians")
    plural: bool
    noun_terms: frozenset[str]
    rest_terms: frozenset[str]  # terms of the question outside "which ... X": what it names itself
    other: bool = False  # "what *other* fund": none of the things already named is the answer
    named: frozenset[str] = frozenset()  # ...the concepts the question (or the conversation) names


def parse_kinds(data: Mapping[str, Any]) -> tuple[ThingKind, ...]:
    """ThingKinds from the ``thing_kinds`` mapping of templates.yaml."""
    kinds = []
    for name, spec in (data or {}).items():
        if not isinstance(spec, dict) or not spec.get("nouns") or not spec.get("heads"):
            raise ValueError(f"templates: thing_kinds.{name} needs nouns and heads")
        kinds.append(ThingKind(str(name), tuple(str(n).lower() for n in spec["nouns"]),
                               tuple(str(n).lower() for n in spec.get("plurals") or ()),
                               tuple(str(h) for h in spec["heads"]), frozenset(spec.get("types") or ())))
    return tuple(kinds)


DEFAULT_ANSWERS = {"entity": "{entity} — {label} ({cite}): “{clause}”",
                   "lookup": "{label_cap} ({cite}): “{clause}”",
                   "passage": "{label_cap} ({cite}): “{clause}”",
                   "passages": "{label_cap} ({cite}): “{clause}” See also {others}."}


def load_typed(path: Path) -> tuple[tuple[ThingKind, ...], dict[str, str]]:
    """The thing kinds (``thing_kinds``) and factual headline templates (``factual_answers``) of a templates file."""
    data = load_yaml(path.read_text(encoding="utf-8")) or {}
    answers = {**DEFAULT_ANSWERS, **{str(k): str(v) for k, v in (data.get("factual_answers") or {}).items()}}
    return parse_kinds(data.get("thing_kinds") or {}), answers


class TypedAnswers:
    """Finds what a question asks for and the things of that kind in each chunk."""

    def __init__(self, document: Document, analyzer: Analyzer, kinds: tuple[ThingKind, ...], answers: dict[str, str],
                 entities: Mapping[str, tuple[Entity, ...]], skip_kinds: Collection[str] = (),
                 name_only_terms: Collection[str] = ()) -> None:
        self.analyzer = analyzer
        self.answers = answers  # headline templates of the factual path
        self.name_only_terms = frozenset(name_only_terms)  # words the text uses only inside names
        self.kinds = kinds
        self._noun_kind: dict[str, tuple[ThingKind, bool]] = {}
        for kind in kinds:
            for noun in kind.nouns:
                self._noun_kind.setdefault(noun, (kind, False))
            for noun in kind.plurals:
                self._noun_kind.setdefault(noun, (kind, True))
        nouns = "|".join(re.escape(n) for n in sorted(self._noun_kind, key=len, reverse=True))
        self._asking = re.compile(
            r"\b(?:which|what|whats|what's|what is the|what are the|which is the|which are the|name the|name a|"
            rf"name any)\s+(?P<mods>(?:(?!(?:{_NOT_MODIFIER})\b)[\w'-]+\s+){{0,3}}?)(?P<noun>{nouns})\b",
            re.I) if nouns else None
        self._asking_any = re.compile(
            rf"\b(?:which|what)\s+(?P<mods>(?:(?!(?:{_NOT_MODIFIER})\b)[\w'-]+\s+){{0,2}}?)(?P<noun>[a-z][\w'-]+)\s+"
            r"(?:is|are|was|were|does|do|did|has|have|should|must|can|will)\b", re.I)
        self.noun_terms = frozenset(t for noun in self._noun_kind for t in analyzer.terms(noun))
        self.things = {c.id: self._things_in(c.text, entities.get(c.id, ()), analyzer.glossary)
                       for c in document.chunks if c.kind not in skip_kinds}

    def asks_other(self, question: str) -> bool:
        """True for "what *other* fund ...": the answer is none of the things already named."""
        m = self._asking.search(question) if self._asking else None
        return m is not None and _OTHER.search(m.group("mods")) is not None

    def asked(self, question: str, query: Analysis | None = None) -> Asked | None:
        """The kind of thing ``question`` asks for ("which declaration ..."), or None.

        ``query`` is the question's analysis when the caller has it (its terms carry offsets into
        ``question``), which saves analysing it again.
        """
        typed = self._asking.search(question) if self._asking else None
        m = typed or self._asking_any.search(question)
        if m is None:
            return None
        generic = typed is None
        terms = query.terms if query is not None else self.analyzer.analyze(question).terms
        noun = frozenset(t.value for t in terms if m.start("noun") <= t.start < m.end("noun"))
        rest = frozenset(t.value for t in terms if not m.start() <= t.start < m.end())
        if not generic:
            kind, plural = self._noun_kind[m.group("noun").lower()]
            if _OTHER.search(m.group("mods")):
                named = frozenset(t.value for t in terms if t.value.startswith("@"))
                return Asked(kind, plural, noun, rest, True, named)
            return Asked(kind, plural, noun, rest)
        # Only a word the text uses nowhere but inside names: the name is then what is asked for.
        if not noun or not noun <= self.name_only_terms:
            return None
        return Asked(None, m.group("noun").lower().endswith("s"), noun, rest)

    def _things_in(self, text: str, entities: Iterable[Entity], glossary: Glossary) -> tuple[Thing, ...]:
        heads = {h for k in self.kinds for h in k.heads}
        spans: dict[tuple[int, int], tuple[frozenset[str], str]] = {}
        named = [e for e in entities if e.concept.startswith("@")]
        for titled in titled_names(text, heads):
            kinds = frozenset(k.name for k in self.kinds if titled.head in {h.lower() for h in k.heads})
            start, end, token = titled.start, titled.end, ""
            for e in named:  # a glossary name from the same start extends it ("..., the Slave Trade, and ...")
                if start <= e.start < end and (e.end > end or e.end - e.start >= 0.6 * (end - start)):
                    end, token = max(end, e.end), e.concept
            before = spans.get((start, end), (frozenset(), ""))
            spans[(start, end)] = (before[0] | kinds | self._concept_kinds(token, glossary), token or before[1])
        for e in named:
            kinds = self._concept_kinds(e.concept, glossary)
            if kinds and not any(s <= e.start and e.end <= t for s, t in spans):
                spans[(e.start, e.end)] = (kinds, e.concept)
        return tuple(self._thing(kinds, text, start, end, token, glossary)
                     for (start, end), (kinds, token) in sorted(spans.items()))

    def _concept_kinds(self, token: str, glossary: Glossary) -> frozenset[str]:
        concept = glossary.concept_for_token(token) if token else None
        return frozenset(k.name for k in self.kinds if concept is not None and concept.type in k.types)

    def _thing(self, kinds: frozenset[str], text: str, start: int, end: int, concept_id: str,
               glossary: Glossary) -> Thing:
        name = text[start:end]
        concept = glossary.concept_for_token(concept_id) if concept_id else None
        acronym = _ACRONYM.search(concept.name) if concept is not None else None
        if acronym and acronym.group(1) not in name:
            name = f"{name} ({acronym.group(1)})"
        words = [self.analyzer.stem(w.lower()) for w in re.findall(r"[A-Za-z][A-Za-z'-]*", text[start:end])]
        terms = frozenset(self.analyzer.terms(text[start:end])) | frozenset(words) | {concept_id} - {""}
        return Thing(kinds, name, start, end, concept_id, terms)

    @staticmethod
    def _of_kind(asked: Asked, thing: Thing) -> bool:
        if asked.kind is None:
            return asked.noun_terms <= thing.terms
        return asked.kind.name in thing.kinds

    def found(self, asked: Asked, chunk_id: str, clause: tuple[int, int], weights: Mapping[str, float]) -> list[Thing]:
        """The things of the asked kind in a chunk, the one nearest the best clause first.

        A thing the question names itself is not an answer to it; a thing sharing the question's
        other words ("which *slavery* convention") is preferred; then the one in or nearest the clause.
        """
        asked_terms = {t for t in weights if t not in asked.noun_terms}
        things = [t for t in self.things.get(chunk_id, ()) if self._of_kind(asked, t)
                  and not (t.concept and (t.concept in asked.rest_terms or t.concept in asked.named))
                  and not (t.terms - asked.noun_terms <= asked.rest_terms and t.terms - asked.noun_terms)]
        if not things:
            return []
        if asked.plural:
            first: dict[str, Thing] = {}
            for t in things:
                first.setdefault(t.name, t)
            return list(first.values())[:MAX_LISTED]

        def rank(t: Thing) -> tuple[float, float]:
            overlap = sum(weights[w] for w in asked_terms & t.terms)
            distance = max(0, clause[0] - t.end, t.start - clause[1])
            return overlap, -distance

        best = max(things, key=rank)
        if best.concept:  # the fullest way the chunk writes it ("the Trust Fund" -> its whole title)
            best = max((t for t in things if t.concept == best.concept), key=lambda t: t.end - t.start)
        return [best]

