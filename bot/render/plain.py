"""Answer -> plain text for a terminal, and -> the JSON object of `resbot ask --json`."""

from __future__ import annotations

import textwrap
from typing import Any

from bot.model import Answer

WIDTH = 88


def _wrap(text: str, indent: str = "") -> str:
    return textwrap.fill(text, WIDTH, initial_indent=indent, subsequent_indent=indent)


def render_plain(answer: Answer, full: bool = False) -> str:
    """Headline, list items, the verbatim quote and the citations, for a person at a terminal."""
    lines = [_wrap(answer.text)]
    groups: dict[str, list[str]] = {}
    for item in answer.items:
        groups.setdefault(item.group, []).append(f"- {item.text}" + (f" ({item.cite})" if item.cite != "META" else ""))
    for group, entries in groups.items():
        lines.append("")
        if group:
            lines.append(f"{group}:")
        lines.extend(entries)
    if answer.citations:
        first = answer.citations[0]
        body = first.text if full else first.quote
        if body and body != answer.text:
            lines += ["", _wrap(f"“{body}”", "    ")]
        lines += ["", "Sources: " + "; ".join(f"{c.id} ({c.label})" for c in answer.citations)]
    if answer.links:
        lines += ["", "Documents: " + "; ".join(f"{sym} <{url}>" for sym, url in answer.links.items())]
    return "\n".join(lines)


def answer_json(answer: Answer) -> dict[str, Any]:
    """The stable JSON shape: question, found, kind, answer, text, confidence, citations (best first).

    ``answer`` is the whole plain-text reply (headline, quote, sources); ``text`` is the headline alone.
    """
    data: dict[str, Any] = {
        "question": answer.question,
        "found": answer.found,
        "kind": answer.kind,
        "answer": render_plain(answer),
        "text": answer.text,
        "confidence": answer.confidence,
        "citations": [{"id": c.id, "label": c.label, "text": c.text, "quote": c.quote, "score": round(c.score, 4)}
                      for c in answer.citations],
    }
    if answer.items:
        data["items"] = [{"text": i.text, "cite": i.cite, "group": i.group} for i in answer.items]
    if answer.links:
        data["links"] = dict(answer.links)
    if answer.error:
        data["error"] = answer.error
    return data
