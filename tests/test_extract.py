"""Clauses and headline words (bot/extract.py): the verbatim words a headline quotes."""

from __future__ import annotations

from bot.core import Core
from bot.extract import HEADLINE_CLAUSE_CHARS, answering_words, segment_at


def test_the_clause_after_the_matched_words_is_quoted_with_them(core: Core) -> None:
    # PP18: "the central role of UNODC" is its first clause; what that role is, the next one.
    chunk, segs = core.document.by_id["PP18"], core.segments["PP18"]
    words = answering_words(chunk.text, segs, 0)
    assert words.startswith("Emphasizing the central role of the work of the United Nations Office on Drugs")
    assert words.endswith("particularly in providing technical assistance to Member States")
    # a span that would grow past HEADLINE_SPAN_CHARS takes no more
    assert answering_words(chunk.text, segs, 0, (0, 1)) == words


def test_a_named_answer_is_quoted_in_its_own_clause(core: Core) -> None:
    # "Bangkok" sits in OP19's second clause: given its offset, that clause is quoted, whatever the span.
    chunk, segs = core.document.by_id["OP19"], core.segments["OP19"]
    at = chunk.text.index("Bangkok")
    words = answering_words(chunk.text, segs, 0, (0, 0), at=at)
    assert "held in Bangkok on 21 and 22 May 2014" in words and words.startswith("…")
    assert segment_at(segs, at) == next(i for i, s in enumerate(segs) if s.start <= at < s.end)


def test_a_lone_long_clause_is_cut_at_a_word(core: Core) -> None:
    chunk, segs = core.document.by_id["PP12"], core.segments["PP12"]
    assert len(segs) == 1 and len(chunk.text) > HEADLINE_CLAUSE_CHARS
    words = answering_words(chunk.text, segs, 0)
    assert words.endswith("…") and len(words) <= HEADLINE_CLAUSE_CHARS + 1
    assert chunk.text.startswith(words[:-1])
