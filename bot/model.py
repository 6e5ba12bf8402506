"""Plain data the answer core returns; every channel renders these, none builds them."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Citation:
    """One cited chunk: stable id (OP5, PP16, FN11, PP8(c), META), label, full text."""

    id: str
    label: str
    text: str
    quote: str
    score: float


@dataclass(frozen=True, slots=True)
class Item:
    """One line of a list answer, with the chunk it comes from."""

    text: str
    cite: str
    group: str = ""


@dataclass(frozen=True, slots=True)
class Answer:
    """What the core says about one question; rendering is left to each channel."""

    question: str
    found: bool
    kind: str
    text: str
    citations: tuple[Citation, ...] = ()
    confidence: float = 0.0
    items: tuple[Item, ...] = ()
    related: tuple[str, ...] = ()
    error: str | None = None
    links: dict[str, str] = field(default_factory=dict)
    subject: str = ""  # what the question was about, for follow-ups ("and Canada?" after "is the US a sponsor?")

    @property
    def usable(self) -> bool:
        """False when the input itself was unusable (empty, too long)."""
        return self.error is None
