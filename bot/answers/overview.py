"""'What is this resolution about?': an overview generated from the parsed structure, not prose."""

from __future__ import annotations

import re
from typing import Any

from bot.answers.toolkit import Toolkit
from bot.model import Answer, Item
from retrieval.nlp import Entity
from retrieval.structure import Directive

ACTION_WORDS = 9  # words of each action shown in an overview line
_ORDINAL_SESSION = re.compile(r"(?P<ordinal>[a-z]+-[a-z]+) session", re.I)
_YEAR = re.compile(r"\b(19|20)\d\d\b")
_ORDINALS = ("first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth")
_TENS = ("fiftieth", "sixty", "seventy", "eighty")


class OverviewAnswers:
    """A chat-sized overview: what the text is, what it asks of whom, the dates ahead, where to dig."""

    def __init__(self, kit: Toolkit, directives: tuple[Directive, ...], group_labels: dict[str, str]) -> None:
        self.kit = kit
        self.directives = directives
        self.group_labels = group_labels
        self._text = self._compose_parts()

    def overview(self, question: str) -> Answer:
        """The overview (the same for every wording of the question)."""
        text, items, ids = self._text
        cites = tuple(self.kit.citation(i) for i in ids[:3])
        return Answer(question=question, found=True, kind="overview", text=text, items=items, citations=cites,
                      confidence=1.0, related=tuple(ids[3:]))

    def _compose_parts(self) -> tuple[str, tuple[Item, ...], list[str]]:
        doc = self.kit.document
        meta = doc.meta
        intro = self.kit.say("overview_intro", title=meta.title, document_type=meta.document_type,
                             committee=meta.committee, session=meta.session, date=meta.date,
                             sponsors=len(meta.sponsors), preambular=len(doc.of_kind("preambular")),
                             operative=len(doc.of_kind("operative")))
        items: list[Item] = []
        for spec in self.kit.templates.overview_addressees:
            items.extend(self._addressee_items(spec))
        dates = self._key_dates()
        tail = [self.kit.say("overview_dates", dates=dates)] if dates else []
        tail.append(self.kit.say("overview_more", who="UNODC", topic="the Internet", n=5))
        ids = list(dict.fromkeys(i.cite for i in items))
        return intro, tuple(items) + tuple(Item(t, "", "") for t in tail), ids

    def _addressee_items(self, spec: dict[str, Any]) -> list[Item]:
        """One line per verb group addressed to this addressee: verb, short actions, paragraph ids."""
        concepts = frozenset(spec.get("concepts") or ())
        chosen = [d for d in self.directives if d.rank < 3 and d.concepts & concepts]
        lines = []
        for rank in sorted({d.rank for d in chosen}):
            group = [d for d in chosen if d.rank == rank]
            actions = list(dict.fromkeys(_short(d.action) for d in group))
            ids = list(dict.fromkeys(d.chunk_id for d in group))
            verb = self.group_labels.get(group[0].group, group[0].group.lower())
            text = self.kit.say("overview_group", group=spec["name"], addressees=verb,
                                actions="; ".join(actions[:4]) + (" …" if len(actions) > 4 else ""))
            lines.append(Item(f"{text} ({', '.join(ids)})", ids[0], str(spec["name"])))
        return lines

    def _key_dates(self) -> str:
        """Dates still ahead when the text was issued: no year (a yearly day), a later year or session."""
        meta = self.kit.document.meta
        year = int(m.group()) if (m := _YEAR.search(meta.date)) else 0
        found: list[str] = []
        for chunk in self.kit.document.of_kind("operative"):
            for e in self.kit.searcher.entities(chunk.id):
                if e.label == "DATE" and _ahead(e, year, meta.session):
                    found.append(f"{e.text} ({chunk.id}: {self._what(chunk.id, e)})")
        return "; ".join(dict.fromkeys(found))

    def _what(self, chunk_id: str, date: Entity) -> str:
        """The named thing nearest a date in its paragraph (the World Day, the Global Report ...)."""
        named = [e for e in self.kit.searcher.entities(chunk_id) if e.concept.startswith("@") and e.label != "GPE"]
        if not named:
            return ""
        nearest = min(named, key=lambda e: abs(e.start - date.start))
        concept = self.kit.searcher.analyzer.glossary.concept_for_token(nearest.concept)
        return concept.name if concept is not None else nearest.text


def _short(action: str) -> str:
    """The first words of an action, without its leading 'to'."""
    words = action.removeprefix("to ").split()
    head = " ".join(words[:ACTION_WORDS]).rstrip(",;:")
    return head + ("…" if len(words) > ACTION_WORDS else "")


def _session_number(text: str) -> int:
    m = _ORDINAL_SESSION.search(text)
    if m is None:
        return 0
    tens, _, unit = m.group("ordinal").lower().partition("-")
    base = {"sixty": 60, "seventy": 70, "eighty": 80}.get(tens, 0)
    return base + (_ORDINALS.index(unit) + 1 if unit in _ORDINALS else 0)


def _ahead(entity: Entity, year: int, session: str) -> bool:
    years = [int(y.group()) for y in _YEAR.finditer(entity.text)]
    if "session" in entity.text:
        return _session_number(entity.text) > _session_number(session)
    return not years or min(years) > year

