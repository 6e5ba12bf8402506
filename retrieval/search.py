"""Search the resolution: question -> typed hits with stable chunk ids, scores and coverage."""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass

import numpy as np

from retrieval.index import BM25Params, Index
from retrieval.nlp import Analysis, Analyzer, Entity
from retrieval.parse import Chunk, Document

RARE_DF = 3
SYNONYM_WEIGHT = 0.7  # a synonym match is good evidence, but weaker than the user's own word
NAME_WORD_WEIGHT = 0.5  # a word found only inside a name ("statisticians"): weaker than an indexed term
_WORD = re.compile(r"[A-Za-z][A-Za-z'-]*")
NAME_LABELS_SKIPPED = frozenset({"SYN", "DATE", "FREQ", "SYMBOL"})


@dataclass(frozen=True, slots=True)
class Hit:
    """One ranked chunk: id, BM25 score, and the share of the question's weight it covers."""

    id: str
    score: float
    coverage: float
    literal: bool
    rare: int = 0  # the user's own words matched here that occur in at most RARE_DF chunks
    matched: tuple[str, ...] = ()  # the question's terms found in this chunk (names' words included)


@dataclass(frozen=True, slots=True)
class SearchResult:
    """Ranked hits plus what the question was understood as."""

    hits: tuple[Hit, ...]
    query: Analysis
    corrected: str
    unknown: int = 0  # question terms that occur nowhere in the text, not even inside a name


class TypoFixer:
    """One-edit typo repair against the document's own vocabulary (deletion neighbourhoods)."""

    def __init__(self, vocabulary: Counter[str], min_length: int, stopwords: frozenset[str] = frozenset()) -> None:
        self.vocabulary = vocabulary
        self.min_length = min_length
        self._deletes: dict[str, list[str]] = {}
        for word in vocabulary:
            if word in stopwords:  # known, but never a correction: "weather" must not become "whether"
                continue
            if len(word) >= min_length - 1:
                for variant in {word, *_deletions(word)}:
                    self._deletes.setdefault(variant, []).append(word)

    def fix_word(self, word: str) -> str:
        """The most frequent known word one edit away, or ``word`` itself.

        A word one letter shorter than ``min_length`` is only repaired by putting back a dropped
        letter ("agncy" -> "agency"): the result is then long enough to be a safe guess.
        """
        lower = word.lower()
        if len(lower) < self.min_length - 1 or lower in self.vocabulary:
            return word
        candidates: set[str] = set()
        if len(lower) < self.min_length:
            candidates.update(w for w in self._deletes.get(lower, ()) if len(w) == len(lower) + 1)
        else:
            for variant in {lower, *_deletions(lower)}:
                candidates.update(self._deletes.get(variant, ()))
        if not candidates:
            return word
        return max(sorted(candidates), key=lambda w: self.vocabulary[w])

    def fix(self, text: str) -> str:
        """``text`` with each unknown long word replaced by its closest known word."""
        return _WORD.sub(lambda m: self.fix_word(m.group()), text)


def _deletions(word: str) -> set[str]:
    return {word[:i] + word[i + 1:] for i in range(len(word))}


@dataclass(frozen=True)
class SearchState:
    """Everything derived from the content files: built once, then cacheable on disk."""

    analyses: dict[str, Analysis]
    plain_terms: dict[str, frozenset[str]]
    index: Index
    typos: TypoFixer
    name_words: dict[str, frozenset[str]]  # per chunk: words inside its names that the index does not hold
    name_vectors: dict[str, np.ndarray]  # per such word: its score over the chunks


class Searcher:
    """Analyses chunks once, then ranks them for any question."""

    def __init__(self, document: Document, analyzer: Analyzer, params: BM25Params, typo_min_length: int = 5,
                 state: SearchState | None = None) -> None:
        self.document = document
        self.analyzer = analyzer
        self.chunks: tuple[Chunk, ...] = document.chunks
        self.state = state or self._build_state(params, typo_min_length)
        self.analyses = self.state.analyses
        self.index = self.state.index
        self.typos = self.state.typos
        self._position = {c.id: i for i, c in enumerate(self.chunks)}
        self._lower = {c.id: c.text.lower() for c in self.chunks}
        self._place_terms = frozenset(c.token for c in analyzer.glossary.concepts.values() if c.type == "place")
        self._factors: dict[tuple[frozenset[str], bool], np.ndarray] = {}
        self._term_kinds: dict[str, set[str]] = {}  # the kinds of chunk (meta, operative ...) each term occurs in
        for i, c in enumerate(self.chunks):
            for term in self.index.doc_terms[i] | self.state.name_words[c.id]:
                self._term_kinds.setdefault(term, set()).add(c.kind)

    def _build_state(self, params: BM25Params, typo_min_length: int) -> SearchState:
        analyses = {c.id: self.analyzer.analyze(c.text, expand_names=True) for c in self.chunks}
        corpus = [[t.value for t in analyses[c.id].terms] + self.analyzer.terms(c.context, expand_names=True)
                  for c in self.chunks]
        # Terms a chunk holds outside entity names: a match only inside a name ("Population" in
        # "United Nations Population Fund") is not enough to call a question on-topic.
        plain = {c.id: frozenset(self.analyzer.terms(c.text) + self.analyzer.terms(c.context)) for c in self.chunks}
        typos = TypoFixer(self._vocabulary(analyses), typo_min_length, self.analyzer.stopwords)
        index = Index(corpus, params)
        names = {c.id: frozenset(t for t, _ in name_word_terms(analyses[c.id], self.analyzer)) - index.doc_terms[i]
                 for i, c in enumerate(self.chunks)}
        return SearchState(analyses, plain, index, typos, names, self._name_vectors(names, index))

    def _name_vectors(self, names: dict[str, frozenset[str]], index: Index) -> dict[str, np.ndarray]:
        """Score vectors for words that occur only inside names: half an IDF where they occur."""
        doc_freq = Counter(w for words in names.values() for w in words if index.doc_freq.get(w, 0) == 0)
        vectors = {}
        for word, df in doc_freq.items():
            idf = math.log(1.0 + (len(self.chunks) - df + 0.5) / (df + 0.5))
            vectors[word] = np.array([NAME_WORD_WEIGHT * idf * (word in names[c.id]) for c in self.chunks])
        return vectors

    def _vocabulary(self, analyses: dict[str, Analysis]) -> Counter[str]:
        vocab: Counter[str] = Counter()
        for analysis in analyses.values():
            vocab.update(analysis.words)
        for concept in self.analyzer.glossary.concepts.values():
            for alias in concept.aliases:
                vocab.update(w.lower() for w in _WORD.findall(alias))
        for group in self.analyzer.glossary.synonyms:
            for member in group:
                vocab.update(w.lower() for w in _WORD.findall(member))
        for variant, canonical in self.analyzer.glossary.spelling.items():  # "criminalise" is known, not a typo
            vocab.update(w.lower() for w in _WORD.findall(f"{variant} {canonical}"))
        for word in self.analyzer.stopwords:
            vocab[word] += 1
        return vocab

    def entities(self, chunk_id: str) -> tuple[Entity, ...]:
        """Rule-based entities found in a chunk."""
        return self.analyses[chunk_id].entities

    def search(self, question: str, k: int = 5, boost_labels: frozenset[str] = frozenset(), boost: float = 0.0,
               exclude_kinds: frozenset[str] = frozenset(), per_entity: bool = False) -> SearchResult:
        """Rank chunks for ``question``; chunks holding an entity in ``boost_labels`` get ``boost``.

        With ``per_entity`` (list questions) the boost grows with the number of such entities, up to 4x.
        """
        corrected = self.typos.fix(self.analyzer.strip_stop_phrases(question))
        query = self.analyzer.analyze(corrected)
        counts = Counter((t.value, t.synonym) for t in query.terms)
        surfaces = {t.value: t.surface for t in query.terms if t.synonym}
        weighted = [(term, n * (SYNONYM_WEIGHT if syn else 1.0)) for (term, syn), n in counts.items()]
        scores = self.index.scores(weighted)
        for term, weight in weighted:
            vector = self.state.name_vectors.get(term)
            if vector is not None:
                scores = scores + weight * vector
        # Terms found nowhere a hit may come from ("Mexico" is only in the sponsor list, which is excluded).
        unknown = sum(1 for term, _ in weighted if self._term_kinds.get(term, set()) <= exclude_kinds)
        if boost and boost_labels:
            scores = scores * (1.0 + boost * self._label_factors(boost_labels, per_entity))
        order = np.argsort(-scores, kind="stable")
        hits = []
        for i in order:
            chunk = self.chunks[int(i)]
            if chunk.kind in exclude_kinds or scores[i] <= 0:
                continue
            hits.append(self._hit(chunk, float(scores[i]), counts, surfaces))
            if len(hits) >= k:
                break
        return SearchResult(tuple(hits), query, corrected, unknown)

    def _label_factors(self, labels: frozenset[str], per_entity: bool) -> np.ndarray:
        """Per chunk: 1 if it holds such an entity (or, per entity, half their number up to 4); cached."""
        key = (labels, per_entity)
        cached = self._factors.get(key)
        if cached is None:
            counts = [len({e.concept or e.text for e in self.analyses[c.id].entities if e.label in labels})
                      for c in self.chunks]
            cached = np.array([min(n, 8) / 2 if per_entity else float(n > 0) for n in counts])
            self._factors[key] = cached
        return cached

    def _hit(self, chunk: Chunk, score: float, counts: Counter[tuple[str, bool]],
             surfaces: dict[str, str]) -> Hit:
        terms = self.index.doc_terms[self._position[chunk.id]]
        lower = self._lower[chunk.id]
        plain = self.state.plain_terms[chunk.id]
        in_names = self.state.name_words[chunk.id]
        total = covered = 0.0
        literal = False
        name_only = places = rare = synonyms = phrases = 0
        matched: list[str] = []
        for (term, synonym), _ in counts.items():
            weight = self.index.weight(term)
            total += weight
            if term in in_names:
                matched.append(term)
                name_only += 1
                continue
            if term not in terms:
                continue
            matched.append(term)
            covered += weight
            if term in self._place_terms:  # a place name alone ("weather in New York") is not a topic
                places += 1
                continue
            if term not in plain:
                name_only += 1
            elif not synonym or surfaces.get(term, "\0") in lower:
                literal = True
                rare += not synonym and self.index.doc_freq[term] <= RARE_DF
            else:
                synonyms += 1
                phrases += " " in surfaces.get(term, "")
        coverage = covered / total if total else 0.0
        # ...unless it is the whole question ("Bangkok"): then nothing else was asked.
        whole = places > 0 and coverage > 0.999
        # Every word of the question found here through synonyms, either two or more groups ("stateless
        # kids at risk") or one multi-word phrase ("organ trade"), is as on-topic as a literal match.
        explained = (synonyms >= 2 or phrases >= 1) and coverage > 0.999
        return Hit(chunk.id, score, coverage, literal or name_only >= 2 or whole or explained, rare, tuple(matched))


def name_word_terms(analysis: Analysis, analyzer: Analyzer) -> list[tuple[str, int]]:
    """(term, offset) for every word inside a named entity ("statisticians" in a committee's name)."""
    found: list[tuple[str, int]] = []
    for entity in analysis.entities:
        if entity.label in NAME_LABELS_SKIPPED:
            continue
        for m in _WORD.finditer(entity.text):
            word = m.group().lower()
            if word not in analyzer.stopwords:
                found.append((analyzer.stem(word), entity.start + m.start()))
    return found
