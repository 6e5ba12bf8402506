"""Answer -> Telegram HTML messages and keyboard data; pure functions, no PTB types.

Every message is built from blocks: a block is plain text split to fit first, then escaped
and wrapped in tags, so no tag or surrogate pair is ever cut. Blocks are packed into
messages of at most 4096 UTF-16 code units of visible text and 100 entities.
"""

from __future__ import annotations

import hashlib
import html
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from bot.model import Answer, Citation
from bot.render.split import split_text, utf16_len

MESSAGE_LIMIT = 4096  # UTF-16 code units of visible text per message
ENTITY_LIMIT = 100  # formatting entities per message
CALLBACK_LIMIT = 64  # bytes of callback_data
BUTTON_TEXT_LIMIT = 100  # characters shown on an example-question button
INLINE_TITLE_LIMIT = 80
INLINE_DESCRIPTION_LIMIT = 160
RELATED_QUOTE_CHARS = 300  # the related list shows the start of each paragraph
SEPARATOR = "\n\n"

FULL = "f"  # callback prefix: show the full text of one chunk
RELATED = "r"  # callback prefix: show the next best hits
QUESTION = "q"  # callback prefix: ask this question
EXAMPLE = "x"  # callback prefix: ask example number N
UNHELPFUL = "u"  # callback prefix: the user marks the answer with this token as not helpful
UNHELPFUL_LABEL = "Not helpful"


@dataclass(frozen=True, slots=True)
class Block:
    """A piece of HTML that is never split, with its visible length and entity count."""

    html: str
    size: int
    entities: int
    sep: str = SEPARATOR  # joins this block to the previous one in the same message


@dataclass(frozen=True, slots=True)
class Button:
    """An inline keyboard button that sends ``data`` back as a callback query."""

    text: str
    data: str


@dataclass(frozen=True, slots=True)
class Reply:
    """One or more HTML messages, with a keyboard for the last one."""

    pieces: tuple[str, ...]
    keyboard: tuple[tuple[Button, ...], ...] = ()


@dataclass(frozen=True, slots=True)
class InlineResult:
    """One inline-mode result: a title and the message it sends when chosen."""

    id: str
    title: str
    description: str
    html: str
    keyboard: tuple[tuple[Button, ...], ...] = ()


def escape(text: str) -> str:
    """Escape text for Telegram HTML (``<``, ``>``, ``&`` and quotes)."""
    return html.escape(text, quote=True)


def _pieces(plain: str, budget: int) -> list[str]:
    """Plain text cut on paragraph, line, then word boundaries to ``budget`` UTF-16 units."""
    plain = plain.strip()
    if not plain:
        return []
    return split_text(plain, max(budget, 1), utf16_len)


def text_blocks(plain: str, tag: str | None = None, budget: int = MESSAGE_LIMIT) -> list[Block]:
    """Blocks of escaped ``plain`` text, each optionally wrapped in ``<tag>``."""
    blocks = []
    for piece in _pieces(plain, budget):
        body = escape(piece)
        if tag:
            body = f"<{tag}>{body}</{tag}>"
        blocks.append(Block(body, utf16_len(piece), 1 if tag else 0))
    return blocks


def label_of(citation: Citation) -> str:
    """A display label: "Operative paragraph 5", falling back to the id."""
    label = citation.label.strip() or citation.id
    return label[:1].upper() + label[1:]


def citation_blocks(citation: Citation, *, full: bool = False, max_chars: int = 0) -> list[Block]:
    """A bold label, then the quote (or the full text) in a blockquote."""
    label = label_of(citation)
    header = Block(f"<b>{escape(label)}</b>", utf16_len(label), 1)
    body = (citation.text if full else citation.quote) or citation.text
    if max_chars:
        body = shorten(body, max_chars)
    budget = MESSAGE_LIMIT - header.size - 1
    quotes = text_blocks(body, "blockquote", budget)
    if not quotes:
        return [header]
    first = quotes[0]
    joined = Block(f"{header.html}\n{first.html}", header.size + 1 + first.size,
                   header.entities + first.entities)
    return [joined, *quotes[1:]]


def item_blocks(answer: Answer) -> list[Block]:
    """List answers: one bullet per item, grouped under bold group headings."""
    blocks: list[Block] = []
    group: str | None = None
    for item in answer.items:
        first_of_group = item.group != group
        if first_of_group:
            group = item.group
        plain = f"• {item.text}" + (f" ({item.cite})" if item.cite else "")
        lines = text_blocks(plain)
        if first_of_group and group and lines:
            head = Block(f"<b>{escape(group)}</b>", utf16_len(group), 1)
            lines[0] = _join([head, lines[0]], "\n")
        blocks.extend(lines if first_of_group else [_with_sep(b, "\n") for b in lines])
    return blocks


def _with_sep(block: Block, sep: str) -> Block:
    """The same block, joined to its predecessor with ``sep``."""
    return Block(block.html, block.size, block.entities, sep)


def _join(blocks: Sequence[Block], sep: str) -> Block:
    """One unsplittable block made of several (callers keep it under the limit)."""
    size = sum(b.size for b in blocks) + utf16_len(sep) * (len(blocks) - 1)
    entities = sum(b.entities for b in blocks)
    return Block(sep.join(b.html for b in blocks), size, entities)


def link_blocks(links: dict[str, str]) -> list[Block]:
    """Document symbols linked to their pages (http(s) only)."""
    parts: list[Block] = []
    for symbol, url in links.items():
        if url.startswith(("https://", "http://")):
            tag = f'<a href="{escape(url)}">{escape(symbol)}</a>'
            parts.append(Block(tag, utf16_len(symbol), 1))
    if not parts:
        return []
    head = Block("Documents: ", utf16_len("Documents: "), 0)
    chunks = [parts[i:i + 20] for i in range(0, len(parts), 20)]
    return [_join([head, _join(chunk, ", ")], "") for chunk in chunks]


def pack(blocks: Iterable[Block], limit: int = MESSAGE_LIMIT,
         max_entities: int = ENTITY_LIMIT) -> tuple[str, ...]:
    """Pack blocks, in order, into messages within the length and entity limits."""
    pieces: list[str] = []
    current: list[str] = []
    size = entities = 0
    for block in blocks:
        extra = block.size + (utf16_len(block.sep) if current else 0)
        if current and (size + extra > limit or entities + block.entities > max_entities):
            pieces.append("".join(current))
            current, size, entities = [], 0, 0
            extra = block.size
        current.append(f"{block.sep}{block.html}" if current else block.html)
        size += extra
        entities += block.entities
    if current:
        pieces.append("".join(current))
    return tuple(pieces)


def answer_blocks(answer: Answer, *, full: bool = False) -> list[Block]:
    """The blocks of an answer: sentence(s), list items, citations, links."""
    blocks = text_blocks(answer.text)
    if not all(item.text in answer.text for item in answer.items):
        blocks.extend(item_blocks(answer))  # bullets only when the sentence does not list them
    for citation in answer.citations:
        blocks.extend(citation_blocks(citation, full=full))
    blocks.extend(link_blocks(answer.links))
    return blocks


def render_answer(answer: Answer, *, echo: bool = False, feedback: str | None = None) -> Reply:
    """An answer as HTML messages, with "Full paragraph" and "Related" buttons.

    ``echo`` repeats the question first (in italics), for answers to a pressed button or
    an inline query, where the question is not visible in the chat. ``feedback``, a token,
    adds a "Not helpful" button that sends it back.
    """
    blocks = text_blocks(answer.question, "i") if echo else []
    blocks.extend(answer_blocks(answer))
    pieces = pack(blocks) or (escape("No answer."),)
    keyboard = answer_keyboard(answer)
    if feedback:
        button = Button(UNHELPFUL_LABEL, callback(UNHELPFUL, feedback))
        keyboard = (*keyboard[:-1], (*keyboard[-1], button)) if keyboard else ((button,),)
    return Reply(pieces, keyboard)


def render_paragraph(answer: Answer) -> Reply:
    """A document lookup (``core.show``): the full text of each chunk, no buttons."""
    if answer.citations:
        blocks = []
        if not _restates(answer.text, answer.citations):
            blocks.extend(text_blocks(answer.text))
        for citation in answer.citations:
            blocks.extend(citation_blocks(citation, full=True))
        blocks.extend(link_blocks(answer.links))
    else:
        blocks = answer_blocks(answer)
    pieces = pack(blocks) or (escape("Nothing to show."),)
    keyboard = (related_row(answer.related),) if answer.related else ()
    return Reply(pieces, tuple(row for row in keyboard if row))


def _restates(text: str, citations: Sequence[Citation]) -> bool:
    """True when ``text`` only repeats the first citation's label or full text."""
    text = text.strip()
    first = citations[0]
    return not text or any(text == c.text.strip() for c in citations) or text.rstrip(".") in (
        f"{label_of(first)} ({first.id})", label_of(first), first.id)


def render_related(hits: Sequence[Answer]) -> Reply:
    """The next best hits: label and quote of each, with a "Full" button per hit."""
    blocks: list[Block] = [Block("Related paragraphs:", utf16_len("Related paragraphs:"), 0)]
    buttons: list[Button] = []
    for hit in hits:
        for citation in hit.citations[:1]:
            blocks.extend(citation_blocks(citation, max_chars=RELATED_QUOTE_CHARS))
            buttons.append(Button(f"Full {citation.id}", callback(FULL, citation.id)))
    if len(blocks) == 1:
        return Reply((escape("No related paragraphs."),))
    rows = tuple(tuple(buttons[i:i + 3]) for i in range(0, len(buttons), 3))
    return Reply(pack(blocks), rows)


def answer_keyboard(answer: Answer) -> tuple[tuple[Button, ...], ...]:
    """Buttons under an answer: expand the top citation, show related hits."""
    row: list[Button] = []
    if answer.citations:
        top = answer.citations[0]
        if top.text.strip() and top.quote.strip() != top.text.strip():
            row.append(Button("Full paragraph", callback(FULL, top.id)))
    row.extend(related_row(answer.related))
    return (tuple(row),) if row else ()


def related_row(related: Sequence[str]) -> tuple[Button, ...]:
    """A "Related" button carrying as many related ids as fit in the callback data."""
    data = callback(RELATED, *related)
    return (Button("Related", data),) if related and data != f"{RELATED}:" else ()


def callback(prefix: str, *ids: str) -> str:
    """``prefix:id,id,...`` with as many ids as fit in 64 bytes."""
    data = f"{prefix}:"
    for ident in ids:
        candidate = data + ("," if data[-1] != ":" else "") + ident
        if len(candidate.encode()) > CALLBACK_LIMIT:
            break
        data = candidate
    return data


def parse_callback(data: str) -> tuple[str, list[str]]:
    """Split callback data into its prefix and ids (``q:`` keeps the rest whole)."""
    prefix, _, rest = data.partition(":")
    if prefix == QUESTION:
        return prefix, [rest]
    return prefix, [part for part in rest.split(",") if part]


def example_keyboard(examples: Sequence[str], count: int = 3) -> tuple[tuple[Button, ...], ...]:
    """One button per example question; the question rides in the data when it fits."""
    rows = []
    for index, question in enumerate(examples[:count]):
        data = f"{QUESTION}:{question}"
        if len(data.encode()) > CALLBACK_LIMIT:
            data = f"{EXAMPLE}:{index}"
        rows.append((Button(shorten(question, BUTTON_TEXT_LIMIT), data),))
    return tuple(rows)


def shorten(text: str, limit: int) -> str:
    """One line of at most ``limit`` characters, cut at a word if one is near, with an ellipsis."""
    line = " ".join(text.split())
    if len(line) <= limit:
        return line
    cut = line[: limit - 1]
    space = cut.rfind(" ")
    if space >= limit * 0.6:
        cut = cut[:space]
    return cut.rstrip(" ,;:") + "…"


def render_start(help_text: str, examples: Sequence[str]) -> Reply:
    """The /start greeting: what the bot covers and three example questions."""
    blocks = [Block("<b>Hello!</b>", 6, 1), *text_blocks(help_text)]
    if examples:
        blocks.extend(text_blocks("Try one of these questions, or type your own:"))
    return Reply(pack(blocks), example_keyboard(examples))


def render_help(help_text: str, commands: Sequence[tuple[str, str]]) -> Reply:
    """The /help text: coverage, then every command with its description."""
    lines = [f"/{name} - {description}" for name, description in commands]
    blocks = [*text_blocks(help_text), *text_blocks("\n".join(lines)),
              *text_blocks("In groups, use /ask or mention me. Anywhere, type "
                           "@<bot name> and a question for inline answers.")]
    return Reply(pack(blocks))


def render_notice(text: str) -> Reply:
    """A short plain notice (hints, usage), escaped."""
    return Reply(pack(text_blocks(text)) or (escape("…"),))


def inline_results(
    answer: Answer, paragraphs: Sequence[Answer], limit: int = 5,
) -> list[InlineResult]:
    """Inline mode: the answer first, then the cited paragraphs, at most ``limit`` results."""
    key = hashlib.sha1(answer.question.encode("utf-8", "replace")).hexdigest()[:12]
    reply = render_answer(answer, echo=True)
    described = "; ".join(label_of(c) for c in answer.citations) or shorten(answer.text, 60)
    results = [InlineResult(f"a{key}", shorten(answer.text or "No answer", INLINE_TITLE_LIMIT),
                            shorten(described, INLINE_DESCRIPTION_LIMIT), reply.pieces[0],
                            _first_full_button(answer))]
    for paragraph in paragraphs:
        if len(results) >= limit or not paragraph.citations:
            continue
        citation = paragraph.citations[0]
        if any(r.id.endswith(f"{key}{citation.id}") for r in results):
            continue
        results.append(InlineResult(
            f"p{key}{citation.id}"[:64], label_of(citation),
            shorten(citation.quote or citation.text, INLINE_DESCRIPTION_LIMIT),
            render_paragraph(paragraph).pieces[0]))
    return results[:limit]


def _first_full_button(answer: Answer) -> tuple[tuple[Button, ...], ...]:
    """Only the "Full paragraph" button (inline messages cannot get follow-up messages)."""
    return tuple((b,) for row in answer_keyboard(answer) for b in row if b.data.startswith(FULL))


def inline_examples(answers: Sequence[Answer], limit: int = 5) -> list[InlineResult]:
    """Inline mode with an empty query: example questions, each with its answer."""
    results = []
    for index, answer in enumerate(answers[:limit]):
        reply = render_answer(answer, echo=True)
        results.append(InlineResult(
            f"x{index}", shorten(answer.question, INLINE_TITLE_LIMIT),
            shorten(answer.text, INLINE_DESCRIPTION_LIMIT), reply.pieces[0],
            _first_full_button(answer)))
    return results
