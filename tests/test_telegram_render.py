"""Answer -> Telegram HTML: escaping, citations, the 4096 UTF-16 split, keyboards, inline results.

Every rendered message is checked with the fake Bot API's HTML checker, which rejects what
Telegram rejects ("can't parse entities", more than 4096 UTF-16 units or 100 entities).
"""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.model import Answer, Citation, Item
from bot.render import telegram as render
from bot.render.split import utf16_len
from tests.fakes.telegram_api import HTMLCheckError, parse_html

NASTY = "a <<b> & </code> <script>alert(1)</script> \"q\" 'x' &amp;"

OP5 = Citation(
    id="OP5", label="operative paragraph 5",
    text="Decides to designate 30 July as the World Day against Trafficking in Persons, "
         "to be observed every year;",
    quote="designate 30 July as the World Day against Trafficking in Persons", score=7.5)
PP3 = Citation(id="PP3", label="preambular paragraph 3", text="Bearing in mind that all States…",
               quote="Bearing in mind that all States…", score=3.0)


def answer(text: str = "The World Day is on 30 July.", **kw: object) -> Answer:
    """A hand-built Answer with sensible defaults."""
    base: dict[str, object] = {"question": "when is World Day?", "found": True, "kind": "when",
                               "text": text, "citations": (OP5,), "confidence": 0.9}
    base.update(kw)
    return Answer(**base)  # type: ignore[arg-type]


def check(pieces: tuple[str, ...]) -> list[str]:
    """Each piece must be valid Telegram HTML within the limits; return the visible texts."""
    shown = []
    for piece in pieces:
        plain, entities, _ = parse_html(piece)
        assert 0 < utf16_len(plain.strip()) <= 4096
        assert entities <= 100
        shown.append(plain)
    return shown


def squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


def test_answer_has_text_bold_label_and_blockquote() -> None:
    reply = render.render_answer(answer())
    assert len(reply.pieces) == 1
    html = reply.pieces[0]
    assert html.startswith("The World Day is on 30 July.")
    assert "<b>Operative paragraph 5</b>\n<blockquote>designate 30 July" in html
    check(reply.pieces)


@pytest.mark.parametrize("nasty", [NASTY, "<", "&", "</code>", "<<b>", "<b", "a&b;c"])
def test_every_inserted_text_is_escaped(nasty: str) -> None:
    cite = Citation(id="OP1", label=f"label {nasty}", text=f"text {nasty}", quote=f"quote {nasty}",
                    score=1.0)
    ans = answer(nasty, question=f"q {nasty}", citations=(cite,),
                 items=(Item(f"item {nasty}", "OP1", f"group {nasty}"),),
                 links={f"sym {nasty}": f'https://undocs.org/x?a=1&b="{nasty}'})
    for reply in (render.render_answer(ans, echo=True), render.render_paragraph(ans),
                  render.render_related([ans]), render.render_notice(nasty)):
        shown = "".join(check(reply.pieces))
        assert nasty in shown  # the user sees exactly what was written, nothing parsed
    html = render.render_answer(ans).pieces[0]
    assert "<script>" not in html and "<<b>" not in html and "</code>" not in html


def test_escaping_is_checked_by_the_fake() -> None:
    with pytest.raises(HTMLCheckError):
        parse_html("a <<b> b")
    with pytest.raises(HTMLCheckError):
        parse_html("<b>unclosed")
    with pytest.raises(HTMLCheckError):
        parse_html("x & y")


def test_non_http_links_are_dropped() -> None:
    ans = answer(links={"evil": "javascript:alert(1)", "64/293": "https://undocs.org/A/RES/64/293"})
    html = render.render_answer(ans).pieces[0]
    assert "javascript" not in html
    assert '<a href="https://undocs.org/A/RES/64/293">64/293</a>' in html


def test_list_answer_groups_items_under_bold_headings() -> None:
    items = (Item("Armenia", "META", "Sponsors"), Item("Belarus", "META", "Sponsors"),
             Item("UNODC", "OP7", "Bodies"))
    html = render.render_answer(answer("Sponsors and bodies:", items=items, citations=())).pieces[0]
    expected = "<b>Sponsors</b>\n• Armenia (META)\n• Belarus (META)\n\n<b>Bodies</b>\n• UNODC (OP7)"
    assert expected in html


@pytest.mark.parametrize("size", [4097, 10_000])
def test_long_answer_split_with_emoji_at_the_cut(size: int) -> None:
    # No spaces: the splitter must cut hard, and the emoji straddles code unit 4096.
    text = "a" * 4095 + "😀" + "b" * (size - 4097)
    assert utf16_len(text) == size
    reply = render.render_answer(answer(text, citations=()))
    shown = check(reply.pieces)
    assert len(reply.pieces) == -(-size // 4096) or len(reply.pieces) >= 2
    assert "".join(shown) == text  # nothing lost, no surrogate pair cut
    assert all(utf16_len(s) <= 4096 for s in shown)


def test_long_answer_split_on_paragraph_boundaries() -> None:
    paras = [f"Paragraph {i} " + "word " * 150 for i in range(20)]
    reply = render.render_answer(answer("\n\n".join(p.strip() for p in paras), citations=(OP5,)))
    shown = check(reply.pieces)
    assert len(reply.pieces) > 1
    for piece in shown[:-1]:
        assert piece.rstrip().endswith("word")  # every cut falls between paragraphs
    assert "<b>Operative paragraph 5</b>\n<blockquote>" in reply.pieces[-1]


def test_many_citations_stay_under_100_entities_per_message() -> None:
    cites = tuple(Citation(f"OP{i}", f"operative paragraph {i}", "t", "q", 1.0) for i in range(80))
    reply = render.render_answer(answer("Many.", citations=cites))
    assert len(reply.pieces) >= 2
    check(reply.pieces)


def test_long_full_paragraph_is_split_into_blockquotes() -> None:
    cite = Citation("PP15", "preambular paragraph 15", "member " * 1500, "member", 1.0)
    reply = render.render_paragraph(answer("", citations=(cite,)))
    shown = check(reply.pieces)
    assert len(reply.pieces) >= 2
    assert reply.pieces[0].startswith("<b>Preambular paragraph 15</b>\n<blockquote>")
    assert squash("".join(shown)) == squash("Preambular paragraph 15" + "member " * 1500)


def test_paragraph_render_shows_full_text_not_quote() -> None:
    reply = render.render_paragraph(answer(OP5.text))
    html = reply.pieces[0]
    assert "to be observed every year;" in html
    assert html.count("Decides to designate") == 1  # text equal to the chunk is not repeated


def test_answer_keyboard_full_paragraph_and_related() -> None:
    rows = render.render_answer(answer(related=("OP6", "PP2"))).keyboard
    assert [(b.text, b.data) for b in rows[0]] == [("Full paragraph", "f:OP5"),
                                                    ("Related", "r:OP6,PP2")]


def test_no_full_button_when_quote_is_the_whole_text() -> None:
    rows = render.render_answer(answer(citations=(PP3,))).keyboard
    assert rows == ()


def test_callback_data_never_exceeds_64_bytes() -> None:
    ids = tuple(f"PP{i}(c)" for i in range(40))
    data = render.callback(render.RELATED, *ids)
    assert len(data.encode()) <= 64
    prefix, parsed = render.parse_callback(data)
    assert prefix == "r" and parsed == list(ids[: len(parsed)]) and len(parsed) >= 5


def test_example_keyboard_puts_question_or_index_in_data() -> None:
    long_q = "what does the resolution say about " + "very " * 20 + "long questions?"
    rows = render.example_keyboard(["when is World Day?", long_q, "who sponsors it?", "extra"])
    assert len(rows) == 3
    assert rows[0][0].data == "q:when is World Day?"
    assert rows[1][0].data == "x:1" and len(rows[1][0].text) <= 100
    assert all(len(r[0].data.encode()) <= 64 for r in rows)
    assert render.parse_callback("q:a,b: c") == ("q", ["a,b: c"])


def test_start_and_help() -> None:
    start = render.render_start("I answer <questions> & cite.", ["when?", "who?", "what?"])
    assert "I answer &lt;questions&gt; &amp; cite." in start.pieces[0]
    assert [r[0].text for r in start.keyboard] == ["when?", "who?", "what?"]
    helped = render.render_help("Coverage.", [("ask", "Ask a question"), ("para", "Show one")])
    assert "/ask - Ask a question\n/para - Show one" in helped.pieces[0]
    check(start.pieces + helped.pieces)


def test_inline_results_answer_first_then_cited_paragraphs() -> None:
    ans = answer(citations=(OP5, PP3), question="when <is> World Day?")
    paras = [answer(OP5.text, citations=(OP5,)), answer(PP3.text, citations=(PP3,))] * 3
    results = render.inline_results(ans, paras)
    assert len(results) == 3  # the answer and two distinct paragraphs (repeats dropped)
    assert results[0].title.startswith("The World Day is on 30 July")
    assert results[0].html.startswith("<i>when &lt;is&gt; World Day?</i>")
    assert results[1].title == "Operative paragraph 5"
    many = [answer(f"t{i}", citations=(Citation(f"OP{i}", f"op {i}", "t", "q", 1.0),))
            for i in range(9)]
    assert len(render.inline_results(ans, many)) == 5
    assert len({r.id for r in results}) == len(results)
    assert all(len(r.id.encode()) <= 64 for r in results)
    check(tuple(r.html for r in results))


@settings(max_examples=60, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("ab <>&/\n😀é\u200d")), min_size=1, max_size=9000))
def test_any_text_renders_to_valid_pieces(text: str) -> None:
    reply = render.render_answer(answer(text, citations=(OP5,)))
    shown = check(reply.pieces)
    assert squash("".join(shown)) == squash(text + "Operative paragraph 5" + OP5.quote)


def test_shorten_cuts_at_a_word() -> None:
    assert render.shorten("alpha beta gamma delta", 100) == "alpha beta gamma delta"
    assert render.shorten("alpha  beta\ngamma, delta", 18) == "alpha beta gamma…"
    assert render.shorten("x" * 50, 10) == "x" * 9 + "…"
