"""The glossary (acronyms, aliases, synonyms, spelling) loaded from content/glossary.yaml."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from retrieval.yamltext import load_yaml


@dataclass(frozen=True, slots=True)
class Concept:
    """A named thing with every way users and the text refer to it."""

    id: str
    type: str
    name: str
    aliases: tuple[str, ...]

    @property
    def token(self) -> str:
        """The shared index token for this concept."""
        return f"@{self.id}"


@dataclass(frozen=True)
class Glossary:
    """All vocabulary knowledge the analyser uses; data, not code."""

    concepts: dict[str, Concept]
    synonyms: tuple[tuple[str, ...], ...]
    spelling: dict[str, str]
    stem_overrides: dict[str, str]
    keep_words: frozenset[str]
    extra_stopwords: frozenset[str]
    stop_phrases: tuple[str, ...] = ()

    def concept_for_token(self, token: str) -> Concept | None:
        """The concept behind an ``@id`` token, if any."""
        return self.concepts.get(token[1:]) if token.startswith("@") else None


def _strings(value: Any, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"glossary: {where} must be a list of strings")
    return tuple(value)


def parse_glossary(data: dict[str, Any]) -> Glossary:
    """Validate and build a Glossary from its YAML mapping."""
    concepts = {}
    for cid, spec in (data.get("concepts") or {}).items():
        aliases = _strings(spec.get("aliases"), f"concepts.{cid}.aliases")
        concepts[cid] = Concept(cid, str(spec.get("type", "thing")), str(spec.get("name", aliases[0])), aliases)
    synonyms = tuple(_strings(group, "synonyms[]") for group in data.get("synonyms") or [])
    return Glossary(
        concepts=concepts,
        synonyms=synonyms,
        spelling={str(k).lower(): str(v).lower() for k, v in (data.get("spelling") or {}).items()},
        stem_overrides={str(k).lower(): str(v) for k, v in (data.get("stem_overrides") or {}).items()},
        keep_words=frozenset(w.lower() for w in _strings(data.get("keep_words", []), "keep_words")),
        extra_stopwords=frozenset(w.lower() for w in _strings(data.get("extra_stopwords", []), "extra_stopwords")),
        stop_phrases=_strings(data.get("stop_phrases", []), "stop_phrases"),
    )


def load_glossary(path: Path) -> Glossary:
    """Read content/glossary.yaml."""
    return parse_glossary(load_yaml(path.read_text(encoding="utf-8")) or {})
