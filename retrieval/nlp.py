"""Language processing on a blank spaCy English pipeline: tokens, rule-based entities, terms.

Documents and questions go through the same `Analyzer.analyze`, so that "ICAT" in a
question and "Inter-Agency Coordination Group" in the text become the same term.
"""

from __future__ import annotations

import functools
import logging
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import spacy
import Stemmer
from spacy.lang.en.stop_words import STOP_WORDS
from spacy.language import Language
from spacy.tokens import Doc, Span

from retrieval.glossary import Glossary

MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
          "September", "October", "November", "December")
_MONTH_RE = "^(" + "|".join(MONTHS) + ")$"
# Document symbols: 64/293, A/71/119, E/2002/68/Add.1, A/RES/70/1, 2017/18, A/C.3/72/L.1
SYMBOL_PATTERN = r"(?:[A-Z](?:/[A-Z0-9.]*[A-Z0-9])*/\d+(?:/[A-Za-z0-9.]*[A-Za-z0-9])*|\d{1,4}/\d{1,4})"
_SYMBOL_TOKEN = re.compile(f"^{SYMBOL_PATTERN}$")
_SYMBOL_SPAN = re.compile(f"(?<![\\w/]){SYMBOL_PATTERN}(?![\\w/])")
# Every format character (Unicode category Cf: zero-width, bidi controls, soft hyphen, tags ...).
_INVISIBLE = re.compile("[\u00ad\u0600-\u0605\u061c\u06dd\u070f\u0890-\u0891\u08e2\u180e\u200b-\u200f"
                        "\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb\U000110bd\U000110cd"
                        "\U00013430-\U00013438\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\U000e0001"
                        "\U000e0020-\U000e007f]")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")  # lone surrogates too
_ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]")

# Titles of instruments, events and mandates are often paraphrased in part; organisation names
# are not (users say "UNODC"), and expanding them would bloat long lists like PP15.
log = logging.getLogger("resbot.nlp")
RECENT_ANALYSES = 256  # analyses kept: enough for every text one question leads to
MAX_VOCAB = 100_000  # words spaCy may keep before the pipeline starts afresh (about 60 MB)
EXPANDED_LABELS = frozenset({"LAW", "EVENT", "PERSON", "FUND"})
ENTITY_LABELS = {"org": "ORG", "body": "ORG", "person": "PERSON", "place": "GPE", "instrument": "LAW",
                 "event": "EVENT", "fund": "FUND", "group": "NORP"}


def clean_text(text: str) -> str:
    """Normalise user or document text: NFKC, no ANSI/control/invisible format characters, folded spaces."""
    if text.isascii() and text.isprintable():
        # The common case: NFKC and the three removals cannot change it, and its only space is " ".
        return " ".join(text.split())
    return normalise_fully(text)


def normalise_fully(text: str) -> str:
    """clean_text without its fast path for printable ASCII (any string)."""
    text = _ANSI.sub("", text)
    text = unicodedata.normalize("NFKC", text)
    text = _INVISIBLE.sub("", text)
    text = _CONTROL.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))
    return re.sub(r"[ \t\n]+", " ", text).strip()


@dataclass(frozen=True, slots=True)
class Entity:
    """A rule-based entity: label (ORG, GPE, DATE, SYMBOL, FREQ ...), text, char span, concept id."""

    label: str
    text: str
    start: int
    end: int
    concept: str = ""


@dataclass(frozen=True, slots=True)
class Term:
    """One index term; ``synonym`` marks terms that came from a synonym group."""

    value: str
    synonym: bool = False
    surface: str = ""  # the words as written, to tell a literal match from a synonym-only one
    start: int = -1  # character offset in the analysed text (for clause ranking by proximity)


@dataclass(frozen=True, slots=True)
class Analysis:
    """Terms for BM25, surface words for typo repair, entities for answer extraction."""

    terms: tuple[Term, ...]
    entities: tuple[Entity, ...]
    words: tuple[str, ...]


@Language.component("resbot_merge_symbols")
def merge_symbols(doc: Doc) -> Doc:
    """Make each document symbol (64/293, E/2002/68/Add.1) one token and a SYMBOL entity."""
    if "/" not in doc.text:
        return doc
    bounds = [(m.start(), m.end()) for m in _SYMBOL_SPAN.finditer(doc.text)]
    spans = [doc.char_span(start, end, alignment_mode="expand") for start, end in bounds]
    with doc.retokenize() as retokenizer:
        for span in spans:
            if span is not None and len(span) > 1:
                retokenizer.merge(span)
    # Look the merged tokens up by offset: iterating every token of a long paragraph is slow.
    symbols = [doc.char_span(start, end, label="SYMBOL") for start, end in bounds]
    doc.ents = [span for span in symbols if span is not None]
    return doc


_YEARS = [str(y) for y in range(1900, 2100)]
_ORDINAL_UNITS = ["first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth"]
_ORDINAL_TENS = ["fifty", "sixty", "seventy", "eighty"]


def _date_patterns() -> list[dict[str, Any]]:
    """Token patterns for the date shapes this kind of text uses.

    Set membership (IN) and attributes, not REGEX predicates: those run on every token and
    were most of the per-question cost of the pipeline.
    """
    day = {"IS_DIGIT": True, "LENGTH": {"<=": 2}}
    month = {"TEXT": {"IN": list(MONTHS)}}
    year = {"TEXT": {"IN": _YEARS}}
    joiner = {"LOWER": {"IN": ["and", "to", "-", "–"]}}
    shapes: list[list[dict[str, Any]]] = [
        [day, joiner, day, month, year], [day, joiner, day, month], [day, month, year], [day, month],
        [month, {"LOWER": "and"}, month, year], [month, year], [year],
        [year, {"TEXT": {"IN": ["–", "-"]}}, year],
        [{"LOWER": {"IN": _ORDINAL_TENS}}, {"ORTH": "-"}, {"LOWER": {"IN": _ORDINAL_UNITS}}, {"LOWER": "session"}],
    ]
    return [{"label": "DATE", "pattern": p} for p in shapes]


def _frequency_patterns() -> list[dict[str, Any]]:
    """How-often expressions."""
    shapes: list[list[dict[str, Any]]] = [
        [{"LOWER": "annually"}], [{"LOWER": "biennial"}],
        [{"LOWER": "four"}, {"ORTH": "-"}, {"LOWER": "year"}, {"LOWER": "basis"}],
    ]
    return [{"label": "FREQ", "pattern": p} for p in shapes]


class Analyzer:
    """Shared text analysis for documents and questions."""

    def __init__(self, glossary: Glossary, normaliser: str = "stem", max_vocab: int = MAX_VOCAB) -> None:
        if normaliser not in ("stem", "none"):
            raise ValueError(f"unknown normaliser {normaliser!r}: use 'stem' or 'none'")
        self.glossary = glossary
        self.normaliser = normaliser
        self._stemmer = Stemmer.Stemmer("english")
        self._stem_cache: dict[str, str] = {}
        # One question is analysed by several answer kinds in turn (shape, follow-up, retrieval);
        # the analysis is a pure function of the text, so the last few are kept.
        self._recent = functools.lru_cache(maxsize=RECENT_ANALYSES)(self._analyze)  # thread-safe
        self.stopwords = (frozenset(STOP_WORDS) - glossary.keep_words) | glossary.extra_stopwords
        self.nlp = self._build_pipeline()
        self._max_vocab = max_vocab
        self._single_synonyms = self._single_word_synonyms()
        phrases = sorted(glossary.stop_phrases, key=len, reverse=True)
        self._stop_phrases = (re.compile(r"\b(?:" + "|".join(re.escape(p) for p in phrases) + r")\b", re.I)
                              if phrases else None)

    def _build_pipeline(self) -> Language:
        nlp = spacy.blank("en")
        # Merging symbol tokens after tokenisation is cheaper than setting tokenizer.token_match,
        # which reloads all of spaCy's special cases (about 0.1 s at every start).
        nlp.add_pipe("resbot_merge_symbols")
        # Phrases match on NORM with the glossary's spelling variants folded in, so "makes ppl
        # vulnerable" and "forced labor" meet the phrases written "people" and "labour".
        for variant, canonical in self.glossary.spelling.items():
            nlp.vocab[variant].norm_ = canonical
        ruler = nlp.add_pipe("entity_ruler", config={"phrase_matcher_attr": "NORM", "validate": False})
        patterns: list[dict[str, Any]] = []
        for concept in self.glossary.concepts.values():
            label = ENTITY_LABELS.get(concept.type, "MISC")
            patterns += [{"label": label, "pattern": alias, "id": concept.token} for alias in concept.aliases]
        for group in self.glossary.synonyms:
            canon = "~" + self._canonical(group[0])
            patterns += [{"label": "SYN", "pattern": p, "id": canon} for p in group if len(p.split()) > 1 or "-" in p]
        patterns += _date_patterns() + _frequency_patterns()
        ruler.add_patterns(patterns)  # type: ignore[attr-defined]
        return nlp

    @staticmethod
    def _canonical(phrase: str) -> str:
        return "_".join(phrase.lower().split())

    def _single_word_synonyms(self) -> dict[str, str]:
        # Exact word forms, not stems: stems would merge "criminals" with "criminalizing".
        mapping: dict[str, str] = {}
        for group in self.glossary.synonyms:
            canon = "~" + self._canonical(group[0])
            for member in group:
                if " " not in member and "-" not in member:
                    mapping[self.glossary.spelling.get(member.lower(), member.lower())] = canon
        return mapping

    def stem(self, word: str) -> str:
        """Spelling-folded, stemmed form of one lowercase word (with overrides)."""
        cached = self._stem_cache.get(word)
        if cached is not None:
            return cached
        folded = self.glossary.spelling.get(word, word)
        if folded in self.glossary.stem_overrides:
            result = self.glossary.stem_overrides[folded]
        elif self.normaliser == "stem":
            result = self._stemmer.stemWord(folded)
        else:
            result = folded
        if len(self._stem_cache) < 50_000:
            self._stem_cache[word] = result
        return result

    def doc(self, text: str) -> Doc:
        """The spaCy Doc of ``text`` with rule-based entities."""
        return self.nlp(text)

    def analyze(self, text: str, expand_names: bool = False) -> Analysis:
        """Terms, entities and surface words of ``text``.

        With ``expand_names`` (documents), a named entity also yields the words of its name, so a
        question that paraphrases part of a long title still matches; questions use the concept alone.
        """
        return self._recent(text, expand_names)

    def _analyze(self, text: str, expand_names: bool) -> Analysis:
        analysis = self._analysis(self.doc(text), expand_names)
        if len(self.nlp.vocab) > self._max_vocab:
            self._renew_pipeline()
        return analysis

    def _renew_pipeline(self) -> None:
        """A fresh pipeline, so the words spaCy has kept from every text so far can be freed.

        spaCy keeps every word it has seen (its lexeme and tokenizer cache entry, about 600 bytes),
        so a long-running server asked about ever new words (typos, names, junk) would grow without
        bound. An analysis keeps only strings, never spaCy objects, so nothing holds the old one.
        Building it takes about 0.1 s, once every MAX_VOCAB new words.
        """
        log.info("spaCy's vocabulary reached %d words: starting it afresh", len(self.nlp.vocab))
        self.nlp = self._build_pipeline()

    def _analysis(self, doc: Doc, expand_names: bool) -> Analysis:
        terms: list[Term] = []
        entities: list[Entity] = []
        words: list[str] = []
        ent_at: dict[int, Span] = {ent.start: ent for ent in doc.ents}
        i = 0
        while i < len(doc):
            ent = ent_at.get(i)
            if ent is not None:
                entities.append(Entity(ent.label_, ent.text, ent.start_char, ent.end_char, ent.ent_id_))
                if ent.ent_id_:
                    terms.append(Term(ent.ent_id_, synonym=ent.label_ == "SYN", surface=ent.text.lower(),
                                      start=ent.start_char))
                    if expand_names and ent.label_ in EXPANDED_LABELS:
                        for token in ent:
                            self._add_token_terms(token.lower_, token.is_punct, terms, [], token.idx)
                    words.extend(t.lower_ for t in ent if t.is_alpha)
                    i = ent.end
                    continue
                if ent.label_ == "SYMBOL":
                    terms.append(Term("#" + ent.text.lower(), start=ent.start_char))
                    i = ent.end
                    continue
            token = doc[i]
            i += 1
            self._add_token_terms(token.lower_, token.is_punct or token.is_space, terms, words, token.idx)
        return Analysis(tuple(terms), tuple(entities), tuple(words))

    def _add_token_terms(self, lower: str, skip: bool, terms: list[Term], words: list[str], start: int) -> None:
        if skip or lower in self.stopwords or not any(ch.isalnum() for ch in lower):
            return
        for part in _split_hyphens(lower):
            if part in self.stopwords:
                continue
            words.append(part)
            syn = self._single_synonyms.get(self.glossary.spelling.get(part, part))
            terms.append(Term(syn, synonym=True, surface=part, start=start) if syn
                         else Term(self.stem(part), start=start))

    def terms(self, text: str, expand_names: bool = False) -> list[str]:
        """Just the term values of ``text``."""
        return [t.value for t in self.analyze(text, expand_names).terms]

    def strip_stop_phrases(self, question: str) -> str:
        """Remove phrases that only name the document itself ("the resolution", "this draft")."""
        return self._stop_phrases.sub(" ", question) if self._stop_phrases else question


def _split_hyphens(word: str) -> Iterable[str]:
    """'rights-based' -> 'rights', 'based'; possessive and quote residue dropped."""
    for part in re.split(r"[-–/']", word):
        part = part.strip(".,;:()\"“”’‘")
        if part and part != "s":
            yield part
