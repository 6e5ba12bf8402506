"""Question kinds, intents and answer templates from content/templates.yaml."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.courtesy import Courtesy
from retrieval.yamltext import load_yaml


@dataclass(frozen=True)
class Templates:
    """Compiled patterns and format strings; data, not code."""

    kinds: tuple[tuple[str, re.Pattern[str]], ...]
    wanted: dict[str, frozenset[str]]
    intents: dict[str, re.Pattern[str]]
    messages: dict[str, str]
    answers: dict[str, str]
    examples: tuple[str, ...]
    directive_groups: tuple[tuple[str, tuple[str, ...]], ...] = ()
    question_verbs: dict[str, str] = field(default_factory=dict)
    structure_patterns: dict[str, re.Pattern[str]] = field(default_factory=dict)
    preamble_families: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = field(default_factory=dict)
    links_base: str = "https://undocs.org/"
    link_bodies: tuple[tuple[str, str], ...] = ()
    structure_answers: dict[str, str] = field(default_factory=dict)
    verb_phrases: dict[str, str] = field(default_factory=dict)
    follow_ups: dict[str, re.Pattern[str]] = field(default_factory=dict)
    addressee_aliases: dict[str, str] = field(default_factory=dict)
    kind_boosts: dict[str, float] = field(default_factory=dict)
    shapes: tuple[tuple[str, re.Pattern[str]], ...] = ()
    subject_filler: tuple[str, ...] = ()
    bare_topic_words: int = 4
    shape_answers: dict[str, str] = field(default_factory=dict)
    overview_addressees: tuple[dict[str, Any], ...] = ()
    named_lists: tuple[dict[str, Any], ...] = ()
    overview_verbs: dict[str, str] = field(default_factory=dict)
    detail_words: tuple[str, ...] = ()
    document_names: tuple[str, ...] = ()  # "this resolution", "the text": the resolution itself, no pronoun
    event_nouns: frozenset[str] = frozenset()
    question_typos: dict[str, str] = field(default_factory=dict)
    count_types: dict[str, str] = field(default_factory=dict)
    subitem_nouns: frozenset[str] = frozenset()
    symbol_nouns: frozenset[str] = frozenset()
    generic_heads: frozenset[str] = frozenset()
    request_phrases: re.Pattern[str] | None = None  # "could you tell me ...": the question starts there
    courtesy: Courtesy = field(default_factory=Courtesy)  # "Hi, ... thanks!" around a question

    def kind_of(self, question: str) -> str:
        """The first kind whose pattern matches the question."""
        return next((name for name, pattern in self.kinds if pattern.search(question)), "what")

    def intent_of(self, question: str) -> str | None:
        """A document-level intent (sponsors, date, committee ...) or None."""
        return next((name for name, pattern in self.intents.items() if pattern.search(question)), None)


def _compile(pattern: str, where: str) -> re.Pattern[str]:
    try:
        return re.compile(pattern, re.I)
    except re.error as exc:
        raise ValueError(f"templates: bad pattern in {where}: {exc}") from None


def parse_templates(data: dict[str, Any]) -> Templates:
    """Validate and compile templates.yaml."""
    kinds = tuple((str(name), _compile(pat, f"kinds.{name}")) for name, pat in data["kinds"])
    return Templates(
        kinds=kinds,
        wanted={k: frozenset(v) for k, v in (data.get("wanted") or {}).items()},
        intents={k: _compile(v, f"intents.{k}") for k, v in (data.get("intents") or {}).items()},
        messages={k: str(v) for k, v in data["messages"].items()},
        answers={k: str(v) for k, v in data["answers"].items()},
        examples=tuple(str(e) for e in data.get("examples") or ()),
        directive_groups=tuple((str(g["label"]), tuple(str(v).lower() for v in g["verbs"]))
                               for g in data.get("directive_groups") or ()),
        question_verbs={str(k).lower(): str(v) for k, v in (data.get("question_verbs") or {}).items()},
        structure_patterns={k: _compile(v, f"structure_patterns.{k}")
                            for k, v in (data.get("structure_patterns") or {}).items()},
        preamble_families={str(k): (tuple(v.get("pp") or ()), tuple(v.get("op") or ()))
                           for k, v in (data.get("preamble_families") or {}).items()},
        links_base=str((data.get("links") or {}).get("base", "https://undocs.org/")),
        link_bodies=tuple((str(b["before"]), str(b["prefix"])) for b in (data.get("links") or {}).get("bodies", ())),
        structure_answers={k: str(v) for k, v in (data.get("structure_answers") or {}).items()},
        verb_phrases={str(k): str(v) for k, v in (data.get("verb_phrases") or {}).items()},
        follow_ups={k: _compile(v, f"follow_ups.{k}") for k, v in (data.get("follow_ups") or {}).items()},
        addressee_aliases={str(k).lower(): str(v) for k, v in (data.get("addressee_aliases") or {}).items()},
        kind_boosts={str(k): float(v) for k, v in (data.get("kind_boosts") or {}).items()},
        shapes=tuple((str(name), _compile(pat, f"shapes.{name}")) for name, pat in data.get("shapes") or ()),
        subject_filler=tuple(sorted((str(w) for w in data.get("subject_filler") or ()), key=len, reverse=True)),
        bare_topic_words=int(data.get("bare_topic_words", 4)),
        shape_answers={k: str(v) for k, v in (data.get("shape_answers") or {}).items()},
        overview_addressees=tuple(dict(d) for d in data.get("overview_addressees") or ()),
        named_lists=tuple(dict(d) for d in data.get("named_lists") or ()),
        overview_verbs={str(k): str(v) for k, v in (data.get("overview_verbs") or {}).items()},
        detail_words=tuple(str(w) for w in data.get("detail_words") or ()),
        document_names=tuple(str(w) for w in data.get("document_names") or ()),
        event_nouns=frozenset(str(w).lower() for w in data.get("event_nouns") or ()),
        question_typos={str(k).lower(): str(v) for k, v in (data.get("question_typos") or {}).items()},
        count_types={str(k).lower(): str(v) for k, v in (data.get("count_types") or {}).items()},
        subitem_nouns=frozenset(str(w).lower() for w in data.get("subitem_nouns") or ()),
        symbol_nouns=frozenset(str(w).lower() for w in data.get("symbol_nouns") or ()),
        generic_heads=frozenset(str(w).lower() for w in data.get("generic_heads") or ()),
        request_phrases=_phrases(data.get("request_phrases") or (), "request_phrases"),
        courtesy=Courtesy.from_data(data.get("courtesy")),
    )


def _phrases(phrases: Any, where: str) -> re.Pattern[str] | None:
    """One case-insensitive pattern matching any of ``phrases`` as whole words (None for none)."""
    words = sorted((str(p) for p in phrases), key=len, reverse=True)
    return _compile(r"\b(?:" + "|".join(re.escape(w) for w in words) + r")\b", where) if words else None


def load_templates(path: Path) -> Templates:
    """Read content/templates.yaml."""
    return parse_templates(load_yaml(path.read_text(encoding="utf-8")) or {})
