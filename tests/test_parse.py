from __future__ import annotations

from pathlib import Path

import pytest

from retrieval.parse import Document, footnote_markers, load_document

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def doc() -> Document:
    return load_document(ROOT / "content" / "resolution.txt")


def test_resolution_copy_is_verbatim() -> None:
    seed = ROOT.parent / "shared" / "seeds" / "000_2c4a999f42950be4.txt"
    if not seed.exists():
        pytest.skip("shared seed not present beside this checkout")
    assert (ROOT / "content" / "resolution.txt").read_bytes() == seed.read_bytes()


def test_counts(doc: Document) -> None:
    assert len(doc.of_kind("preambular")) == 34
    assert len(doc.of_kind("operative")) == 22
    assert len(doc.of_kind("footnote")) == 14
    assert [c.id for c in doc.of_kind("subitem")] == [f"PP8({x})" for x in "abcdef"]
    assert len(doc.meta.sponsors) == 16


def test_meta(doc: Document) -> None:
    m = doc.meta
    assert m.title == "Improving the coordination of efforts against trafficking in persons"
    assert (m.date, m.session, m.committee) == ("1 November 2017", "Seventy-second session", "Third Committee")
    assert (m.agenda_item, m.agenda_title) == ("107", "Crime prevention and criminal justice")
    assert m.sponsors[0] == "Armenia" and m.sponsors[-1] == "Venezuela (Bolivarian Republic of)"
    assert "United States of America" in m.sponsors
    assert (m.distribution, m.original_language) == ("Limited", "English")


def test_page_break_joins(doc: Document) -> None:
    pp5 = doc.by_id["PP5"].text
    assert "which provided the definition of the crime of trafficking in persons, the Optional Protocol" in pp5
    assert doc.by_id["PP25"].text.endswith("developed by the United Nations Children's Fund,")
    assert "including the Protocol to Prevent, Suppress and Punish" in doc.by_id["PP34"].text
    assert "conflict and post-conflict situations" in doc.by_id["PP11"].text


def test_openings(doc: Document) -> None:
    assert doc.by_id["PP1"].opening == "Reiterating"
    assert doc.by_id["PP3"].opening == "Bearing in mind"
    assert doc.by_id["PP10"].opening == "Recalling also"
    assert doc.by_id["PP33"].opening == "Taking note with appreciation of"
    assert doc.by_id["OP6"].opening == "Expresses solidarity with and compassion for"
    assert doc.by_id["OP14"].opening == "Calls upon"
    assert doc.by_id["OP4"].opening == "Also recalls"


def test_markup_removed(doc: Document) -> None:
    assert "64/293 of 30 July 2010" in doc.by_id["PP7"].text
    for chunk in doc.chunks:
        assert "*" not in chunk.text and "](" not in chunk.text and "¹" not in chunk.text
    assert doc.by_id["OP21"].text.startswith("Welcomes the biennial publication of the Global Report")


def test_footnote_links(doc: Document) -> None:
    assert doc.by_id["PP5"].footnotes == (2, 3, 4, 5)
    assert doc.by_id["FN2"].cited_by == ("PP5", "OP1")
    assert doc.by_id["FN1"].cited_by == ("PP4", "OP10")
    assert doc.by_id["FN14"].text == "Resolution 64/293." and doc.by_id["FN14"].cited_by == ("OP2",)
    assert doc.by_id["FN11"].text == "E/2002/68/Add.1."
    for fn in doc.of_kind("footnote"):
        assert fn.cited_by, fn.id


def test_pp8_holds_its_items(doc: Document) -> None:
    pp8 = doc.by_id["PP8"].text
    assert pp8.startswith("Reaffirming that the Global Plan of Action was developed:")
    assert "(f) To foster cooperation" in pp8
    assert doc.by_id["PP8(c)"].parent == "PP8"


def test_footnote_markers_multi_digit() -> None:
    assert footnote_markers("Migrants¹⁰ at the meeting,¹¹") == ((10, 11), "Migrants at the meeting,")
