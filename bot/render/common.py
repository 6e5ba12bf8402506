"""Small pieces every renderer shares: the top quote, trimmed, and which link targets are safe."""

from __future__ import annotations

import re

from bot.model import Answer, Citation

QUOTE_LIMIT = 600
_SPACE = re.compile(r"\s")  # what str.isspace() calls white space, as one scan


def top_quote(answer: Answer, limit: int = QUOTE_LIMIT) -> tuple[Citation, str] | None:
    """The best citation and its verbatim quote cut at a word to ``limit``, or None without one."""
    if not answer.citations or not answer.citations[0].quote.strip():
        return None
    top = answer.citations[0]
    quote = top.quote.strip()
    if len(quote) > limit:
        quote = quote[:limit].rsplit(" ", 1)[0] + " …"
    return top, quote


def is_web_url(url: str) -> bool:
    """Only http(s) addresses without white space become links."""
    return url.startswith(("https://", "http://")) and _SPACE.search(url) is None
