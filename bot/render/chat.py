"""Answer -> Mattermost / Rocket.Chat markdown, with mentions and Slack-style markup defused."""

from __future__ import annotations

import re
from collections.abc import Iterable

from bot.model import Answer
from bot.render.common import is_web_url, top_quote
from bot.render.split import Measure, split_blocks, utf16_len

MATTERMOST_LIMIT = 16_383  # runes (code points) in one Mattermost post
ROCKETCHAT_LIMIT = 5_000  # Rocket.Chat's default Message_MaxAllowedSize, in JS (UTF-16) units
JOINER = "\u2060"  # WORD JOINER: invisible, but breaks mention and markup parsing

_MENTION = re.compile(r"@(?=[\w.\-])")
_LINK_OPEN = re.compile(r"\]\s*\(")


def defuse(text: str) -> str:
    """Defuse Slack-style markup, @mentions (@all, @here, @user) and markdown links."""
    text = text.replace("<", "<" + JOINER)
    text = _MENTION.sub("@" + JOINER, text)
    return _LINK_OPEN.sub(lambda m: "]" + JOINER + m.group(0)[1:], text)


def _items(answer: Answer) -> list[str]:
    """Markdown bullet blocks for a list answer, one block per group."""
    blocks: list[str] = []
    lines: list[str] = []
    group = ""
    same_cite = len({item.cite for item in answer.items}) == 1  # the sources line says it once
    for item in answer.items:
        if item.group and item.group != group:
            if lines:
                blocks.append("\n".join(lines))
            group, lines = item.group, [f"**{defuse(item.group)}**"]
        cite = "" if same_cite else f" ({defuse(item.cite)})"
        lines.append(f"- {defuse(item.text)}{cite}")
    if lines:
        blocks.append("\n".join(lines))
    return blocks


def _quote(answer: Answer) -> str | None:
    """The top citation's verbatim quote as a markdown blockquote, or None."""
    found = top_quote(answer)
    if found is None:
        return None
    top, quote = found
    lines = [f"> {defuse(line)}" for line in quote.splitlines() if line.strip()]
    return "\n".join([*lines, f"> — {defuse(top.id)}, {defuse(top.label)}"])


def _link(symbol: str, url: str) -> str | None:
    """A markdown link for an http(s) URL from the core, or None for anything else."""
    if not is_web_url(url):
        return None
    safe = url.replace("(", "%28").replace(")", "%29").replace("<", "%3C").replace(">", "%3E")
    return f"[{defuse(symbol).replace(']', '')}]({safe})"


def _footer(answer: Answer) -> list[str]:
    """Sources, related questions and links, one block each."""
    blocks: list[str] = []
    if answer.citations:
        blocks.append("Sources: " + " · ".join(
            f"**{defuse(c.id)}** {defuse(c.label)}" for c in answer.citations))
    if answer.related:
        blocks.append("Related: " + " · ".join(defuse(r) for r in answer.related))
    links = [link for symbol, url in answer.links.items() if (link := _link(symbol, url))]
    if links:
        blocks.append("Links: " + " · ".join(links))
    return blocks


def answer_blocks(answer: Answer) -> list[str]:
    """The defused markdown paragraphs of an answer, before splitting."""
    blocks = [defuse(p) for p in answer.text.strip().split("\n\n") if p.strip()]
    blocks += _items(answer)
    quote = _quote(answer)
    if quote:
        blocks.append(quote)
    return blocks + _footer(answer)


def render_chat(answer: Answer, limit: int, measure: Measure = len) -> list[str]:
    """Render an Answer as markdown messages of at most ``limit`` (by ``measure``) each."""
    return split_blocks(answer_blocks(answer), limit, measure) or ["…"]


def render_usage(answer: Answer, help_text: str, examples: Iterable[str],
                 limit: int, measure: Measure = len) -> list[str]:
    """The usage hint for an empty question: the core's message, help and examples."""
    blocks = [defuse(answer.text.strip()), defuse(help_text.strip())]
    shown = [f"- {defuse(example)}" for example in examples]
    if shown:
        blocks.append("Try:\n" + "\n".join(shown))
    return split_blocks([b for b in blocks if b], limit, measure) or ["…"]


def render_mattermost(answer: Answer) -> list[str]:
    """Mattermost posts of at most 16,383 characters."""
    return render_chat(answer, MATTERMOST_LIMIT)


def render_rocketchat(answer: Answer) -> list[str]:
    """Rocket.Chat messages of at most 5,000 UTF-16 units."""
    return render_chat(answer, ROCKETCHAT_LIMIT, utf16_len)
