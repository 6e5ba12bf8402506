"""Answer -> Slack mrkdwn text plus Block Kit blocks; every inserted text is escaped."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from bot.model import Answer, Item
from bot.render.common import is_web_url, top_quote
from bot.render.split import split_text

SECTION_LIMIT = 3000  # characters in one section block's text
MAX_BLOCKS = 50  # Slack rejects messages with more blocks
FALLBACK_LIMIT = 3000  # the notification ``text`` shown beside the blocks

Block = dict[str, Any]


@dataclass(frozen=True, slots=True)
class SlackMessage:
    """What a Slack reply carries: fallback ``text`` and ``blocks``."""

    text: str
    blocks: list[Block] = field(default_factory=list)


def escape(text: str) -> str:
    """Escape the three characters Slack treats as control sequences, so nothing pings or links."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _escaped_len(text: str) -> int:
    """Length of ``text`` once escaped; the splitter measures with it."""
    return len(escape(text))


def _section(mrkdwn: str) -> Block:
    """One mrkdwn section block."""
    return {"type": "section", "text": {"type": "mrkdwn", "text": mrkdwn}}


def _context(mrkdwn: str) -> Block:
    """One context block with a single mrkdwn element."""
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": mrkdwn}]}


def text_sections(text: str, limit: int = SECTION_LIMIT) -> list[str]:
    """Plain text cut into escaped pieces of at most ``limit`` characters each."""
    if not text.strip():
        return []
    escaped = escape(text)
    if len(escaped) <= limit:  # most answers: one piece, escaped once
        return [escaped]
    return [escape(piece) for piece in split_text(text, limit, _escaped_len)]


def _item_lines(items: Sequence[Item]) -> list[str]:
    """Plain bullet lines for a list answer, with a heading line whenever the group changes."""
    lines: list[str] = []
    group = ""
    same_cite = len({item.cite for item in items}) == 1  # then the sources line says it once
    for item in items:
        if item.group and item.group != group:
            group = item.group
            lines.append(f"\n{group}" if lines else group)
        lines.append(f"• {item.text}" if same_cite else f"• {item.text} ({item.cite})")
    return lines


def _quote(answer: Answer) -> str | None:
    """The top citation's verbatim quote as an mrkdwn blockquote, or None."""
    found = top_quote(answer)
    if found is None:
        return None
    top, quote = found
    lines = [f">{escape(line)}" for line in quote.splitlines() if line.strip()]
    return "\n".join([*lines, f"> — *{escape(top.id)}*, {escape(top.label)}"])


def _link(url: str, label: str) -> str | None:
    """An mrkdwn link for an http(s) URL from the core, or None for anything else."""
    if not is_web_url(url):
        return None
    return f"<{escape(url).replace('|', '%7C')}|{escape(label)}>"


def _footer(answer: Answer) -> list[str]:
    """Context lines: sources, related questions and links."""
    lines: list[str] = []
    if answer.citations:
        cites = " · ".join(f"*{escape(c.id)}* {escape(c.label)}" for c in answer.citations)
        lines.append(f"Sources: {cites}")
    if answer.related:
        lines.append("Related: " + " · ".join(escape(r) for r in answer.related))
    links = [link for symbol, url in answer.links.items() if (link := _link(url, symbol))]
    if links:
        lines.append("Links: " + " · ".join(links))
    return [piece for line in lines for piece in _cap(line)]


def _cap(mrkdwn: str) -> list[str]:
    """Already-escaped mrkdwn cut to section-sized pieces (only very long footers need it)."""
    if len(mrkdwn) <= SECTION_LIMIT:
        return [mrkdwn]
    return [mrkdwn[i:i + SECTION_LIMIT] for i in range(0, len(mrkdwn), SECTION_LIMIT)]


def _limit_blocks(blocks: list[Block]) -> list[Block]:
    """Keep at most MAX_BLOCKS, ending with a note when something was cut."""
    if len(blocks) <= MAX_BLOCKS:
        return blocks
    return [*blocks[:MAX_BLOCKS - 1], _context("… (answer shortened to fit one Slack message)")]


def _fallback(text: str, sections: list[str] | None = None) -> str:
    """The escaped notification text, at most FALLBACK_LIMIT characters (``sections``: text's, if cut alike)."""
    if sections is None or SECTION_LIMIT != FALLBACK_LIMIT:
        sections = text_sections(text, FALLBACK_LIMIT)
    return sections[0] if sections else "…"


def render_answer(answer: Answer) -> SlackMessage:
    """Render an Answer as Slack fallback text and Block Kit blocks."""
    sections = text_sections(answer.text)
    blocks = [_section(piece) for piece in sections]
    item_text = "\n".join(_item_lines(answer.items))
    blocks += [_section(piece) for piece in text_sections(item_text)]
    quote = _quote(answer)
    if quote:
        blocks += [_section(piece) for piece in _cap(quote)]
    blocks += [_context(line) for line in _footer(answer)]
    return SlackMessage(text=_fallback(answer.text, sections), blocks=_limit_blocks(blocks))


def render_usage(answer: Answer, help_text: str, examples: Iterable[str]) -> SlackMessage:
    """The usage hint for an empty question: the core's message, help and example questions."""
    lines = [answer.text.strip(), help_text.strip()]
    shown = [f"• {example}" for example in examples]
    if shown:
        lines.append("Try:\n" + "\n".join(shown))
    text = "\n\n".join(line for line in lines if line)
    return SlackMessage(text=_fallback(text),
                        blocks=_limit_blocks([_section(p) for p in text_sections(text)]))
