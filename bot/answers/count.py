"""'How many ...?': counts from the document's structure, the sponsors and the text's named lists."""

from __future__ import annotations

import re
from collections.abc import Callable

from bot.answers.membership import MembershipAnswers
from bot.answers.toolkit import Toolkit, join_names
from bot.model import Answer, Item
from retrieval.countries import Countries
from retrieval.nlp import MONTHS, Entity
from retrieval.refs import find_reference

_STRUCTURE = (  # (pattern on the subject, chunk kind, what to call them)
    (re.compile(r"\bfoot-?notes?\b", re.I), "footnote", "footnotes"),
    (re.compile(r"\b(?:sub-?(?:items?|points?|paragraphs?|paras?|clauses?)|lettered)\b", re.I), "subitem",
     "sub-items"),
    (re.compile(r"\b(?:operative|op)\b", re.I), "operative", "operative paragraphs"),
    (re.compile(r"\b(?:preambular|preamble|pp)\b", re.I), "preambular", "preambular paragraphs"),
)
_MONTHS_AND = re.compile(r"^(?P<months>[A-Z][a-z]+(?:,? (?:and )?[A-Z][a-z]+)+) (?P<year>\d{4})$")
_YEAR_ONLY = re.compile(r"^\d{4}$")


def dated_events(entities: tuple[Entity, ...]) -> list[str]:
    """Separate events among a paragraph's dates: "March and September 2017" is two, "27 and 28 September" one
    (days of one month are one event), a bare year beside a fuller date of that year adds none, sessions none."""
    dates = [e.text for e in entities if e.label == "DATE" and "session" not in e.text]
    events: list[str] = []
    for date in dates:
        if _YEAR_ONLY.match(date) and any(date in other and other != date for other in dates):
            continue
        m = _MONTHS_AND.match(date)
        if m and all(part in MONTHS for part in re.split(r",? (?:and )?", m.group("months"))):
            events += [f"{month} {m.group('year')}" for month in re.split(r",? (?:and )?", m.group("months"))]
        else:
            events.append(date)
    return list(dict.fromkeys(events))


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
        for attempt in (self._mentions, self._sponsors, self._symbols, self._subitem_nouns, self._structure,
                        self._named_list, self._events, self._named_things):
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
        ref = find_reference(question)
        if ref is not None and ref.chunk_id in parents:
            parents = [ref.chunk_id]
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
        if named is None or not named.named_by_noun(subject):
            return None  # "how many ICAT briefings": a count of something else
        names = named.subset(subject)
        what = named.members_word if names == named.names else "of them"
        text = self.kit.say("count_list", count=len(names), label=self.kit.document.by_id[named.chunk_id].label,
                            cite=named.chunk_id, what=what, items=join_names(list(names)))
        return Answer(question=question, found=True, kind="count", text=text, confidence=1.0,
                      citations=(self.kit.citation(named.chunk_id),),
                      items=tuple(Item(n, named.chunk_id) for n in names))

    def _head(self, subject: str, nouns: frozenset[str] | set[str]) -> str | None:
        """The first of the subject's first three words that is one of ``nouns``."""
        return next((w for w in subject.lower().split()[:3] if w in nouns), None)

    def _paragraph_for(self, question: str, subject: str) -> str | None:
        """The paragraph or footnote the question names, else the best match for the subject."""
        ref = find_reference(question)
        if ref is not None:
            return ref.chunk_id if ref.chunk_id in self.kit.document.by_id else None
        result = self.kit.searcher.search(subject, k=1, exclude_kinds=frozenset({"meta"}))
        return result.hits[0].id if result.hits and result.hits[0].literal else None

    def _symbols(self, question: str, subject: str) -> Answer | None:
        """'how many resolutions are listed in footnote 6': the document symbols there."""
        noun = self._head(subject, self.kit.templates.symbol_nouns)
        if noun is None or find_reference(question) is None:
            return None
        chunk_id = self._paragraph_for(question, subject)
        if chunk_id is None:
            return None
        symbols = list(dict.fromkeys(e.text for e in self.kit.searcher.entities(chunk_id) if e.label == "SYMBOL"))
        if not symbols:
            return None
        chunk = self.kit.document.by_id[chunk_id]
        text = self.kit.say("count_list", count=len(symbols), label=chunk.label, cite=chunk.id, what=noun,
                            items=join_names(symbols))
        return Answer(question=question, found=True, kind="count", text=text, confidence=1.0,
                      citations=(self.kit.citation(chunk.id, chunk.text),))

    def _subitem_nouns(self, question: str, subject: str) -> Answer | None:
        """'how many objectives was the Global Plan developed for': a paragraph's lettered sub-items."""
        if self._head(subject, self.kit.templates.subitem_nouns) is None:
            return None
        return self._subitems(question, subject)

    def _named_things(self, question: str, subject: str) -> Answer | None:
        """'how many trust funds are mentioned': the distinct named things of that kind in the text."""
        words = subject.lower().split()
        noun = next((" ".join(words[i:i + n]) for n in (2, 1) for i in range(min(3, len(words)))
                     if " ".join(words[i:i + n]) in self.kit.templates.count_types), None)
        if noun is None:
            return None
        kind = self.kit.templates.count_types[noun]
        singular = noun.split()[-1].rstrip("s")
        glossary = self.kit.searcher.analyzer.glossary
        present = {t for terms in self.kit.searcher.index.doc_terms for t in terms if t.startswith("@")}
        chosen = [c for c in glossary.concepts.values() if c.type == kind and c.token in present]
        named = [c for c in chosen if singular in c.name.lower()]
        chosen = named or chosen
        if not chosen:
            return None
        ids = [next(ch.id for i, ch in enumerate(self.kit.document.chunks)
                    if c.token in self.kit.searcher.index.doc_terms[i]) for c in chosen]
        text = self.kit.say("count_things", count=len(chosen), what=noun,
                            items=join_names([f"{c.name} ({i})" for c, i in zip(chosen, ids, strict=True)]))
        return Answer(question=question, found=True, kind="count", text=text, confidence=0.9,
                      citations=tuple(self.kit.citation(i) for i in dict.fromkeys(ids))[:3],
                      items=tuple(Item(c.name, i) for c, i in zip(chosen, ids, strict=True)))

    def _events(self, question: str, subject: str) -> Answer | None:
        """'how many meetings does OP3 recall': the dated events of the paragraph asked about."""
        nouns = self.kit.templates.event_nouns
        head = subject.lower().split()
        if not head or not any(w in nouns for w in head[:3]):
            return None
        ref = find_reference(question)
        chunk_id = ref.chunk_id if ref is not None else None
        if chunk_id is None:
            result = self.kit.searcher.search(subject, k=1, exclude_kinds=frozenset({"meta", "footnote"}))
            chunk_id = result.hits[0].id if result.hits and result.hits[0].literal else None
        if chunk_id is None or chunk_id not in self.kit.document.by_id:
            return None
        dates = dated_events(self.kit.searcher.entities(chunk_id))
        if not dates:
            return None
        chunk = self.kit.document.by_id[chunk_id]
        what = next(w for w in head[:3] if w in nouns)
        text = self.kit.say("count_events", count=len(dates), label=chunk.label, cite=chunk.id, what=what,
                            items="; ".join(dates))
        return Answer(question=question, found=True, kind="count", text=text, confidence=0.8,
                      citations=(self.kit.citation(chunk.id),))

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
