"""'Is X a sponsor?', 'is X a member of ICAT?': Yes or No against a list the text gives.

Countries are recognised under every usual name (retrieval.countries); organisations and
mandates through the glossary's concepts. A No is only said after the asked-for name has been
resolved, and it lists the whole list so the reader can check it.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bot.answers.shapes import Shape
from bot.answers.toolkit import Toolkit, join_names
from bot.model import Answer, Item
from retrieval.countries import Countries, Country
from retrieval.nlp import Entity

# Where a noun phrase's head ends: a preposition, a verb or a relative word.
_HEAD_END = re.compile(r"\s+(?:for|of|in|on|at|to|from|with|by|does|did|do|are|is|were|was|took|take|have|has|had|"
                       r"that|which|who|whom|listed|named|mentioned|recalled|there|according)\b")


@dataclass(frozen=True, slots=True)
class NamedList:
    """A list the text gives: its members' display names and concept ids, and where it stands."""

    id: str
    group: str
    members_word: str
    chunk_id: str
    names: tuple[str, ...]
    concepts: frozenset[str]
    words: tuple[str, ...]
    nouns: tuple[str, ...] = ()  # what its members are called ("member agencies", "co-hosts")

    def named_by_noun(self, text: str) -> bool:
        """True when the head of ``text`` names the list's members ("ICAT member agencies are listed"),
        not something else of the group ("ICAT briefings for member states")."""
        head = _HEAD_END.split(text.lower(), maxsplit=1)[0]
        return any(re.search(rf"\b{re.escape(n)}\b", head) for n in self.nouns)

    def subset(self, text: str) -> tuple[str, ...]:
        """The members the text's own noun picks out ("special rapporteurs" leaves out a representative)."""
        lower = text.lower()
        for noun in sorted(self.nouns, key=len, reverse=True):
            if re.search(rf"\b{re.escape(noun)}\b", lower):
                singular = noun[:-1] if noun.endswith("s") else noun
                chosen = tuple(n for n in self.names if singular in n.lower())
                return chosen if 0 < len(chosen) < len(self.names) else self.names
        return self.names


class MembershipAnswers:
    """Yes/no answers about the sponsors and the text's named lists (ICAT's members ...)."""

    def __init__(self, kit: Toolkit, countries: Callable[[], Countries]) -> None:
        self.kit = kit
        self._countries = countries
        self.lists = tuple(self._read_list(spec) for spec in kit.templates.named_lists)

    # ----- the lists --------------------------------------------------------------------------
    def _read_list(self, spec: dict[str, Any]) -> NamedList:
        chunk = self.kit.document.by_id[str(spec["chunk"])]
        labels = frozenset(spec.get("labels") or ("ORG",))
        entities = [e for e in self.kit.searcher.entities(chunk.id) if e.label in labels]
        span = str(spec.get("span") or "")
        if span and span in chunk.text:  # only the part of the paragraph after "co-hosted by"
            start = chunk.text.index(span)
            end = chunk.text.find(",", start + len(span) + 40)
            entities = [e for e in entities if e.start >= start and (end < 0 or e.end <= end + 200)]
            entities = entities[: _run_length(chunk.text, entities)]
        own = str(spec.get("concept") or "")
        names: dict[str, str] = {}
        for e in entities:
            if e.concept != own:
                names.setdefault(e.concept or e.text, self._name(e))
        return NamedList(str(spec["id"]), str(spec["group"]), str(spec["members"]), chunk.id, tuple(names.values()),
                         frozenset(k for k in names if k.startswith("@")),
                         tuple(str(w).lower() for w in spec.get("words") or ()),
                         tuple(str(n).lower() for n in spec.get("nouns") or ()))

    def _name(self, entity: Entity) -> str:
        concept = self.kit.searcher.analyzer.glossary.concept_for_token(entity.concept) if entity.concept else None
        return concept.name if concept is not None else entity.text

    def list_named(self, text: str) -> NamedList | None:
        """The named list a phrase refers to ("ICAT", "the co-hosts of the Bangkok meeting"), or None."""
        lower = text.lower()
        concepts = {e.concept for e in self.kit.searcher.analyzer.analyze(text).entities}
        for named in self.lists:
            if any(w in lower for w in named.words) or any(c and c == f"@{named.id}" for c in concepts):
                return named
        return None

    def list_paragraph(self, text: str) -> str | None:
        """The paragraph holding the list when ``text`` asks for a list's members ("ICAT member agencies")."""
        named = self.list_named(text)
        return named.chunk_id if named is not None and named.named_by_noun(text) else None

    # ----- answers ----------------------------------------------------------------------------
    def answer(self, question: str, shape: Shape) -> Answer | None:
        """Yes or No, with the list cited; None when the question names no list the text gives."""
        if not shape.group:
            return self.sponsor(question, shape.subject)
        named = self.list_named(shape.group)
        if named is None:
            return None
        return self._member(question, shape.subject, named)

    def sponsor(self, question: str, subject: str) -> Answer:
        """Whether a State is among the draft's sponsors, under any of its names."""
        meta = self.kit.document.meta
        countries = self._countries()
        asked = countries.resolve(subject)
        sponsors = [(name, countries.resolve(name)) for name in meta.sponsors]
        items = tuple(Item(name, "META") for name in meta.sponsors)
        fields = {"count": len(sponsors), "cite": "META", "items": join_names(list(meta.sponsors))}
        if asked is None:
            text = self.kit.say("sponsor_not_state", subject=subject, **fields)
        else:
            match = next((name for name, c in sponsors if c is not None and c.iso3 == asked.iso3), None)
            key = "sponsor_yes" if match else "sponsor_no"
            text = self.kit.say(key, name=match or _display(asked), verb="is", **fields)
        return Answer(question=question, found=True, kind="membership", text=text, items=items if asked is None
                      or not text.startswith("Yes") else (), citations=(self.kit.citation("META"),),
                      confidence=1.0, subject=subject)

    def _member(self, question: str, subject: str, named: NamedList) -> Answer:
        asked = {e.concept for e in self.kit.searcher.analyzer.analyze(subject).entities if e.concept}
        member = self._find_member(subject, asked, named)
        fields = {"count": len(named.names), "members": named.members_word, "group": named.group,
                  "cite": named.chunk_id, "items": join_names(list(named.names))}
        if member is not None:
            text = self.kit.say("member_yes", name=member, verb="is", **fields)
        elif asked:
            name = self._concept_name(next(iter(asked)))
            text = self.kit.say("member_no", name=name, verb="is", **fields)
        else:
            text = self.kit.say("member_unknown", subject=subject, **fields)
        cite = self.kit.citation(named.chunk_id)
        return Answer(question=question, found=True, kind="membership", text=text, citations=(cite,),
                      confidence=1.0, subject=subject)

    def _find_member(self, subject: str, asked: set[str], named: NamedList) -> str | None:
        """The member's display name when the subject names one (by concept, else by its words)."""
        for concept in asked & named.concepts:
            return self._concept_name(concept)
        lower = subject.lower().strip()
        return next((n for n in named.names if lower and lower in n.lower()), None)

    def _concept_name(self, token: str) -> str:
        concept = self.kit.searcher.analyzer.glossary.concept_for_token(token)
        return concept.name if concept is not None else token


def _display(country: Country) -> str:
    return country.official if country.name.isupper() else country.name


def _run_length(text: str, entities: list[Entity]) -> int:
    """How many entities form one list: each separated from the next only by commas and 'and'."""
    count = 1 if entities else 0
    for a, b in itertools.pairwise(entities):
        gap = text[a.end: b.start].strip(" ,").lower()
        if gap not in ("", "and", "the", "and the", ", and the"):
            break
        count += 1
    return count
