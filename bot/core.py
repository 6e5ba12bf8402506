"""The answer core: a plain, synchronous function from a question (and context) to an Answer.

No channel, network or event-loop code lives here; every frontend calls `Core.answer`.
"""

from __future__ import annotations

import functools
import re
import threading
import unicodedata
from collections import OrderedDict
from dataclasses import dataclass, replace
from pathlib import Path

import retrieval
from bot.answers.dispatch import ShapeAnswers
from bot.answers.follow_up import FollowUps
from bot.answers.mentions import MentionIndex
from bot.answers.toolkit import Toolkit
from bot.answers.typed import Asked, Thing, TypedAnswers, load_typed
from bot.config import Config, ConfigError, load_config
from bot.context import Context
from bot.extract import Segment, answering_words, best_segment, pick_entities, quote, split_segments
from bot.model import Answer, Citation, Item
from bot.structured import Structure, StructuredAnswers, read_structure
from bot.templates import Templates, load_templates
from retrieval.cache import cache_key, load_or_build
from retrieval.clauses import ClauseRanker, ClauseSettings, build_ranker
from retrieval.glossary import Glossary, load_glossary
from retrieval.index import BM25Params
from retrieval.nlp import Analyzer, Entity, clean_text
from retrieval.parse import Chunk, Document, load_document
from retrieval.refs import Ref, find_reference
from retrieval.search import SYNONYM_WEIGHT, Hit, Searcher, SearchResult, SearchState
from retrieval.structure import Directive

KIND_BOOST = 0.5  # favour chunks that hold the asked-for entity type (a date for "when")
LIST_BOOST = 0.5  # per pair of named organisations, for "which agencies ..." questions
LIST_MIN_ENTITIES = 3
RETRIEVAL_EXCLUDED = frozenset({"meta"})  # document data is answered by intents, never by word overlap
_LIST_LABELS = frozenset({"ORG", "PERSON"})
UNTYPED_KINDS = frozenset({"when", "where", "how_often", "how_many"})  # these ask for a date, place or figure
DERIVING_CODE = ("extract.py", "structured.py")  # bot/ modules whose output is cached with the index
_NUMBER = re.compile(r"\b\d+\b|\b(?:two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|sixteen)\b", re.I)


_SENTENCE_END = re.compile(r"(?<=[.?!])\s+")


def asking_sentences(text: str) -> list[str]:
    """The sentences of a multi-sentence message that ask something, last first (none for one sentence)."""
    sentences = [s.strip() for s in _SENTENCE_END.split(text) if s.strip()]
    if len(sentences) < 2:
        return []
    asking = [s for s in sentences if s.endswith("?")] or sentences[-1:]
    return asking[::-1]


@dataclass(frozen=True, slots=True)
class Thresholds:
    """When to say "not in this resolution", and how much to cite."""

    min_score: float
    min_coverage: float
    min_coverage_rare: float
    related_ratio: float
    quote_chars: int
    max_question_chars: int
    top_k: int


@dataclass(frozen=True)
class Derived:
    """Everything computed from the content files and settings once, then cached on disk."""

    state: SearchState
    segments: dict[str, tuple[Segment, ...]]
    structure: Structure
    action_terms: dict[Directive, frozenset[str]]
    anchor_terms: dict[tuple[str, int], frozenset[str]]
    clauses: ClauseRanker


def _derive(document: Document, analyzer: Analyzer, templates: Templates, params: BM25Params,
            typo_len: int, clause_settings: ClauseSettings) -> Derived:
    """Analyse every chunk, clause, directive and footnote anchor (the slow part of a start)."""
    searcher = Searcher(document, analyzer, params, typo_len)
    segments = {c.id: split_segments(c.text, analyzer) for c in document.chunks}
    spans = {cid: [(seg.start, seg.end) for seg in segs] for cid, segs in segments.items()}
    structure = read_structure(document, searcher, templates, spans)
    action_terms = {d: frozenset(analyzer.terms(d.action)) for d in structure.directives}
    anchor_terms = {(c.id, number): frozenset(analyzer.terms(anchor, expand_names=True))
                    for c in document.chunks for number, anchor in c.anchors}
    clauses = build_ranker(searcher.state.analyses, analyzer, spans, params, clause_settings,
                           keep=lambda cid: document.by_id[cid].kind not in RETRIEVAL_EXCLUDED)
    return Derived(searcher.state, segments, structure, action_terms, anchor_terms, clauses)


def _countries_path(config: Config) -> Path:
    """content.countries, or countries.yaml beside the glossary for configs written before it existed."""
    try:
        return config.path("countries")
    except ConfigError:
        return config.path("glossary").with_name("countries.yaml")


def _join(names: list[str]) -> str:
    """'a', 'a and b', 'a, b and c'."""
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


class Core:
    """Loaded content plus the search index; answers are pure functions of the question."""

    def __init__(self, config: Config) -> None:
        r = config.section("retrieval")
        params = BM25Params(variant=str(r.get("variant", "okapi")), k1=float(r.get("k1", 0.6)),
                            b=float(r.get("b", 0.5)), delta=float(r.get("delta", 0.5)),
                            epsilon=float(r.get("epsilon", 0.25)))
        self.config = config
        normaliser, typo_len = str(r.get("normaliser", "stem")), int(r.get("typo_min_length", 6))
        paths = [config.path("resolution"), config.path("glossary"), config.path("templates")]
        with config.reading("content.resolution", paths[0]):
            document = load_document(paths[0])
        with config.reading("content.glossary", paths[1]):
            analyzer = Analyzer(load_glossary(paths[1]), normaliser)
        with config.reading("content.templates", paths[2]):
            self.templates: Templates = load_templates(paths[2])
        clause_settings = ClauseSettings(str(r.get("clause_method", "window")), float(r.get("clause_blend", 0.3)))

        def derive() -> Derived:
            return _derive(document, analyzer, self.templates, params, typo_len, clause_settings)

        cache_dir = r.get("cache_dir")
        key = cache_key(paths, (params, normaliser, typo_len, clause_settings),
                        Path(retrieval.__file__).parent, [Path(__file__).with_name(n) for n in DERIVING_CODE])
        derived = load_or_build(config.output_path(str(cache_dir)) if cache_dir else None, key, derive)
        state, self.segments = derived.state, derived.segments
        self.searcher = Searcher(document, analyzer, params, typo_len, state)
        self.document: Document = document
        self.glossary: Glossary = analyzer.glossary
        a = config.section("answer")
        self.limits = Thresholds(float(a.get("min_score", 1.0)), float(a.get("min_coverage", 0.5)),
                                 float(a.get("min_coverage_rare", 0.25)),
                                 float(a.get("related_ratio", 0.6)), int(a.get("quote_chars", 260)),
                                 int(a.get("max_question_chars", 1000)), int(r.get("top_k", 3)))
        # Answers are pure functions of the cleaned question: repeated questions cost a dict lookup.
        # The lock matters because web channels read the memo inline and fill it from a worker thread.
        # Each entry also says whether its question reads as a follow-up, so a cached reply needs no regex.
        self._memo: OrderedDict[str, tuple[Answer, bool]] = OrderedDict()
        self._memo_size = int(a.get("cache_size", 4096))
        self._quick_chars = int(a.get("quick_chars", 300))
        self._recent_leans = functools.lru_cache(maxsize=256)(self._leans_on_context_uncached)
        # The memo key, the follow-up test and the answer each separate a question from its courtesy.
        self._recent_separated = functools.lru_cache(maxsize=256)(self.templates.courtesy.separate)
        self._memo_lock = threading.Lock()
        self._compute_lock = threading.Lock()
        self.structure = derived.structure
        self.structured = StructuredAnswers(document, analyzer, self.templates, self.structure,
                                            self.limits.quote_chars, state.plain_terms, derived.action_terms)
        self._anchor_terms = derived.anchor_terms
        kit = Toolkit(document, self.searcher, self.templates, self.segments,
                      MentionIndex(document, self.searcher, self.segments), self.limits.quote_chars)
        countries = _countries_path(config)
        with config.reading("content.countries", countries):
            self.shapes = ShapeAnswers(kit, self.structure.directives, countries)
        self.follow_ups = FollowUps(analyzer, self.shapes.reader, self.templates.detail_words,
                                   self.templates.document_names)
        self.clauses = derived.clauses
        kinds, factual_answers = load_typed(config.path("templates"))
        self.typed = TypedAnswers(document, analyzer, kinds, factual_answers,
                                  {c.id: self.searcher.entities(c.id) for c in document.chunks}, RETRIEVAL_EXCLUDED,
                                  state.name_vectors)

    # ----- public API -------------------------------------------------------------------
    def answer(self, question: str, context: Context | None = None) -> Answer:
        """Answer one question about the resolution; never raises for any input string."""
        if len(question) > self.limits.max_question_chars * 4:
            return self._invalid(clean_text(question[:200]), "too_long", len(question))
        text = clean_text(question)
        if not text or all(unicodedata.category(ch)[0] in "PZC" for ch in text):  # nothing but punctuation
            return self._invalid(text, "empty", 0)
        if len(text) > self.limits.max_question_chars:
            return self._invalid(text[:200], "too_long", len(text))
        stripped = self._recent_separated(text)
        if stripped.only_courtesy:
            return self._courtesy_reply(text, stripped.thanked)
        text = stripped.question
        if context is not None:
            with self._compute_lock:
                answer = self._follow_up(text, context.last)
            if answer is not None:
                return self._with_links(answer)
        return self._memoised(text)

    def is_quick(self, question: str) -> bool:
        """True when answering ``question`` takes a few milliseconds at most, so a caller may do it inline.

        Answer time grows with the question's length (a 300-character question takes about 2 ms
        here); below CPython's thread switch interval (5 ms) a worker thread would not let an
        event loop run any sooner, and handing work to it costs more than a short answer does.
        """
        return len(question) <= self._quick_chars

    def may_follow_up(self, question: str) -> bool:
        """False when ``question`` is answered the same in any conversation, so its context need not be read."""
        text = self.asked(question)
        with self._memo_lock:
            hit = self._memo.get(text)
        if hit is not None:
            return hit[1]
        with self._compute_lock:  # it may analyse the text (a pronoun): never beside another analysis
            return self._leans_on_context(text)

    def ready_answer(self, question: str, context: Context | None = None) -> Answer | None:
        """The answer if it is already memoised (no work done), else None: lets async callers stay inline."""
        text = self.asked(question)
        with self._memo_lock:
            hit = self._memo.get(text)
        if hit is None or (context is not None and hit[1]):
            return None
        return hit[0]

    def asked(self, question: str) -> str:
        """What ``answer`` answers for ``question``: cleaned, without greetings and thanks (its memo key)."""
        return self._recent_separated(clean_text(question[: self.limits.max_question_chars + 1])).question

    def _courtesy_reply(self, text: str, thanks: bool) -> Answer:
        """A greeting or thanks with no question in it, answered in kind, with example questions."""
        return Answer(question=text, found=False, kind="courtesy",
                      text=self._introduction("thanks" if thanks else "greeting"))

    def _introduction(self, message: str) -> str:
        """A message naming the resolution and two example questions (not_found, greeting, thanks)."""
        meta = self.document.meta
        ex = [*self.examples(), "", ""]
        template = self.templates.messages.get(message) or self.templates.messages["not_found"]
        return template.format(title=meta.title, committee=meta.committee, date=meta.date,
                               example1=ex[0], example2=ex[1])

    def _memoised(self, text: str) -> Answer:
        """The context-free answer to a cleaned question, computed once per process (LRU-bounded)."""
        with self._memo_lock:
            hit = self._memo.get(text)
            if hit is not None:
                self._memo.move_to_end(text)
                return hit[0]
        with self._compute_lock:  # one analysis at a time: spaCy's vocabulary is not safe to grow from two threads
            answer = self._with_links(self._fresh(text))
            leans = self._leans_on_context(text)  # may analyse the text too
        with self._memo_lock:
            self._memo[text] = (answer, leans)
            while len(self._memo) > self._memo_size:
                self._memo.popitem(last=False)
        return answer

    def _fresh(self, text: str) -> Answer:
        """An answer that needs no conversation context.

        A long message that is not answered as a whole ("I'm writing a paper on X. Does it say Y?")
        is tried again one asking sentence at a time, the last first: the context around a question
        dilutes its match without changing what is asked.
        """
        answer = self._answer_one(text)
        if answer.found:
            return answer
        for part in self._asking_parts(text):
            focused = self._answer_one(part)
            if focused.found:
                return replace(focused, question=text)
        return answer

    def _asking_parts(self, text: str) -> list[str]:
        """The asking sentences of a long message, last first, each followed by its part from a request
        phrase on ("..., could you tell me where X was held?" -> "could you tell me where X was held?")."""
        parts: list[str] = []
        pattern = self.templates.request_phrases
        for sentence in asking_sentences(text) or [text]:
            if sentence != text:
                parts.append(sentence)
            m = pattern.search(sentence) if pattern is not None else None
            if m is not None and m.start() > 0:
                parts.append(sentence[m.start():])
        return parts

    def _answer_one(self, text: str) -> Answer:
        """The answer to ``text`` taken as one question."""
        shape = self.shapes.shape_of(text)
        shaped = self.shapes.try_answer(text, shape)  # "how many sub-items does PP8 have" counts, it is no look-up
        if shaped is not None:
            return shaped
        ref = find_reference(text)
        if ref is not None:
            return self._lookup(text, ref)
        structured = self.structured.try_answer(text)
        if structured is not None:
            return structured
        intent = self.templates.intent_of(text)
        if intent == "footnote_fact":
            return self._footnote_fact(text) or self._retrieve(text, self.templates.kind_of(text))
        if intent is not None:
            return self._document_answer(text, intent)
        return self.shapes.try_answer(text, shape, late=True) or self._retrieve(text, self.templates.kind_of(text))

    def _footnote_fact(self, text: str) -> Answer | None:
        """'treaty series volume of the Palermo Protocol': the paragraph, then the footnote on that name."""
        result = self.searcher.search(text, k=3, exclude_kinds=frozenset({"meta", "footnote", "subitem"}))
        paragraph = next((self.document.by_id[h.id] for h in result.hits if self.document.by_id[h.id].anchors), None)
        if paragraph is None or not self._accept_paragraph(result, paragraph.id):
            return None
        wanted = {t.value for t in result.query.terms}
        number, anchor = max(paragraph.anchors,
                             key=lambda na: len(wanted & self._anchor_terms[(paragraph.id, na[0])]))
        note = self.document.by_id[f"FN{number}"]
        headline = self.templates.answers["footnote_fact"].format(
            text=note.text.replace("Ibid.", f"Ibid. ({note.context})", 1).rstrip(".") if note.context
            else note.text.rstrip("."), number=number, fn=note.id, label=paragraph.label, cite=paragraph.id,
            anchor=anchor)
        cites = (self._citation(note, 1.0, note.text), self._citation(paragraph, 1.0))
        return Answer(question=text, found=True, kind="footnote", text=headline, citations=cites, confidence=0.8)

    def _accept_paragraph(self, result: SearchResult, chunk_id: str) -> bool:
        """The paragraph must share one of the user's own words with the question (a name, a topic)."""
        hit = next(h for h in result.hits if h.id == chunk_id)
        return hit.literal and hit.score >= self.limits.min_score

    def timeline(self, year: int | None = None) -> Answer:
        """Every dated event in the text, oldest first (or one year's)."""
        return self._with_links(self.structured.timeline("timeline" if year is None else f"timeline {year}", year))

    # ----- follow-ups ------------------------------------------------------------------------
    def _leans_on_context(self, text: str) -> bool:
        """True when a conversation could change the answer to the cleaned ``text`` (see ``_follow_up``).

        Asked twice of each new question (before answering, to know whether to read its context,
        and when memoising its answer), so the last few are kept.
        """
        return self._recent_leans(text)

    def _leans_on_context_uncached(self, text: str) -> bool:
        if any(p.search(text) for p in self.templates.follow_ups.values()) or self.typed.asks_other(text):
            return True
        return find_reference(text) is None and self.follow_ups.elliptic(text)

    def _follow_up(self, text: str, last: Answer) -> Answer | None:
        """'more', 'show the full paragraph', 'and paragraph 13?', 'and Canada?', 'when was it held?'.

        A follow-up takes the conversation's subject, never the previous answer's type: a question
        of its own ("and when is World Day?") is answered as one.
        """
        patterns = self.templates.follow_ups
        if patterns["more"].search(text):
            return self._more(last)
        if patterns["full"].search(text):
            return self._full(last)
        m = patterns["about"].search(text)
        if m is not None:
            return self._about(text, m.group("rest"), last)
        if find_reference(text) is None and self.follow_ups.elliptic(text):
            filled = self.follow_ups.fill_in(text, last)
            return self._within(filled, last) if filled else None
        if self.typed.asks_other(text) and last.question:
            return self._other(text, last)
        return None

    def _other(self, text: str, last: Answer) -> Answer | None:
        """'what other fund is there?': a thing of the kind other than those the last answer named."""
        with self._memo_lock:  # the caller holds the compute lock: read the memo, or answer afresh
            hit = self._memo.get(last.question)
        named = (hit[0] if hit is not None else self._fresh(last.question)).text
        concepts = frozenset(e.concept for e in self.searcher.analyzer.analyze(named).entities if e.concept)
        answer = self._retrieve(text, self.templates.kind_of(text), named=concepts)
        return self._with_links(answer) if answer.found else None

    def _within(self, text: str, last: Answer) -> Answer:
        """A follow-up's answer from the paragraphs the last answer cited, else from the whole text."""
        cited = frozenset([c.id for c in last.citations] + [i.cite for i in last.items]) - {"META"}
        if cited and find_reference(text) is None:
            inside = self._retrieve(text, self.templates.kind_of(text), only=cited)
            if inside.found:
                return inside
        return self._fresh(text)

    def _about(self, text: str, rest: str, last: Answer) -> Answer:
        """'and X?': X as a question of its own, or the last question asked again about X."""
        if find_reference(rest) is not None:
            return self._fresh(rest)
        if self.follow_ups.is_question(rest):
            filled = self.follow_ups.fill_in(rest, last) if self.follow_ups.elliptic(rest) else None
            return self._fresh(filled or rest)
        swapped = self.follow_ups.swap_subject(last, rest)
        if swapped is not None:
            answer = self._fresh(swapped)
            if self._speaks_of(answer, rest):
                return replace(answer, subject=rest)
        if last.kind == "task":
            return self.structured.tasks_for(text, rest, "all") or self._fresh(rest)
        return self._fresh(rest)

    def _speaks_of(self, answer: Answer, subject: str) -> bool:
        """True when the answer's first paragraph holds the subject (a yes/no about a list always does)."""
        if answer.kind in ("membership", "mention", "count", "overview") or not answer.citations:
            return True
        found = self.shapes.topics.kit.mentions.find(subject)
        return answer.citations[0].id in found.ids + found.in_names

    def _more(self, last: Answer) -> Answer:
        a = self.templates.structure_answers
        ids = list(last.related) if last.kind == "more" else [c.id for c in last.citations[1:]] + list(last.related)
        ids = list(dict.fromkeys(i for i in ids if i in self.document.by_id))
        if not ids:
            return Answer(question=last.question, found=False, kind="more", text=a["more_none"].format(
                question=last.question))
        shown, rest = ids[:3], ids[3:]
        cites = tuple(self._citation(self.document.by_id[i], 0.0) for i in shown)
        items = tuple(Item(c.quote, c.id) for c in cites)
        return Answer(question=last.question, found=True, kind="more", text=a["more_intro"].format(
            question=last.question), citations=cites, items=items, related=tuple(rest), confidence=last.confidence)

    def _full(self, last: Answer) -> Answer:
        if not last.citations:
            return Answer(question="", found=False, kind="lookup",
                          text=self.templates.structure_answers["no_context"])
        chunk = self.document.by_id[last.citations[0].id]
        text = self.templates.structure_answers["full_paragraph"].format(label_cap=_cap(chunk.label), cite=chunk.id)
        return Answer(question=last.question, found=True, kind="lookup", text=text,
                      citations=(self._citation(chunk, 1.0, chunk.text),), confidence=1.0,
                      related=tuple(c.id for c in last.citations[1:]))

    def _with_links(self, answer: Answer) -> Answer:
        """Attach official-document addresses for every symbol the answer shows."""
        if answer.error:
            return answer
        texts = [answer.text, *(i.text for i in answer.items), *(c.quote for c in answer.citations[:3])]
        links = self.structured.links_in(*texts)
        return replace(answer, links=links) if links else answer

    def show(self, ref: str) -> Answer:
        """A whole chunk by id ("OP5", "PP8(c)", "FN11"), or "sponsors" / "about"."""
        key = clean_text(ref)
        if key.lower() in ("sponsors", "sponsor"):
            return self._document_answer(key, "sponsors")
        if key.lower() in ("about", "meta", "document"):
            return self._document_answer(key, "title")
        m = re.fullmatch(r"(?i)(op|pp|fn)\s*(\d{1,3})\s*(?:\(\s*([a-z])\s*\))?", key)
        if m is None:
            return Answer(question=key, found=False, kind="lookup",
                          text="Give a paragraph or footnote id such as OP5, PP3, PP8(c) or FN11, or 'sponsors'.")
        kind = {"op": "operative", "pp": "preambular", "fn": "footnote"}[m.group(1).lower()]
        return self._lookup(key, Ref(kind, int(m.group(2)), m.group(3) or ""), gist=False)

    def examples(self) -> list[str]:
        """Example questions to offer users."""
        return list(self.templates.examples)

    def help_text(self) -> str:
        """What the bot covers, in plain text."""
        meta = self.document.meta
        return (f"I answer questions about the UN General Assembly draft resolution “{meta.title}” "
                f"({meta.committee}, {meta.session}, {meta.date}), with the paragraph I found it in and a "
                "verbatim quote. Ask in your own words, or look up a paragraph (“paragraph 5”, “PP8(c)”, "
                "“footnote 11”). Examples: " + "; ".join(f"“{e}”" for e in self.examples()[:3]) + ".")

    def chunk(self, chunk_id: str) -> Chunk | None:
        """The chunk with this id, or None."""
        return self.document.get(chunk_id)

    # ----- answers ---------------------------------------------------------------------------
    def _invalid(self, text: str, error: str, length: int) -> Answer:
        message = self.templates.messages[error].format(length=length, limit=self.limits.max_question_chars)
        return Answer(question=text, found=False, kind="invalid", text=message, error=error)

    def _citation(self, chunk: Chunk, score: float, quoted: str | None = None) -> Citation:
        return Citation(chunk.id, chunk.label, chunk.text, quoted if quoted is not None else self._short(chunk), score)

    def _short(self, chunk: Chunk) -> str:
        segs = self.segments[chunk.id]
        return quote(chunk.text, segs, 0, self.limits.quote_chars)

    def _not_found(self, text: str, kind: str) -> Answer:
        return Answer(question=text, found=False, kind=kind, text=self._introduction("not_found"))

    def _lookup(self, text: str, ref: Ref, gist: bool = True) -> Answer:
        """A paragraph or footnote by its number; ``gist``: the headline quotes what it says on the question."""
        chunk = self.document.get(ref.chunk_id)
        if chunk is None:
            return Answer(question=text, found=False, kind="lookup", text=self._missing_ref(ref))
        t = self.templates.answers
        if chunk.kind == "footnote":
            cited_by = _join([self.document.by_id[c].label + f" ({c})" for c in chunk.cited_by]) or "no paragraph"
            headline = t["footnote"].format(number=chunk.number, cite=chunk.id, text=chunk.text, cited_by=cited_by)
        elif not gist:
            headline = t["lookup"].format(label_cap=_cap(chunk.label), cite=chunk.id)
        else:  # what the paragraph says, in its words: the clause on the question's other words, else its opening
            segs = self.segments[chunk.id]
            clause = best_segment(segs, self.searcher.analyzer.terms(text), self.searcher.index.weight)
            headline = self.typed.answers["lookup"].format(label_cap=_cap(chunk.label), cite=chunk.id,
                                                           clause=answering_words(chunk.text, segs, clause))
        cites = [self._citation(chunk, 1.0, chunk.text)]
        cites += [self._citation(self.document.by_id[f"FN{n}"], 0.0) for n in dict.fromkeys(chunk.footnotes)]
        items = self.structured.footnote_items(chunk) if chunk.kind == "footnote" else ()
        return Answer(question=text, found=True, kind="lookup", text=headline, citations=tuple(cites),
                      confidence=1.0, items=items)

    def _missing_ref(self, ref: Ref) -> str:
        m = self.templates.messages
        if ref.kind == "footnote":
            return m["no_such_footnote"].format(count=len(self.document.of_kind("footnote")), number=ref.number)
        parent = self.document.get(ref.chunk_id.split("(")[0])
        if ref.letter and parent is not None:
            letters = [c.opening for c in self.document.chunks if c.parent == parent.id]
            if not letters:
                return f"{_cap(parent.label)} has no lettered sub-items."
            return m["no_such_item"].format(parent=_cap(parent.label), letter=ref.letter, letters=", ".join(letters))
        count = len(self.document.of_kind(ref.kind))
        label = f"{ref.kind} paragraph {ref.number}"
        return m["no_such_paragraph"].format(count=count, kind=ref.kind, label=label)

    def _document_answer(self, text: str, intent: str) -> Answer:
        meta = self.document.meta
        meta_chunk = self.document.by_id["META"]
        t = self.templates.answers
        fields = {"cite": "META", "count": len(meta.sponsors), "items": _join(list(meta.sponsors)),
                  "date": meta.date, "committee": meta.committee, "session": meta.session,
                  "agenda_item": meta.agenda_item, "agenda_title": meta.agenda_title, "title": meta.title,
                  "document_type": meta.document_type, "original_language": meta.original_language,
                  "distribution": meta.distribution}
        items: tuple[Item, ...] = ()
        if intent == "sponsors":
            headline, items = self._sponsor_answer(text, fields)
        elif intent == "structure":
            headline = t["structure"].format(preambular=len(self.document.of_kind("preambular")),
                                             operative=len(self.document.of_kind("operative")),
                                             footnotes=len(self.document.of_kind("footnote")))
        else:
            headline = t[intent].format(**fields)
        return Answer(question=text, found=True, kind="document", text=headline, items=items,
                      citations=(self._citation(meta_chunk, 1.0, meta_chunk.text),), confidence=1.0)

    def _sponsor_answer(self, text: str, fields: dict[str, object]) -> tuple[str, tuple[Item, ...]]:
        t = self.templates.answers
        sponsors = self.document.meta.sponsors
        lower = text.lower()
        named = [s for s in sponsors if s.split(" (")[0].lower() in lower]
        if self.templates.kind_of(text) == "yes_no":
            if named:
                return t["sponsor_yes"].format(names=_join(named), verb="is" if len(named) == 1 else "are",
                                               **fields), ()
            return t["sponsor_no"].format(**fields), ()
        items = tuple(Item(s, "META") for s in sponsors)
        key = "sponsors_count" if self.templates.kind_of(text) == "how_many" else "sponsors_list"
        return t[key].format(**fields), items

    def _retrieve(self, text: str, kind: str, only: frozenset[str] = frozenset(),
                  named: frozenset[str] = frozenset()) -> Answer:
        """The factual answer: ranked paragraphs, the best clause, a typed or passage headline.

        ``only``: answer within these paragraphs (a follow-up); ``named``: concepts the conversation
        has named, never the answer to a "what other ..." question.
        """
        wanted = self.templates.wanted.get(kind, frozenset())
        list_like = kind in ("list", "how_many")
        boost_labels = wanted or (_LIST_LABELS if list_like else frozenset())
        boost = LIST_BOOST if list_like else self.templates.kind_boosts.get(kind, KIND_BOOST)
        k = len(self.document.chunks) if only else max(self.limits.top_k, 5)
        result = self.searcher.search(text, k=k, boost_labels=boost_labels, boost=boost,
                                      exclude_kinds=RETRIEVAL_EXCLUDED, per_entity=list_like)
        if only:  # a follow-up answered within the paragraphs the conversation is about
            result = replace(result, hits=tuple(h for h in result.hits if h.id in only))
        accepted = self._accept(result)
        if accepted is None:
            return self._not_found(text, kind)
        result, held = accepted
        counts = self._query_counts(result)
        reorder = not (list_like or held)  # a paragraph chosen for holding the question in one clause stays first
        hits, clause_of = self.clauses.rerank(result.hits, counts, self.searcher.index.weight, reorder,
                                              floor=self.limits.related_ratio)
        result = replace(result, hits=tuple(hits))
        best = result.hits[0]
        related = [h for h in result.hits[1:] if h.score >= self.limits.related_ratio * best.score]
        cited = [best, *related[: self.limits.top_k - 1]]
        asked = self.typed.asked(result.corrected, result.query) if kind not in UNTYPED_KINDS else None
        if asked is not None and asked.other:
            asked = replace(asked, named=asked.named | named)
        weights = {t: n * self.searcher.index.weight(t) for t, n in counts.items()}
        things: list[Thing] = []
        if asked is not None:  # "what other fund ...": the first cited paragraph naming another thing of that kind
            for hit in cited if asked.other else cited[:1]:
                things = self._things(asked, hit.id, clause_of, weights)
                if things:
                    cited = [hit, *(h for h in cited if h is not hit)]
                    break
        best = cited[0]
        chunk = self.document.by_id[best.id]
        query_terms = [t.value for t in result.query.terms]
        segs = self.segments[chunk.id]
        seg_index, span = clause_of.get(chunk.id, (0, (0, 0)))
        quoted = quote(chunk.text, segs, seg_index, self.limits.quote_chars)
        cites = [self._citation(chunk, best.score, quoted)]
        cites += [self._hit_citation(h, clause_of.get(h.id, (0, (0, 0)))[0]) for h in cited[1:]]
        confidence = self._confidence(result)
        entities = self.searcher.entities(chunk.id)
        exclude = {t for t in query_terms if t.startswith("@")}
        headline, items = self._headline(kind, chunk, (seg_index, span), entities, exclude, wanted, cites, things)
        if kind == "how_many" and not items and not _NUMBER.search(quoted):
            return self._missing_detail(text, kind, "no_figure", chunk)
        if kind == "where" and not any(e.label == "GPE" for e in entities):
            return self._missing_detail(text, kind, "no_place", chunk)
        return Answer(question=text, found=True, kind=kind, text=headline, citations=tuple(cites),
                      confidence=confidence, items=items,
                      related=tuple(h.id for h in result.hits[1:] if h.id not in {c.id for c in cites}))

    def _things(self, asked: Asked, chunk_id: str, clause_of: dict[str, tuple[int, tuple[int, int]]],
                weights: dict[str, float]) -> list[Thing]:
        """The things of the asked kind in a chunk, the one nearest its best clause first."""
        seg = self.segments[chunk_id][clause_of.get(chunk_id, (0, (0, 0)))[0]]
        return self.typed.found(asked, chunk_id, (seg.start, seg.end), weights)

    def _missing_detail(self, text: str, kind: str, message: str, chunk: Chunk) -> Answer:
        """The passage matched, but holds no figure (how many) or place (where): say so, cite nothing."""
        return Answer(question=text, found=False, kind=kind,
                      text=self.templates.messages[message].format(label=chunk.label, cite=chunk.id))

    def _hit_citation(self, hit: Hit, clause: int) -> Citation:
        chunk = self.document.by_id[hit.id]
        segs = self.segments[chunk.id]
        return self._citation(chunk, hit.score, quote(chunk.text, segs, clause, self.limits.quote_chars))

    @staticmethod
    def _query_counts(result: SearchResult) -> dict[str, float]:
        """Each question term's weight in the query: its count, synonyms counting less."""
        counts: dict[str, float] = {}
        for t in result.query.terms:
            counts[t.value] = counts.get(t.value, 0.0) + (SYNONYM_WEIGHT if t.synonym else 1.0)
        return counts

    def _headline(self, kind: str, chunk: Chunk, clause: tuple[int, tuple[int, int]], entities: tuple[Entity, ...],
                  exclude: set[str], wanted: frozenset[str], cites: list[Citation],
                  things: list[Thing]) -> tuple[str, tuple[Item, ...]]:
        """The answer's first line: the named thing, entity or passage, with the words of the text that answer."""
        t = self.templates.answers
        f = self.typed.answers
        label_cap = _cap(chunk.label)
        segs = self.segments[chunk.id]
        seg_index, span = clause
        if kind in ("list", "how_many"):
            members = self._members(chunk, exclude)
            if len(members) >= LIST_MIN_ENTITIES:
                items = tuple(Item(name, chunk.id) for name in members)
                return t["count_entities"].format(count=len(members), label=chunk.label, cite=chunk.id,
                                                  items=_join(members)), items
        if things:  # "which declaration ...": the thing of that kind, by name, and the clause it stands in
            named = _join(list(dict.fromkeys(t.name for t in things)))
            words = answering_words(chunk.text, segs, seg_index, span, at=things[0].start)
            return f["entity"].format(entity=_cap(named), label=chunk.label, cite=chunk.id, clause=words), ()
        if wanted:
            found = pick_entities(entities, wanted, segs[seg_index], exclude)
            if found:
                named = _join([self._entity_name(e) for e in found])
                words = answering_words(chunk.text, segs, seg_index, span, at=found[0].start)
                return f["entity"].format(entity=_cap(named), label=chunk.label, cite=chunk.id, clause=words), ()
        notes = self._footnote_suffix(chunk)
        words = answering_words(chunk.text, segs, seg_index, span)
        if len(cites) > 1:
            others = _join([f"{c.label} ({c.id})" for c in cites[1:]])
            return f["passages"].format(label_cap=label_cap, cite=chunk.id, others=others, clause=words) + notes, ()
        return f["passage"].format(label_cap=label_cap, cite=chunk.id, clause=words) + notes, ()

    def _footnote_suffix(self, chunk: Chunk) -> str:
        """The footnotes a passage cites, spelled out, so symbols like A/72/164 reach the user."""
        template = self.templates.answers["footnote_note"]
        notes = [self.document.by_id[f"FN{n}"] for n in dict.fromkeys(chunk.footnotes)]
        return "".join(template.format(number=fn.number, text=fn.text) for fn in notes[:3])

    def _members(self, chunk: Chunk, exclude: set[str]) -> list[str]:
        names: dict[str, str] = {}
        for e in self.searcher.entities(chunk.id):
            if e.label in _LIST_LABELS and e.concept not in exclude:
                names.setdefault(e.concept or e.text, self._entity_name(e))
        return list(names.values())

    def _entity_name(self, entity: Entity) -> str:
        concept = self.glossary.concept_for_token(entity.concept) if entity.concept else None
        return concept.name if concept is not None else entity.text

    def _accept(self, result: SearchResult) -> tuple[SearchResult, bool] | None:
        """On-topic or not, by what actually matched: the result to answer from, or None.

        Beyond the score and coverage floors, a question is on-topic when one clause of a top paragraph
        holds every word the user chose (names' words included), however loose the rest of its wording;
        that paragraph then comes first (the flag says so).
        """
        if not result.hits:
            return None
        best = result.hits[0]
        if best.score < self.limits.min_score or self._lone_common_word(result, best):
            return None
        # Two of the user's own rare words in one paragraph are on-topic even among unknown words.
        if best.literal and (best.coverage >= self.limits.min_coverage or (
                best.rare >= 2 and best.coverage >= self.limits.min_coverage_rare)):
            return result, False
        # A kind noun ("which aviation *body*") names the answer's type, not its words.
        own = [t.value for t in result.query.terms if not t.synonym]
        own = [t for t in own if t not in self.typed.noun_terms] or own
        holder = next((h for h in result.hits[: self.limits.top_k] if own and self.clauses.holds_all(h.id, own)), None)
        if holder is None:
            return None
        return replace(result, hits=(holder, *(h for h in result.hits if h is not holder))), True

    @staticmethod
    def _lone_common_word(result: SearchResult, best: Hit) -> bool:
        """One plain word is all the question shares with the text, and it also asks about something the
        text never mentions ("recommend a restaurant"): an ordinary word, not a topic."""
        if result.unknown == 0 or len(best.matched) != 1:
            return False
        term = best.matched[0]
        return not term.startswith(("@", "#")) and "_" not in term

    @staticmethod
    def _confidence(result: SearchResult) -> float:
        best = result.hits[0]
        second = result.hits[1].score if len(result.hits) > 1 else 0.0
        margin = 1.0 - second / best.score if best.score > 0 else 0.0
        return round(max(0.0, min(1.0, 0.6 * best.coverage + 0.4 * margin)), 3)


_CORES: dict[int, tuple[Config, Core]] = {}
_DEFAULT: list[Core] = []


def get_core(config: Config | None = None) -> Core:
    """The loaded Core for ``config`` (default: config.yaml), built once per config object."""
    if config is None:
        if not _DEFAULT:
            _DEFAULT.append(Core(load_config()))
        return _DEFAULT[0]
    cached = _CORES.get(id(config))
    if cached is None or cached[0] is not config:
        cached = (config, Core(config))
        _CORES[id(config)] = cached
    return cached[1]
