"""Mattermost / Rocket.Chat markdown: defusing mentions and markup, splitting to limits."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.model import Answer, Citation, Item
from bot.render.chat import (
    JOINER,
    MATTERMOST_LIMIT,
    ROCKETCHAT_LIMIT,
    defuse,
    render_chat,
    render_mattermost,
    render_rocketchat,
    render_usage,
)
from bot.render.split import utf16_len

_LIVE_MENTION = re.compile(r"@[\w.\-]")
_LIVE_ANGLE = re.compile(f"<(?!{JOINER}).")  # a "<" ending a piece cannot form markup


def answer(text: str, **kwargs: object) -> Answer:
    """A found answer with one citation unless overridden."""
    fields: dict[str, object] = {
        "citations": (Citation("OP5", "operative paragraph 5", "full", "Calls upon States", 2.0),),
    }
    fields.update(kwargs)
    return Answer(question="q", found=True, kind="fact", text=text, **fields)  # type: ignore[arg-type]


def test_defuse_breaks_mentions_and_slack_markup() -> None:
    out = defuse("<!channel> <!here> <@U1> <http://x|y> @all @here @channel @bob [a](http://e)")
    for bad in ("<!channel>", "<!here>", "<@U1>", "<http", "@all", "@here", "@channel", "@bob",
                "](http"):
        assert bad not in out
    assert out.replace(JOINER, "") == (
        "<!channel> <!here> <@U1> <http://x|y> @all @here @channel @bob [a](http://e)")


def test_defuse_leaves_plain_text_alone() -> None:
    assert defuse("States, 2017 (OP5) & more") == "States, 2017 (OP5) & more"


def test_render_has_text_items_quote_sources_links() -> None:
    items = (Item("UNODC", "OP3", "Bodies"), Item("ICAT", "PP15", "Bodies"))
    same = render_mattermost(answer("All in PP15:", items=(Item("A", "PP15"), Item("B", "PP15"))))
    assert "- A\n- B" in same[0]
    links = {"A/RES/55/25": "https://undocs.org/A/RES/55/25(x)", "bad": "ftp://x"}
    (message,) = render_mattermost(answer("Mentioned:", items=items, links=links,
                                          related=("@all",)))
    assert message.startswith("Mentioned:\n\n**Bodies**\n- UNODC (OP3)\n- ICAT (PP15)")
    assert "> Calls upon States\n> — OP5, operative paragraph 5" in message
    assert "Sources: **OP5** operative paragraph 5" in message
    assert "[A/RES/55/25](https://undocs.org/A/RES/55/25%28x%29)" in message
    assert "ftp://" not in message
    assert "@all" not in message


def test_mattermost_split() -> None:
    pieces = render_mattermost(answer(("lorem ipsum " * 1800).strip()))
    assert len(pieces) == 2
    assert all(len(p) <= MATTERMOST_LIMIT for p in pieces)


def test_rocketchat_counts_utf16_units() -> None:
    pieces = render_rocketchat(answer("\U0001f600" * 3000))  # 6,000 UTF-16 units, 3,000 chars
    assert len(pieces) == 2
    assert all(utf16_len(p) <= ROCKETCHAT_LIMIT for p in pieces)


def test_usage() -> None:
    empty = Answer("", False, "error", "Please ask a question.", error="empty")
    (message,) = render_usage(empty, "Ask @here", ["What is OP5?"], MATTERMOST_LIMIT)
    assert message.startswith("Please ask a question.")
    assert "@here" not in message
    assert "- What is OP5?" in message


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=12_000), st.integers(min_value=50, max_value=6000))
def test_any_text_defused_and_within_limit(text: str, limit: int) -> None:
    for measure in (len, utf16_len):
        pieces = render_chat(answer(text, related=(text[:40],)), limit, measure)
        assert pieces
        for piece in pieces:
            assert measure(piece) <= limit
            assert not _LIVE_MENTION.search(piece)
            assert not _LIVE_ANGLE.search(piece)
