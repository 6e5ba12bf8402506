"""The context a conversation keeps: small, and enough for every follow-up."""

from __future__ import annotations

from bot.context import Context, advance
from bot.core import Core
from bot.evaluate import load_cases
from bot.model import Answer
from bot.shape_eval import load_shape_cases
from bot.state.codec import encode_context


def _conversations(core: Core) -> list[tuple[list[str], str]]:
    """Every follow-up of the dev sets: the earlier messages and the follow-up."""
    folder = core.config.path("eval").parent
    shaped = [(list(c.after), c.question) for c in load_shape_cases(folder / "eval_shapes.yaml") if c.after]
    factual = [([c.context], c.question) for c in load_cases(folder / "eval.yaml") if c.context]
    return shaped + factual


def _asked(core: Core, earlier: list[str], question: str, kept: bool) -> Answer:
    """The follow-up's answer when the conversation keeps Context.after (kept) or whole answers."""
    context: Context | None = None
    for message in earlier:
        answer = core.answer(message, context=context)
        if answer.found:
            context = Context.after(answer) if kept else Context(last=answer)
    return core.answer(question, context=context)


def test_follow_ups_answer_the_same_from_the_kept_context_as_from_the_whole_answer(core: Core) -> None:
    conversations = _conversations(core)
    assert len(conversations) >= 20
    for earlier, question in conversations:
        assert _asked(core, earlier, question, kept=True) == _asked(core, earlier, question, kept=False), question


def test_the_kept_context_is_a_fraction_of_the_answer(core: Core) -> None:
    answer = core.answer("what does it say about forced labour?")
    whole, kept = encode_context(Context(last=answer)), encode_context(Context.after(answer))
    assert len(kept) * 3 < len(whole)
    assert Context.after(answer).last.citations[0].id == answer.citations[0].id
    assert Context.after(answer).last.question == answer.question and not Context.after(answer).last.text


def test_advance_keeps_the_last_found_answer_only() -> None:
    found = Answer(question="q", found=True, kind="fact", text="long text")
    missed = Answer(question="r", found=False, kind="none", text="not found")
    kept = advance(None, found)
    assert kept == Context.after(found)
    assert advance(kept, missed) is kept


def test_the_kept_context_names_every_answer_field_it_keeps_or_drops() -> None:
    import dataclasses

    dropped = {"text", "links"}  # and the text of citations and items
    kept = {f.name for f in dataclasses.fields(Answer)} - dropped
    answer = Answer(question="q", found=True, kind="fact", text="t", confidence=0.5, related=("OP1",),
                    error=None, links={"A/1": "https://x"}, subject="s")
    after = Context.after(answer).last
    for name in kept:
        assert getattr(after, name) == getattr(answer, name), f"Context.after drops {name}: keep it or list it"
