"""bot/render/document.py: the resolution as runs for the page and as JSON for /api/document."""

from __future__ import annotations

import json

import pytest

from bot.core import Core
from bot.render.document import DocumentView, Paragraph, build_view, document_json
from retrieval.parse import parse_text


@pytest.fixture(scope="module")
def view(core: Core) -> DocumentView:
    return build_view(core.document, core.structure.links)


def _shown(paragraph: Paragraph) -> str:
    return "".join(r.text for r in paragraph.runs if r.kind != "note")


def _every(view: DocumentView) -> list[Paragraph]:
    out = []
    for p in (*view.preamble, *view.operative, *view.footnotes):
        out += [p, *p.items]
    return out


def test_every_citable_chunk_is_shown_once_in_reading_order(view: DocumentView, core: Core) -> None:
    shown = [p.id for p in _every(view)]
    expected = [c.id for c in core.document.chunks if c.kind != "meta"]
    assert sorted(shown) == sorted(expected) and len(shown) == len(set(shown))
    assert [p.id for p in view.operative] == [f"OP{n}" for n in range(1, 23)]
    assert [p.id for p in view.preamble] == [f"PP{n}" for n in range(1, 35)]
    assert [i.id for i in view.preamble[7].items] == [f"PP8({c})" for c in "abcdef"]


def test_paragraph_text_is_the_parsed_text_without_markers(view: DocumentView, core: Core) -> None:
    for p in _every(view):
        if not p.items:
            assert _shown(p) == core.document.by_id[p.id].text, p.id
    pp8 = view.preamble[7]
    assert _shown(pp8) == "Reaffirming that the Global Plan of Action was developed:"  # the items stand apart


def test_footnote_markers_follow_their_words(view: DocumentView) -> None:
    pp4 = next(p for p in view.preamble if p.id == "PP4")
    kinds = [(r.kind, r.text) for r in pp4.runs]
    note = kinds.index(("note", "1"))
    assert pp4.runs[note].target == "FN1"
    assert pp4.runs[note - 1].text.endswith("2030 Agenda for Sustainable Development,")
    pp5 = next(p for p in view.preamble if p.id == "PP5")
    assert [r.target for r in pp5.runs if r.kind == "note"] == ["FN2", "FN3", "FN4", "FN5"]
    op1 = view.operative[0]
    assert [r.target for r in op1.runs if r.kind == "note"] == ["FN2", "FN3"]
    # every footnote is marked somewhere, and each footnote knows who cites it
    marked = {r.target for p in _every(view) for r in p.runs if r.kind == "note"}
    assert marked == {p.id for p in view.footnotes}
    assert view.footnotes[1].cited_by == ("PP5", "OP1")


def test_symbols_link_to_their_official_addresses(view: DocumentView) -> None:
    pp7 = next(p for p in view.preamble if p.id == "PP7")
    assert [(r.text, r.target) for r in pp7.runs if r.kind == "symbol"] == [
        ("64/293", "https://undocs.org/A/RES/64/293")]
    fn11 = next(p for p in view.footnotes if p.id == "FN11")
    assert fn11.runs[0].kind == "symbol" and fn11.runs[0].target == "https://undocs.org/E/2002/68/Add.1"
    pp10 = next(p for p in view.preamble if p.id == "PP10")
    assert ("2017/18", "https://undocs.org/E/RES/2017/18") in [(r.text, r.target) for r in pp10.runs]


def test_openings_are_marked(view: DocumentView) -> None:
    assert view.operative[4].runs[0].kind == "opening" and view.operative[4].runs[0].text == "Further recalls"
    assert view.preamble[0].runs[0].text == "Reiterating"


def test_json_has_ids_labels_texts_footnotes_and_links(view: DocumentView) -> None:
    data = json.loads(json.dumps(document_json(view)))
    assert data["meta"]["title"] == "Improving the coordination of efforts against trafficking in persons"
    assert len(data["meta"]["sponsors"]) == 16
    op5 = data["operative"][4]
    assert op5["id"] == "OP5" and op5["label"] == "operative paragraph 5" and "30 July" in op5["text"]
    assert op5["runs"][0] == {"text": "Further recalls", "opening": True}
    pp4 = data["preamble"][3]
    assert pp4["footnotes"] == ["FN1"]
    assert {"text": "1", "footnote": "FN1"} in pp4["runs"]
    pp8 = data["preamble"][7]
    assert [i["id"] for i in pp8["items"]] == [f"PP8({c})" for c in "abcdef"]
    assert pp8["items"][2]["parent"] == "PP8"
    fn1 = data["footnotes"][0]
    assert fn1["cited_by"] == ["PP4", "OP10"]
    assert {"text": "70/1", "href": "https://undocs.org/A/RES/70/1"} in fn1["runs"]
    assert data["links"]["64/293"] == "https://undocs.org/A/RES/64/293"


def test_a_text_without_links_or_notes_is_one_run() -> None:
    raw = ("General Assembly\n\nDistr.: Limited\n1 November 2017\n\nOriginal: English\n\nSeventy-second session\n\n"
           "Third Committee\n\nAgenda item 107\n\nCrime prevention\n\nA and B: draft resolution\n\nA title\n\n"
           "The General Assembly,\n\nRecalling everything,\n\n1. *Decides* to act.\n")
    view = build_view(parse_text(raw), {})
    assert [(r.kind, r.text) for r in view.preamble[0].runs] == [("opening", "Recalling"), ("text", " everything,")]
    assert [(r.kind, r.text) for r in view.operative[0].runs] == [("opening", "Decides"), ("text", " to act.")]
