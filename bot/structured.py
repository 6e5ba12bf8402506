"""Answers that use the resolution's structure: who is asked to do what, what the preamble
recalls or welcomes, the resolutions it cites, and its timeline."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from bot.model import Answer, Citation, Item
from bot.templates import Templates
from retrieval.nlp import Analyzer
from retrieval.parse import Chunk, Document
from retrieval.search import Searcher
from retrieval.structure import (
    DatedEvent,
    Directive,
    dated_events,
    directives_of,
    object_of,
    preamble_family,
    symbol_links,
)

_WORD = re.compile(r"[a-z][a-z-]+")
_BODY_NAMES = {"E/RES/": "Economic and Social Council", "A/HRC/RES/": "Human Rights Council",
               "A/RES/": "General Assembly"}
_MATCH_STOPWORDS = frozenset({"the", "and", "other", "all", "relevant", "of", "to", "in", "a", "an", "un"})


def _shorten(text: str, limit: int = 160) -> str:
    if len(text) <= limit:
        return text
    cut = text.rfind(" ", 0, limit)
    return text[: cut if cut > 0 else limit].rstrip(",;. ") + "…"


def _plural(count: int, word: str) -> str:
    return word if count == 1 else word + "s"


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


@dataclass(frozen=True, slots=True)
class Structure:
    """Everything read once from the document's structure."""

    directives: tuple[Directive, ...]
    events: tuple[DatedEvent, ...]
    links: dict[str, str]


def read_structure(document: Document, searcher: Searcher, templates: Templates,
                   segments: dict[str, list[tuple[int, int]]]) -> Structure:
    """Directives of every operative paragraph, dated events and symbol links."""
    directives = [d for c in document.of_kind("operative")
                  for d in directives_of(c, searcher.entities(c.id), templates.directive_groups)]
    entities = {c.id: searcher.entities(c.id) for c in document.chunks}
    return Structure(tuple(directives), tuple(dated_events(document, entities, segments)),
                     symbol_links(document, templates.links_base, templates.link_bodies))


class StructuredAnswers:
    """Builds list answers from the Structure; every item cites its paragraph."""

    def __init__(self, document: Document, analyzer: Analyzer, templates: Templates, structure: Structure,
                 quote_chars: int, chunk_terms: Mapping[str, frozenset[str]],
                 action_terms: Mapping[Directive, frozenset[str]]) -> None:
        self.document = document
        self.analyzer = analyzer
        self.t = templates
        self.s = structure
        self.quote_chars = quote_chars
        self.glossary = analyzer.glossary
        self._action_terms = action_terms
        self._position = {c.id: i for i, c in enumerate(document.chunks)}
        self._chunk_terms = chunk_terms

    # ----- dispatch -------------------------------------------------------------------------
    def try_answer(self, question: str) -> Answer | None:
        """A structured answer when the question asks for one, else None."""
        p = self.t.structure_patterns
        handlers: list[tuple[str, Callable[[str, re.Match[str]], Answer | None]]] = [
            ("task_of", self._task_of), ("who_does", self._who_does), ("resolutions", self._resolutions),
            ("preamble", self._preamble), ("timeline", self._timeline)]
        for name, handler in handlers:
            pattern = p.get(name)
            m = pattern.search(question) if pattern else None
            if m:
                answer = handler(question, m)
                if answer is not None:
                    return answer
        return None

    # ----- who is asked to do what ----------------------------------------------------------
    def _task_of(self, question: str, m: re.Match[str]) -> Answer | None:
        who = next(g for k, g in m.groupdict().items() if k.startswith("who") and g)
        verb = next((g for k, g in m.groupdict().items() if k.startswith("verb") and g), "asked")
        return self.tasks_for(question, who, self.t.question_verbs.get(verb.lower(), "all"))

    def tasks_for(self, question: str, who: str, group: str) -> Answer | None:
        """Every directive addressed to ``who``, strongest verb first (only ``group`` unless 'all')."""
        concepts = self._head_concepts(who)
        words = [w for w in _WORD.findall(who.lower()) if w not in _MATCH_STOPWORDS]
        if not concepts:
            concepts = {f"@{self.t.addressee_aliases[w]}" for w in words if w in self.t.addressee_aliases}
        if not concepts and not words:
            return None
        chosen = [d for d in self.s.directives if d.rank < 3 and self._addressed(d, concepts, words)
                  and (group == "all" or d.group == group)]
        name = self._display(who, concepts)
        a = self.t.structure_answers
        if not chosen:  # not an addressee of any request: let retrieval show where it is mentioned
            return None
        chosen.sort(key=lambda d: (d.rank, self._order(d.chunk_id)))
        items = tuple(Item(a["task_item"].format(verb=d.verb, addressee=d.addressee, action=d.action).strip(),
                           d.chunk_id, d.group) for d in chosen)
        paragraphs = len({d.chunk_id for d in chosen})
        intro_key = "task_intro" if group == "all" else "task_intro_verb"
        text = a[intro_key].format(who=name, count=paragraphs, paragraphs=_plural(paragraphs, "paragraph"),
                                   verb_phrase=self.t.verb_phrases.get(group, "asks of"))
        return Answer(question=question, found=True, kind="task", text=text, items=items,
                      citations=self._directive_citations(chosen), confidence=1.0)

    def _head_concepts(self, who: str) -> set[str]:
        """Concepts the question names as the addressee, not in an "of X" qualifier ("principals of ICAT")."""
        return {e.concept for e in self.analyzer.analyze(who).entities
                if e.concept.startswith("@") and not re.search(r"\bof( the)?\s*$", who[: e.start].lower())}

    def _addressed(self, d: Directive, concepts: set[str], words: list[str]) -> bool:
        if concepts:
            return bool(concepts & d.concepts)
        addressee = d.addressee.lower()
        return all(w in addressee or w.rstrip("s") in addressee for w in words)

    def _display(self, who: str, concepts: set[str]) -> str:
        if len(concepts) == 1:
            concept = self.glossary.concept_for_token(next(iter(concepts)))
            if concept is not None:
                return concept.name
        return who.strip()

    def _who_does(self, question: str, m: re.Match[str]) -> Answer | None:
        action = m.group("action")
        wanted = set(self.analyzer.terms(action))
        if not wanted:
            return None
        scored = []
        for d in self.s.directives:
            if d.rank >= 3 or not d.addressee:
                continue
            have = self._action_terms[d]
            share = len(wanted & have) / len(wanted)
            if share >= 0.5:
                scored.append((share, d))
        a = self.t.structure_answers
        if not scored:
            return None
        best = max(s for s, _ in scored)
        ranked = sorted(((s, d) for s, d in scored if s >= best - 0.5),
                        key=lambda sd: (-sd[0], sd[1].rank, self._order(sd[1].chunk_id)))
        chosen = [d for _, d in ranked]
        items = tuple(Item(a["who_item"].format(addressee=d.addressee, verb_lower=d.verb.lower(),
                                                action=d.action).strip(), d.chunk_id, d.group) for d in chosen)
        paragraphs = len({d.chunk_id for d in chosen})
        text = a["who_intro"].format(action=action.rstrip("?"), count=paragraphs,
                                     paragraphs=_plural(paragraphs, "paragraph"))
        return Answer(question=question, found=True, kind="task", text=text, items=items,
                      citations=self._directive_citations(chosen), confidence=round(best, 3))

    def _directive_citations(self, chosen: Sequence[Directive]) -> tuple[Citation, ...]:
        cites: dict[str, Citation] = {}
        for d in chosen:
            if d.chunk_id not in cites:
                chunk = self.document.by_id[d.chunk_id]
                cites[d.chunk_id] = Citation(chunk.id, chunk.label, chunk.text, self._excerpt(chunk, *d.span), 1.0)
        return tuple(cites.values())

    def _excerpt(self, chunk: Chunk, start: int, end: int) -> str:
        body = chunk.text[start:end].strip(" ,;.")
        if len(body) > self.quote_chars:
            cut = body.rfind(" ", 0, self.quote_chars)
            body = body[: cut if cut > 0 else self.quote_chars].rstrip(",;: ") + "…"
        return ("…" if start > 0 else "") + body

    def _order(self, chunk_id: str) -> int:
        return self._position[chunk_id]

    # ----- preamble families ----------------------------------------------------------------
    def _preamble(self, question: str, m: re.Match[str]) -> Answer | None:
        verb = (m.groupdict().get("verb") or m.groupdict().get("verb2") or "").lower()
        family = self._family(verb)
        if family is None:
            return None
        openings, op_verbs = self.t.preamble_families[family]
        chunks = [c for c in self.document.of_kind("preambular") if preamble_family(c, openings)]
        op_objects: dict[str, str] = {}
        for d in self.s.directives:
            if any(v in d.verb.lower() for v in op_verbs):
                op_objects.setdefault(d.chunk_id, d.action)
        chunks += [c for c in self.document.of_kind("operative") if c.id in op_objects]
        if not chunks:
            return None
        a = self.t.structure_answers
        items = tuple(Item(a["preamble_item"].format(object=_shorten(op_objects.get(c.id) or object_of(c))), c.id)
                      for c in chunks)
        text = a["preamble_intro"].format(verb_phrase=self.t.verb_phrases.get(family, verb), count=len(chunks),
                                          paragraphs=_plural(len(chunks), "paragraph"))
        cites = tuple(Citation(c.id, c.label, c.text, self._excerpt(c, 0, len(c.text)), 1.0) for c in chunks)
        return Answer(question=question, found=True, kind="list", text=text, items=items, citations=cites,
                      confidence=1.0)

    def _family(self, verb: str) -> str | None:
        """'recalled' -> 'recall', 'take note of' -> 'note', 'recognised' -> 'recognize'."""
        v = verb.replace("take note of", "note").replace("recognis", "recogniz").replace("emphasis", "emphasiz")
        return next((c for c in (v, v[:-1], v[:-2]) if c in self.t.preamble_families), None)

    # ----- resolutions and symbols ----------------------------------------------------------
    def _resolutions(self, question: str, m: re.Match[str]) -> Answer | None:
        a = self.t.structure_answers
        items: list[Item] = []
        for chunk in self.document.chunks:
            if chunk.kind == "preambular" and not chunk.opening.startswith("Recalling"):
                continue
            if chunk.kind not in ("preambular", "footnote"):
                continue
            if chunk.kind == "footnote" and not any(c.startswith("PP") and self.document.by_id[c].opening.startswith(
                    "Recalling") for c in chunk.cited_by):
                continue
            for sym_m in re.finditer(r"(?<![\w/])(\d{1,4}/\d{1,4})(?: of (\d{1,2} [A-Z][a-z]+ \d{4}))?", chunk.text):
                symbol, date = sym_m.group(1), sym_m.group(2)
                url = self.s.links.get(symbol, "")
                body = next((name for prefix, name in _BODY_NAMES.items() if url.endswith(prefix + symbol)),
                            "General Assembly")
                items.append(Item(a["resolution_item"].format(body=body, symbol=symbol,
                                                              date=f" of {date}" if date else ""), chunk.id))
        if not items:
            return None
        items = self._by_relevance(question, items)
        cites = self._chunk_citations([i.cite for i in items])
        text = a["resolutions_intro"].format(count=len(items))
        return Answer(question=question, found=True, kind="list", text=text, items=tuple(items), citations=cites,
                      confidence=1.0)

    def _by_relevance(self, question: str, items: list[Item]) -> list[Item]:
        """Items whose paragraph shares the question's words first ("resolutions on coordination")."""
        wanted = set(self.analyzer.terms(question))
        overlap = {cid: len(wanted & self._chunk_terms[cid]) for cid in {i.cite for i in items}}
        return sorted(items, key=lambda i: -overlap[i.cite])

    def footnote_items(self, chunk: Chunk) -> tuple[Item, ...]:
        """The documents a footnote lists, one item each (empty for a single reference)."""
        symbols = [s for s in self.s.links if re.search(rf"(?<![\w/]){re.escape(s)}(?![\w/])", chunk.text)]
        if len(symbols) < 2:
            return ()
        return tuple(Item(s, chunk.id) for s in symbols)

    def links_in(self, *texts: str) -> dict[str, str]:
        """Addresses of every known symbol mentioned in ``texts``."""
        found: dict[str, str] = {}
        for text in texts:
            if "/" not in text:
                continue
            for symbol, url in self.s.links.items():
                if symbol in text and re.search(rf"(?<![\w/]){re.escape(symbol)}(?![\w/])", text):
                    found[symbol] = url
        return found

    # ----- timeline -------------------------------------------------------------------------
    def _timeline(self, question: str, m: re.Match[str]) -> Answer | None:
        year = m.groupdict().get("year") or m.groupdict().get("year2")
        if year is None and (any_year := re.search(r"\b(?:19|20)\d\d\b", question)):
            year = any_year.group()
        return self.timeline(question, int(year) if year else None)

    def timeline(self, question: str, year: int | None = None) -> Answer:
        """Every dated event, oldest first, or those of one year."""
        a = self.t.structure_answers
        events = [e for e in self.s.events if year is None or e.key[0] == year]
        if not events:
            first, last = self.s.events[0], self.s.events[-1]
            return Answer(question=question, found=False, kind="timeline",
                          text=a["timeline_none"].format(year=year, first=first.date, last=last.date))
        items = tuple(Item(a["timeline_item"].format(date=e.date, what=e.what,
                                                     where=f" ({e.where})" if e.where else ""), e.chunk_id)
                      for e in events)
        scope = f" in {year}" if year else ""
        text = a["timeline_intro"].format(scope=scope, count=len(events))
        return Answer(question=question, found=True, kind="timeline", text=text, items=items,
                      citations=self._chunk_citations([e.chunk_id for e in events]), confidence=1.0)

    def _chunk_citations(self, ids: Sequence[str]) -> tuple[Citation, ...]:
        out = []
        for cid in dict.fromkeys(ids):
            c = self.document.by_id[cid]
            out.append(Citation(c.id, c.label, c.text, self._excerpt(c, 0, len(c.text)), 1.0))
        return tuple(out)
