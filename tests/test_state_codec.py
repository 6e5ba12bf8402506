"""Contexts through JSON: every Answer comes back equal; what cannot be read is None, never an error."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from bot.context import Context
from bot.core import Core
from bot.model import Answer, Citation, Item
from bot.state.codec import decode_context, encode_context

text = st.text(max_size=40)
citations = st.builds(Citation, text, text, text, text, st.floats(allow_nan=False))
items = st.builds(Item, text, text, text)
answers = st.builds(
    Answer, question=text, found=st.booleans(), kind=text, text=text,
    citations=st.lists(citations, max_size=3).map(tuple), confidence=st.floats(allow_nan=False),
    items=st.lists(items, max_size=3).map(tuple), related=st.lists(text, max_size=3).map(tuple),
    error=st.none() | text, links=st.dictionaries(text, text, max_size=3),
)


@given(answers)
def test_any_answer_round_trips(answer: Answer) -> None:
    assert decode_context(encode_context(Context(last=answer))) == Context(last=answer)


def test_real_answers_round_trip(core: Core) -> None:
    for question in ("when is World Day?", "who sponsors it?", "what does it say about labour?"):
        answer = core.answer(question)
        assert decode_context(encode_context(Context(last=answer))) == Context(last=answer)


def test_fields_from_a_newer_release_are_ignored_and_missing_ones_defaulted() -> None:
    data = {"v": 1, "last": {"question": "q", "found": True, "kind": "fact", "text": "t", "mood": "new",
                             "citations": [{"id": "OP5", "label": "l", "text": "x", "quote": "x",
                                            "score": 1.0, "extra": 1}]}}
    context = decode_context(json.dumps(data))
    assert context is not None
    assert context.last.citations[0].id == "OP5" and context.last.items == () and context.last.links == {}


def test_unreadable_values_are_none() -> None:
    for raw in (b"", b"not json", b"[]", b'{"v": 2, "last": {}}', b'{"v": 1}', b'{"v": 1, "last": []}',
                b'{"v": 1, "last": {"question": "q"}}', b'{"v": 1, "last": {"question": "q", "found": true, '
                b'"kind": "k", "text": "t", "citations": [1]}}', b"\xff\xfe"):
        assert decode_context(raw) is None


def test_every_answer_field_has_a_type_the_codec_writes_and_reads() -> None:
    import dataclasses

    supported = {"str", "bool", "float", "str | None", "dict[str, str]", "tuple[str, ...]",
                 "tuple[Citation, ...]", "tuple[Item, ...]"}
    for cls in (Answer, Citation, Item):
        for field in dataclasses.fields(cls):
            assert str(field.type) in supported, (
                f"{cls.__name__}.{field.name}: {field.type} - teach bot/state/codec.py this type")
