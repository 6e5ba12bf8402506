"""Slack mrkdwn / Block Kit rendering: escaping, section and block limits."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.model import Answer, Citation, Item
from bot.render.slack import MAX_BLOCKS, SECTION_LIMIT, escape, render_answer, render_usage

_ENTITY_OK = re.compile(r"&(?!amp;|lt;|gt;)")


def answer(text: str, **kwargs: object) -> Answer:
    """A found answer with one citation unless overridden."""
    fields: dict[str, object] = {
        "citations": (Citation("OP5", "operative paragraph 5", "full", "Calls upon States", 2.0),),
    }
    fields.update(kwargs)
    return Answer(question="q", found=True, kind="fact", text=text, **fields)  # type: ignore[arg-type]


def all_texts(blocks: list[dict[str, object]]) -> list[str]:
    """Every mrkdwn string inside the blocks."""
    found: list[str] = []
    for block in blocks:
        if block["type"] == "section":
            found.append(block["text"]["text"])  # type: ignore[index]
        else:
            found += [e["text"] for e in block["elements"]]  # type: ignore[attr-defined]
    return found


def test_escape_the_three_control_characters() -> None:
    assert escape("a & b < c > d") == "a &amp; b &lt; c &gt; d"
    assert escape("<!channel> <@U1> <http://x|y>") == (
        "&lt;!channel&gt; &lt;@U1&gt; &lt;http://x|y&gt;")


def test_answer_quote_and_sources_rendered() -> None:
    message = render_answer(answer("States should act."))
    texts = all_texts(message.blocks)
    assert message.text == "States should act."
    assert texts[0] == "States should act."
    assert any(t.startswith(">Calls upon States") and "*OP5*" in t for t in texts)
    assert any(t.startswith("Sources: *OP5* operative paragraph 5") for t in texts)


def test_list_items_grouped_with_cites() -> None:
    items = (Item("UNODC", "OP3", "Bodies"), Item("ICAT", "PP15", "Bodies"),
             Item("Palermo Protocol", "PP2", "Instruments"))
    texts = all_texts(render_answer(answer("Mentioned:", items=items)).blocks)
    listing = next(t for t in texts if "UNODC" in t)
    assert "Bodies\n• UNODC (OP3)\n• ICAT (PP15)\n\nInstruments\n• Palermo Protocol (PP2)" in listing
    same = (Item("A", "PP15"), Item("B", "PP15"))
    assert "• A\n• B" in all_texts(render_answer(answer("All in PP15:", items=same)).blocks)


def test_links_only_http_and_escaped() -> None:
    links = {"A/RES/55/25": "https://undocs.org/A/RES/55/25?x=1&y=<2>|z",
             "evil": "javascript:alert(1)", "spaced": "https://x y"}
    texts = all_texts(render_answer(answer("t", links=links)).blocks)
    line = next(t for t in texts if t.startswith("Links:"))
    assert "<https://undocs.org/A/RES/55/25?x=1&amp;y=&lt;2&gt;%7Cz|A/RES/55/25>" in line
    assert "javascript" not in line
    assert "spaced" not in line


def test_links_with_any_white_space_are_dropped() -> None:
    links = {"tab": "https://x\ty", "em space": "https://x\u2003y", "nbsp": "https://x\u00a0y",
             "fine": "https://undocs.org/A/RES/70/1"}
    line = next(t for t in all_texts(render_answer(answer("t", links=links)).blocks) if t.startswith("Links:"))
    assert line == "Links: <https://undocs.org/A/RES/70/1|fine>"


def test_the_notification_text_is_the_first_section_short_or_long() -> None:
    short = render_answer(answer("a < b & c"))
    assert short.text == "a &lt; b &amp; c" == short.blocks[0]["text"]["text"]
    long = render_answer(answer(("Trafficking & <exploitation> " * 200 + "\n\n") * 3))
    assert long.text == long.blocks[0]["text"]["text"]
    assert len(long.text) <= SECTION_LIMIT < len(long.text) + len(long.blocks[1]["text"]["text"])


def test_related_and_not_found() -> None:
    ans = Answer("q", False, "none", "Not in this resolution.", related=("<b>OP1</b>",))
    texts = all_texts(render_answer(ans).blocks)
    assert texts[0] == "Not in this resolution."
    assert "Related: &lt;b&gt;OP1&lt;/b&gt;" in texts


def test_block_count_capped() -> None:
    text = "\n\n".join("x" * 2900 for _ in range(80))
    message = render_answer(answer(text))
    assert len(message.blocks) == MAX_BLOCKS
    assert "shortened" in str(message.blocks[-1])


def test_usage_hint() -> None:
    empty = Answer("", False, "error", "Please ask a question.", error="empty")
    message = render_usage(empty, "Help <here>", ["What is OP5?"])
    assert "Please ask a question." in message.text
    assert "Help &lt;here&gt;" in message.blocks[0]["text"]["text"]
    assert "• What is OP5?" in message.blocks[0]["text"]["text"]


def test_unbroken_text_longer_than_a_section_is_cut() -> None:
    message = render_answer(answer("&" * 10_000))
    texts = all_texts(message.blocks)
    assert all(len(t) <= SECTION_LIMIT for t in texts)
    assert sum(t.count("&amp;") for t in texts if "Sources" not in t) == 10_000


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=8000), st.text(max_size=700))
def test_any_text_is_escaped_and_fits(text: str, quote: str) -> None:
    cite = Citation("OP1", "operative <paragraph> 1", quote, quote, 1.0)
    message = render_answer(answer(text, citations=(cite,), related=(text[:50],)))
    texts = [message.text, *all_texts(message.blocks)]
    for shown in texts:
        assert len(shown) <= SECTION_LIMIT
        assert "<" not in shown
        assert not _ENTITY_OK.search(shown)
    assert len(message.blocks) <= MAX_BLOCKS
