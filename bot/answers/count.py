"""'How many ...?': counts from the document's structure, the sponsors and the text's named lists."""

from __future__ import annotations

import re
from collections.abc import Callable

from bot.answers.membership import MembershipAnswers
from bot.answers.toolkit import Toolkit, join_names
from bot.model import Answer, Item
from retrieval.countries import Countries

_STRUCTURE = (  # (pattern on the subject, chunk kind, what to call them)
    (re.compile(r"\bfoot-?notes?\b", re.I), "footnote", "footnotes"),
    (re.compile(r"\b(?:sub-?(?:items?|points?|paragraphs?|paras?|clauses?)|lettered)\b", re.I), "subitem",
     "sub-items"),
    (re.compile(r"\b(?:operative|op)\b", re.I), "operative", "operative paragraphs"),
    (re.compile(r"\b(?:preambular|preamble|pp)\b", re.I), "preambular", "preambular paragraphs"),
)
_PARAGRAPHS = re.compile(r"^\s*(?:paragraphs?|paras?|sections?|articles?)\b", re.I)
_SPONSORS = re.compile(r"\b(?:co-?)?sponsor|\bput (?:this|it|the)? ?(?:draft )?forward|\bsubmitted|\btabled|"
                       r"\bbacked|\bproposed", re.I)
_MENTIONS = re.compile(r"^(?:times|paragraphs?|paras?|places?)\b.*?\b(?:mention(?:s|ed)?|refer(?:s|red)? to|"
                       r"cite[sd]?|name[sd]?)\s+(?P<x>.+)$|^times (?:is|are|does|do) (?P<x2>.+?) "
                       r"(?:mentioned|referred to|cited|named|appear)", re.I)


class CountAnswers:
    """Numbers the structure and the lists give, each with where it comes from."""

    def __init__(self, kit: Toolkit, members: MembershipAnswers, countries: Callable[[], Countries]) -> None:
        self.kit = kit
        self.members = members
        self._countries = countries

    def count(self, question: str, subject: str) -> Answer | None:
        """The count the subject asks for, or None when no structural count answers it."""
        for attempt in (self._mentions, self._sponsors, self._structure, self._named_list):
            answer = attempt(question, subject)
            if answer is not None:
                return answer
        return None

    def _structure(self, question: str, subject: str) -> Answer | None:
        for pattern, kind, what in _STRUCTURE:
            if pattern.search(subject):
                if kind == "subitem":
                    return self._subitems(question, subject)
                return self._of_kind(question, kind, what)
        if _PARAGRAPHS.search(subject) and len(subject.split()) <= 3:
            return self._of_kind(question, "", "paragraphs")
        return None

    def _of_kind(self, question: str, kind: str, what: str) -> Answer:
        doc = self.kit.document
        chunks = doc.of_kind(kind) if kind else doc.of_kind("preambular") + doc.of_kind("operative")
        text = self.kit.say("count_structure", count=len(chunks), what=what, first=chunks[0].id, last=chunks[-1].id)
        cites = (self.kit.citation(chunks[0].id), self.kit.citation(chunks[-1].id))
        return Answer(question=question, found=True, kind="count", text=text, citations=cites, confidence=1.0)

    def _subitems(self, question: str, subject: str) -> Answer | None:
        """Lettered sub-items of the paragraph the subject describes (or of every paragraph)."""
        doc = self.kit.document
        parents = list(dict.fromkeys(c.parent for c in doc.of_kind("subitem")))
        if len(parents) != 1:
            result = self.kit.searcher.search(subject, k=5, exclude_kinds=frozenset({"meta", "footnote"}))
            parents = [h.id for h in result.hits if h.id in parents][:1] or [
                self.kit.document.by_id[h.id].parent for h in result.hits if h.id.startswith(("PP", "OP"))
                and self.kit.document.by_id[h.id].parent][:1]
        if not parents:
            return None
        items = [c for c in doc.of_kind("subitem") if c.parent == parents[0]]
        parent = doc.by_id[parents[0]]
        text = self.kit.say("count_list", count=len(items), label=parent.label, cite=parent.id, what="sub-items",
                            items=join_names([c.id for c in items]))
        return Answer(question=question, found=True, kind="count", text=text,
                      citations=(self.kit.citation(parent.id),), items=tuple(Item(c.text, c.id) for c in items),
                      confidence=1.0)

    def _sponsors(self, question: str, subject: str) -> Answer | None:
        if not _SPONSORS.search(subject) and not _SPONSORS.search(question):
            return None
        meta = self.kit.document.meta
        countries = self._countries()
        region = countries.region(subject)
        if region is None:
            text = self.kit.say("count_sponsors", count=len(meta.sponsors), cite="META",
                                items=join_names(list(meta.sponsors)))
            chosen = list(meta.sponsors)
        else:
            chosen = [s for s in meta.sponsors if (c := countries.resolve(s)) is not None and region.holds(c)]
            text = self.kit.say("count_sponsors_region", count=len(chosen), total=len(meta.sponsors),
                                region=region.name, cite="META", items=join_names(chosen) or "none")
        return Answer(question=question, found=True, kind="count", text=text, confidence=1.0,
                      citations=(self.kit.citation("META"),), items=tuple(Item(s, "META") for s in chosen))

    def _named_list(self, question: str, subject: str) -> Answer | None:
        named = self.members.list_named(subject)
        if named is None:
            return None
        text = self.kit.say("count_list", count=len(named.names), label=self.kit.document.by_id[named.chunk_id].label,
                            cite=named.chunk_id, what=named.members_word, items=join_names(list(named.names)))
        return Answer(question=question, found=True, kind="count", text=text, confidence=1.0,
                      citations=(self.kit.citation(named.chunk_id),),
                      items=tuple(Item(n, named.chunk_id) for n in named.names))

    def _mentions(self, question: str, subject: str) -> Answer | None:
        m = _MENTIONS.search(subject)
        if m is None:
            return None
        thing = next(g for g in (m.group("x"), m.group("x2")) if g)
        found = self.kit.mentions.find(thing)
        if not found.found or found.partial:
            return None
        text = self.kit.say("count_mentions", count=len(found.ids), subject_cap=thing[:1].upper() + thing[1:],
                            paragraphs="paragraph" if len(found.ids) == 1 else "paragraphs",
                            ids=join_names(list(found.ids)))
        items, _ = self.kit.listing(found.ids, thing, 8)
        return Answer(question=question, found=True, kind="count", text=text, items=items, confidence=1.0,
                      citations=tuple(self.kit.citation(i.cite, i.text) for i in items[:3]), subject=thing)
