"""Titled names in UN texts, found by their shape rather than by a list.

A titled name is built around a head word ("Declaration", "Convention", "Committee", "meeting"):
the capitalised words before it ("New York Declaration"), and after it a chain of connectors and
capitalised words ("... for Refugees and Migrants", "... of the Chief Statisticians of the United
Nations System"), a year or number ("..., 1930 (No. 29)"), or after "of"/"on"/"for"/"against" a short
lowercase tail ("meeting on strengthening partnerships with national rapporteurs"). A lowercase
head takes its lowercase modifiers back to the article ("the second consultative meeting").
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass

_TOKEN = re.compile(r"\(No\. ?\d+\)|[A-Za-z0-9][A-Za-z0-9'’/.–-]*[A-Za-z0-9]|[A-Za-z0-9]|[,;:()“”\"]")
CONNECTORS = frozenset({"of", "on", "for", "against", "to", "in", "and", "the"})
TAIL_STOPS = frozenset({"to", "by", "at", "upon", "which", "that", "who", "as", "from", "including"})
ARTICLES = frozenset({"the", "a", "an", "its", "their", "this", "these"})
MONTHS = frozenset({"january", "february", "march", "april", "may", "june", "july", "august", "september",
                    "october", "november", "december"})
MAX_TAIL_WORDS = 8
MAX_MODIFIERS = 3
MAX_LEFT = 8
MAX_TOKENS = 40


@dataclass(frozen=True, slots=True)
class TitledName:
    """A name found in a text: its head word (lowercase), the words as written and its character span."""

    head: str
    text: str
    start: int
    end: int


def _capital(token: str) -> bool:
    return token[:1].isupper() or token[:1].isdigit() or token.startswith("(No")


def _word(token: str) -> bool:
    return token[:1].isalnum()


def _titled_word(token: str) -> bool:
    """A capitalised word that can follow a connector inside a name (not a month: "Group in March")."""
    return token[:1].isupper() and token.lower() not in MONTHS


def titled_names(text: str, heads: Collection[str]) -> list[TitledName]:
    """Every titled name in ``text`` whose head word (compared lowercase) is one of ``heads``, in order."""
    tokens = [(m.group(), m.start(), m.end()) for m in _TOKEN.finditer(text)]
    words = [t for t, _, _ in tokens]
    capitalised = {h.lower() for h in heads if h[:1].isupper()}  # "Declaration" only as written
    any_case = {h.lower() for h in heads if not h[:1].isupper()}  # "meeting", "process"
    names: list[TitledName] = []
    for i, word in enumerate(words):
        lower = word.lower()
        if not (lower in any_case or (lower in capitalised and word[:1].isupper())):
            continue
        first, last = _left(words, i), _right(words, i)
        if last - first < 1:  # a bare head word names nothing in particular
            continue
        start, end = tokens[first][1], tokens[last][2]
        names.append(TitledName(word.lower(), text[start:end], start, end))
    return names


def _left(words: list[str], i: int) -> int:
    """Index of the first word of the name whose head is at ``i``."""
    first = i
    while first > 0 and i - first < MAX_LEFT:
        before = words[first - 1]
        if _word(before) and _capital(before):
            first -= 1
        elif (before == "," or before.lower() == "and") and first > 1 and _titled_word(words[first - 2]):
            first -= 2  # "Economic and Social Council", "Educational, Scientific and Cultural Organization"
        else:
            break
    if first == i and words[i][:1].islower():  # "the second consultative meeting": back to the article
        for back in range(1, MAX_MODIFIERS + 1):
            j = i - back
            if j < 0 or not _word(words[j]):
                break
            if words[j].lower() in ARTICLES:
                return j + 1
    return first


def _right(words: list[str], i: int) -> int:
    """Index of the last word of the name whose head is at ``i``."""
    last, j, tail = i, i + 1, -1  # tail: lowercase words taken after "on" (-1: not in a tail)
    while j < len(words) and j - i < MAX_TOKENS:
        word, lower = words[j], words[j].lower()
        if (_word(word) and _capital(word)) or word.startswith("(No"):
            last, j = j, j + 1
        elif word == "," and tail < 0 and j + 1 < len(words) and _word(words[j + 1]) and _capital(words[j + 1]):
            j += 1  # "Convention, 1930 (No. 29)", "Persons, Especially Women and Children"
        elif 0 <= tail < MAX_TAIL_WORDS and _word(word) and lower not in TAIL_STOPS:
            last, j, tail = j, j + 1, tail + 1
        elif lower in CONNECTORS and tail < 0:
            k = j
            while k < len(words) and words[k].lower() in CONNECTORS and not (
                    words[k].lower() == "and" and k + 1 < len(words) and words[k + 1].lower() == "the"):
                k += 1
            if k >= len(words) or words[k].lower() in CONNECTORS:
                break  # "... and the Protocol": the next name, not this one
            nxt = words[k]
            if _titled_word(nxt) or (nxt[:1].isdigit() and words[k - 1].lower() == "of"):
                j = k
            elif lower == "on" and _word(nxt):
                j, tail = k, 0
            else:
                break
        else:
            break
    while last > i and words[last].lower() in CONNECTORS:
        last -= 1
    return last
