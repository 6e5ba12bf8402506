"""What a resolution does, read from its structure: directives, preamble families, symbols, dates.

Pure functions over the parsed Document and its entities; the answer core turns them into lists.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from retrieval.nlp import MONTHS, SYMBOL_PATTERN, Entity
from retrieval.parse import Chunk, Document

_MONTH_NUMBER = {m.lower(): i for i, m in enumerate(MONTHS, 1)}
_ACTION_START = re.compile(
    r"\bto (?!the\b|those\b|their\b|its\b|a\b|an\b|all\b|this\b|these\b|that\b|which\b|different\b|mark\b)"
    r"(?=[a-z])")
_QUALIFIER = re.compile(r",\s+(?:as |in its capacity|within |through |subsequent |when |upon |including )")
_SYMBOL = re.compile(f"(?<![\\w/]){SYMBOL_PATTERN}(?![\\w/])")


@dataclass(frozen=True, slots=True)
class Directive:
    """One thing an operative paragraph does: verb, who it addresses, and the action asked."""

    chunk_id: str
    verb: str
    group: str
    rank: int
    addressee: str
    concepts: frozenset[str]
    action: str
    start: int = 0
    end: int = 0

    @property
    def span(self) -> tuple[int, int]:
        """Where the directive stands in its paragraph (for a verbatim quote)."""
        return self.start, self.end


@dataclass(frozen=True, slots=True)
class DatedEvent:
    """A dated event in the text, sortable, with what happened and where."""

    chunk_id: str
    date: str
    key: tuple[int, int, int]
    what: str
    where: str


def _verb_pattern(groups: Sequence[tuple[str, Sequence[str]]]) -> re.Pattern[str]:
    verbs = sorted({v for _, vs in groups for v in vs}, key=len, reverse=True)
    alternation = "|".join(re.escape(v) for v in verbs)
    return re.compile(rf"(?:^|[,;]\s+(?:and\s+)?)(?P<verb>{alternation})\b", re.I)


def _addressee_concepts(entities: Sequence[Entity], start: int, end: int, text: str) -> frozenset[str]:
    """Concepts named in the addressee span, except those inside 'of X' / 'to X' qualifiers."""
    found = set()
    for e in entities:
        if e.concept and e.concept.startswith("@") and start <= e.start and e.end <= end:
            before = text[max(start, e.start - 8):e.start].lower()
            if not re.search(r"\b(of|to|for|with|in)( the)?\s*$", before):
                found.add(e.concept)
    return frozenset(found)


def _trim_addressee(text: str) -> str:
    m = _QUALIFIER.search(text)
    return (text[: m.start()] if m else text).strip(" ,;")


def directives_of(chunk: Chunk, entities: Sequence[Entity],
                  groups: Sequence[tuple[str, Sequence[str]]]) -> list[Directive]:
    """Split an operative paragraph into its directives, in order."""
    rank_of = {v: (i, label) for i, (label, vs) in enumerate(groups) for v in vs}
    text = chunk.text
    matches = list(_verb_pattern(groups).finditer(text))
    found: list[Directive] = []
    for i, m in enumerate(matches):
        end = matches[i + 1].start() if i + 1 < len(matches) else len(text)
        verb = m.group("verb")
        rank, label = rank_of[verb.lower()]
        body_start = m.end()
        body = text[body_start:end]
        action_m = _ACTION_START.search(body) if rank < 3 else None
        concepts: frozenset[str] = frozenset()
        if rank >= 3 or verb.lower().endswith(" for"):  # "notes X", "calls for X": an object, no addressee
            addressee, action = "", body
        elif action_m:
            addressee = body[: action_m.start()]
            action = body[action_m.start():]
            concepts = _addressee_concepts(entities, body_start, body_start + action_m.start(), text)
        else:  # "Urges A, and invites B ... to do X": the action comes with the next directive
            addressee, action = body, ""
            concepts = _addressee_concepts(entities, body_start, end, text)
        found.append(Directive(chunk.id, verb[:1].upper() + verb[1:], label, rank, _trim_addressee(addressee),
                               concepts, action.strip(" ,;."), m.start("verb"), end))
    return _inherit_actions(found)


def _inherit_actions(found: list[Directive]) -> list[Directive]:
    """'Urges A, and invites B ... to do X': A shares the action of the next directive."""
    out = list(found)
    for i in range(len(out) - 2, -1, -1):
        d = out[i]
        if d.addressee and not d.action:
            out[i] = Directive(d.chunk_id, d.verb, d.group, d.rank, d.addressee, d.concepts, out[i + 1].action,
                               d.start, out[i + 1].end)
    return out


def preamble_family(chunk: Chunk, openings: Sequence[str]) -> bool:
    """Whether a preambular paragraph opens with one of ``openings`` (prefix match)."""
    return any(chunk.opening.startswith(o) for o in openings)


def object_of(chunk: Chunk, limit: int = 160) -> str:
    """What a paragraph recalls, welcomes or notes: its text after the opening phrase, shortened."""
    text = chunk.text[len(chunk.opening):].strip(" ,;") if chunk.opening else chunk.text
    text = text.removeprefix("of ")
    if len(text) <= limit:
        return text.rstrip(",;.")
    cut = text.rfind(" ", 0, limit)
    return text[: cut if cut > 0 else limit].rstrip(",;. ") + "…"


def symbol_links(document: Document, base: str, bodies: Sequence[tuple[str, str]]) -> dict[str, str]:
    """Every document symbol in the text, mapped to its official-document-system address."""
    links: dict[str, str] = {}
    for chunk in document.chunks:
        for m in _SYMBOL.finditer(chunk.text):
            symbol = m.group()
            if symbol in links:
                continue
            if "/" in symbol and symbol[0].isalpha():
                links[symbol] = base + symbol
                continue
            before = chunk.text[max(0, m.start() - 60):m.start()]
            prefix = next(p for words, p in bodies if words in before)
            links[symbol] = base + prefix + symbol
    return links


def _date_key(text: str) -> tuple[int, int, int] | None:
    years = re.findall(r"\b(?:19|20)\d\d\b", text)
    if not years:
        return None
    month = next((_MONTH_NUMBER[w.lower()] for w in re.findall(r"[A-Za-z]+", text) if w.lower() in _MONTH_NUMBER), 0)
    day = re.match(r"\d{1,2}\b", text)
    return int(years[0]), month, int(day.group()) if day else 0


def dated_events(document: Document, entities: Mapping[str, Sequence[Entity]],
                 segments: Mapping[str, Sequence[tuple[int, int]]]) -> list[DatedEvent]:
    """Every calendar date in the paragraphs, oldest first, with its clause and place."""
    events = []
    for chunk in document.chunks:
        if chunk.kind not in ("preambular", "operative"):
            continue
        ents = entities[chunk.id]
        for e in ents:
            key = _date_key(e.text) if e.label == "DATE" else None
            if key is None:
                continue
            if key[1] == 0 and _has_fuller_date(ents, e, key[0]):
                continue
            spans = list(segments[chunk.id])
            index = next((i for i, (s, t) in enumerate(spans) if s <= e.start < t), 0)
            start, end = spans[index] if spans else (0, len(chunk.text))
            if end - start < 90 and index > 0:  # a short clause reads better with the one before it
                start = spans[index - 1][0]
            places = [p.text for p in ents if p.label == "GPE" and start <= p.start < end]
            adopted = re.search(f"({SYMBOL_PATTERN}) of $", chunk.text[max(0, e.start - 30):e.start])
            what = f"resolution {adopted.group(1)} adopted" if adopted else chunk.text[start:end].strip(" ,;.")
            events.append(DatedEvent(chunk.id, e.text, key, what, ", ".join(dict.fromkeys(places))))
    return sorted(events, key=lambda ev: (ev.key, ev.chunk_id))


def _has_fuller_date(entities: Sequence[Entity], entity: Entity, year: int) -> bool:
    """A bare year next to a full date of the same year in the same paragraph adds nothing."""
    return any(o is not entity and o.label == "DATE" and str(year) in o.text and o.text != entity.text
               for o in entities)
