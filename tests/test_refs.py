from __future__ import annotations

import pytest

from retrieval.refs import Ref, find_reference


@pytest.mark.parametrize(
    ("question", "ref"),
    [
        ("paragraph 5", Ref("operative", 5)),
        ("what does OP 12 say?", Ref("operative", 12)),
        ("operative paragraph 20", Ref("operative", 20)),
        ("preambular paragraph 3", Ref("preambular", 3)),
        ("PP8(c)", Ref("preambular", 8, "c")),
        ("pp 8 (e)", Ref("preambular", 8, "e")),
        ("footnote 11", Ref("footnote", 11)),
        ("fn 6?", Ref("footnote", 6)),
    ],
)
def test_references(question: str, ref: Ref) -> None:
    assert find_reference(question) == ref


@pytest.mark.parametrize("question", ["when is World Day?", "top 5 priorities", "resolution 64/293", "No. 29"])
def test_no_reference(question: str) -> None:
    assert find_reference(question) is None


def test_chunk_ids() -> None:
    assert Ref("preambular", 8, "C").chunk_id == "PP8(c)"
    assert Ref("footnote", 2).chunk_id == "FN2"
