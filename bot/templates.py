"""Question kinds, intents and answer templates from content/templates.yaml."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # the C loader when libyaml is present


@dataclass(frozen=True)
class Templates:
    """Compiled patterns and format strings; data, not code."""

    kinds: tuple[tuple[str, re.Pattern[str]], ...]
    wanted: dict[str, frozenset[str]]
    intents: dict[str, re.Pattern[str]]
    messages: dict[str, str]
    answers: dict[str, str]
    examples: tuple[str, ...]

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
    )


def load_templates(path: Path) -> Templates:
    """Read content/templates.yaml."""
    return parse_templates(yaml.load(path.read_text(encoding="utf-8"), Loader=SafeLoader) or {})
