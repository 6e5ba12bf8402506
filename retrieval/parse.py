"""Parse the published resolution text into a Document of stably identified chunks."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

SUPERSCRIPT_DIGITS = "⁰¹²³⁴⁵⁶⁷⁸⁹"
_SUP_TO_INT = str.maketrans(SUPERSCRIPT_DIGITS, "0123456789")
_SUP_RUN = re.compile(f"[{SUPERSCRIPT_DIGITS}]+")
_FOOTNOTE_LINE = re.compile(f"^([{SUPERSCRIPT_DIGITS}]+)\\s+(.*)$")
_MD_LINK = re.compile(r"\[([^\]]+)\]\([^)]*\)")
_OPERATIVE = re.compile(r"^(\d+)\.\s+(.*)$", re.S)
_SUBITEM = re.compile(r"^\(([a-z])\)\s+(.*)$", re.S)
_OP_VERB = re.compile(r"^\*([^*]+)\*\s*")
_PP_OPENING = re.compile(
    r"^(Bearing in mind|Taking note(?: also)?(?: with appreciation)? of|[A-Z][a-z]+ing(?: (?:also|further))?)\b"
)
_WS = re.compile(r"[ \t]+")

PREAMBLE_START = "The General Assembly,"


@dataclass(frozen=True, slots=True)
class Chunk:
    """One citable unit: a preambular or operative paragraph, a sub-item, a footnote or META."""

    id: str
    kind: str  # "meta" | "preambular" | "operative" | "subitem" | "footnote"
    number: int
    label: str
    text: str
    opening: str = ""
    footnotes: tuple[int, ...] = ()
    cited_by: tuple[str, ...] = ()
    parent: str = ""
    anchors: tuple[tuple[int, str], ...] = ()  # (footnote, the words its marker follows)
    context: str = ""  # indexed but never quoted: the source an "Ibid." footnote repeats


@dataclass(frozen=True, slots=True)
class Meta:
    """Document data from the header of the published text."""

    title: str
    date: str
    session: str
    committee: str
    agenda_item: str
    agenda_title: str
    sponsors: tuple[str, ...]
    distribution: str
    original_language: str
    document_type: str


@dataclass(frozen=True)
class Document:
    """The whole resolution: metadata plus chunks in reading order, addressable by id."""

    meta: Meta
    chunks: tuple[Chunk, ...]
    by_id: dict[str, Chunk] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "by_id", {c.id: c for c in self.chunks})

    def of_kind(self, kind: str) -> list[Chunk]:
        """Chunks of one kind, in order."""
        return [c for c in self.chunks if c.kind == kind]

    def get(self, chunk_id: str) -> Chunk | None:
        """The chunk with this id, or None."""
        return self.by_id.get(chunk_id)


def clean_inline(text: str) -> str:
    """Drop Markdown links and emphasis markers, fold spaces."""
    text = _MD_LINK.sub(r"\1", text)
    text = text.replace("*", "")
    return _WS.sub(" ", text).strip()


def footnote_anchors(text: str, width: int = 200) -> tuple[tuple[int, str], ...]:
    """For each footnote marker, the words since the previous marker: what the footnote annotates."""
    anchors = []
    start = 0
    for m in _SUP_RUN.finditer(text):
        span = text[start: m.start()]
        before = span[-width:].split(" ", 1)[-1] if len(span) > width else span  # start on a whole word
        anchors.append((int(m.group().translate(_SUP_TO_INT)), before.strip(" ,;")))
        start = m.end()
    return tuple(anchors)


def footnote_markers(text: str) -> tuple[tuple[int, ...], str]:
    """The footnote numbers a paragraph cites, and its text without the markers."""
    numbers = tuple(int(m.group().translate(_SUP_TO_INT)) for m in _SUP_RUN.finditer(text))
    return numbers, _SUP_RUN.sub("", text)


def _blocks(raw: str) -> tuple[list[str], dict[int, str]]:
    """Split the text into paragraphs, lifting footnote lines out and rejoining page-broken paragraphs."""
    blocks: list[str] = []
    notes: dict[int, str] = {}
    for block in re.split(r"\n\s*\n", raw):
        block = "\n".join(line.strip() for line in block.strip().splitlines())
        if not block:
            continue
        note = _FOOTNOTE_LINE.match(block)
        if note:
            notes[int(note.group(1).translate(_SUP_TO_INT))] = clean_inline(note.group(2))
            continue
        blocks.append(block)
    return blocks, notes


def _join_page_breaks(blocks: list[str]) -> list[str]:
    """Rejoin body paragraphs that a page break and footnote block cut in two."""
    joined: list[str] = []
    for block in blocks:
        unfinished = joined and not joined[-1].rstrip("*" + SUPERSCRIPT_DIGITS).endswith((",", ";", ".", ":"))
        if joined and (block[0].islower() or unfinished):
            joined[-1] = f"{joined[-1]} {block}"
        else:
            joined.append(block)
    return joined


def _parse_sponsors(line: str) -> tuple[str, ...]:
    """The sponsoring States from 'A, B and C: revised draft resolution'."""
    names = line.split(":", 1)[0]
    head, _, last = names.rpartition(" and ")
    return (*tuple(n.strip() for n in head.split(",") if n.strip()), last.strip())


def _parse_meta(header: list[str]) -> tuple[Meta, int]:
    """Read the header blocks before the title; returns Meta and the title's index."""
    sponsor_idx = next(i for i, b in enumerate(header) if re.search(r": (revised )?draft resolution", b))
    sponsors_line = header[sponsor_idx]
    agenda_idx = next(i for i, b in enumerate(header) if b.startswith("Agenda item"))
    date = next(b for b in header if re.fullmatch(r"\d{1,2} [A-Z][a-z]+ \d{4}", b))
    meta = Meta(
        title=header[sponsor_idx + 1],
        date=date,
        session=next(b for b in header if b.endswith("session")),
        committee=next(b for b in header if b.endswith("Committee")),
        agenda_item=header[agenda_idx].removeprefix("Agenda item").strip(),
        agenda_title=header[agenda_idx + 1],
        sponsors=_parse_sponsors(sponsors_line),
        distribution=next(b for b in header if b.startswith("Distr.:")).split(":", 1)[1].strip(),
        original_language=next(b for b in header if b.startswith("Original:")).split(":", 1)[1].strip(),
        document_type=sponsors_line.split(":", 1)[1].strip(),
    )
    return meta, sponsor_idx + 1


def meta_text(meta: Meta) -> str:
    """A readable, searchable rendering of the document data."""
    return (
        f"{meta.title}. {meta.document_type.capitalize()} of the General Assembly, {meta.session}, "
        f"{meta.committee}, agenda item {meta.agenda_item} ({meta.agenda_title}), dated {meta.date}. "
        f"Distribution: {meta.distribution}. Original language: {meta.original_language}. "
        f"Sponsored by {len(meta.sponsors)} States: {', '.join(meta.sponsors)}."
    )


def _preambular(blocks: list[str], notes_of: dict[str, tuple[int, ...]]) -> list[Chunk]:
    """Preambular paragraphs PP1.., with sub-items of a paragraph as PPn(a).."""
    chunks: list[Chunk] = []
    number = 0
    for block in blocks:
        cites, text = footnote_markers(clean_inline(block))
        sub = _SUBITEM.match(text)
        if sub and chunks:
            parent = next(c for c in reversed(chunks) if c.kind == "preambular")
            letter = sub.group(1)
            cid = f"{parent.id}({letter})"
            notes_of[cid] = cites
            chunks.append(Chunk(cid, "subitem", parent.number, f"preambular paragraph {parent.number}({letter})",
                                text, opening=f"({letter})", footnotes=cites, parent=parent.id,
                                context=parent.text))  # an item means what its chapeau says it is
            continue
        number += 1
        opening = m.group(1) if (m := _PP_OPENING.match(text)) else text.split(" ", 1)[0]
        cid = f"PP{number}"
        notes_of[cid] = cites
        chunks.append(Chunk(cid, "preambular", number, f"preambular paragraph {number}", text,
                            opening=opening, footnotes=cites, anchors=footnote_anchors(clean_inline(block))))
    return _fold_subitems(chunks)


def _fold_subitems(chunks: list[Chunk]) -> list[Chunk]:
    """Give a paragraph with sub-items its whole text (intro plus items) as well."""
    out: list[Chunk] = []
    for chunk in chunks:
        if chunk.kind == "subitem":
            parent = out[-1] if out[-1].kind == "preambular" else next(c for c in reversed(out) if c.id == chunk.parent)
            idx = out.index(parent)
            out[idx] = Chunk(parent.id, parent.kind, parent.number, parent.label, f"{parent.text} {chunk.text}",
                             parent.opening, parent.footnotes + chunk.footnotes,
                             anchors=parent.anchors + chunk.anchors)
        out.append(chunk)
    return out


def _operative(blocks: list[str], notes_of: dict[str, tuple[int, ...]]) -> list[Chunk]:
    """Operative paragraphs OP1.. with their italic opening verb."""
    chunks: list[Chunk] = []
    for block in blocks:
        m = _OPERATIVE.match(_WS.sub(" ", _MD_LINK.sub(r"\1", block)))
        if not m:
            raise ValueError(f"operative block without a number: {block[:60]!r}")
        number, body = int(m.group(1)), m.group(2)
        verb = v.group(1).strip() if (v := _OP_VERB.match(body)) else body.split(" ", 1)[0]
        cites, text = footnote_markers(clean_inline(body))
        cid = f"OP{number}"
        notes_of[cid] = cites
        chunks.append(Chunk(cid, "operative", number, f"operative paragraph {number}", text,
                            opening=verb, footnotes=cites, anchors=footnote_anchors(clean_inline(body))))
    return chunks


def _footnotes(notes: dict[int, str], notes_of: dict[str, tuple[int, ...]]) -> list[Chunk]:
    """Footnotes FN1.., each knowing the paragraphs that cite it; "Ibid." also indexes its source."""
    chunks = []
    source = ""
    for n in sorted(notes):
        cited_by = tuple(cid for cid, cites in notes_of.items() if n in cites and "(" not in cid)
        text = notes[n]
        if not text.startswith("Ibid"):
            source = ",".join(text.split(",")[:2]) if text.count(",") >= 2 else ""
        ibid = source if text.startswith("Ibid") else ""  # "Ibid., vol. 2237": the source it repeats
        chunks.append(Chunk(f"FN{n}", "footnote", n, f"footnote {n}", text, cited_by=cited_by, context=ibid))
    return chunks


def parse_text(raw: str) -> Document:
    """Turn the published text (page breaks, interleaved footnotes) into a Document."""
    blocks, notes = _blocks(raw)
    start = blocks.index(PREAMBLE_START)
    meta, _ = _parse_meta([line for b in blocks[:start] for line in b.split("\n")])
    body = _join_page_breaks([" ".join(b.split("\n")) for b in blocks[start + 1:]])
    first_op = next(i for i, b in enumerate(body) if _OPERATIVE.match(b))
    notes_of: dict[str, tuple[int, ...]] = {}
    preamble = _preambular(body[:first_op], notes_of)
    operative = _operative(body[first_op:], notes_of)
    meta_chunk = Chunk("META", "meta", 0, "document data", meta_text(meta))
    chunks = [meta_chunk, *preamble, *operative, *_footnotes(notes, notes_of)]
    return Document(meta=meta, chunks=tuple(chunks))


def load_document(path: Path) -> Document:
    """Read and parse the resolution file."""
    return parse_text(path.read_text(encoding="utf-8"))
