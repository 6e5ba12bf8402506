"""Contexts as JSON, so a replica can read what another one stored.

The Answer dataclasses go out field by field; reading skips fields this version does not know
and fills missing ones from their defaults, so replicas one release apart can still share
conversations. Anything unreadable is None: the question is then answered as a new one.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from bot.context import Context
from bot.model import Answer, Citation, Item

VERSION = 1
_NESTED: dict[str, type[Citation] | type[Item]] = {"citations": Citation, "items": Item}
_FIELDS: dict[type[Any], frozenset[str]] = {
    cls: frozenset(f.name for f in dataclasses.fields(cls)) for cls in (Answer, Citation, Item)
}
_ORDER = {cls: tuple(f.name for f in dataclasses.fields(cls)) for cls in (Answer, Citation, Item)}


def encode_context(context: Context) -> bytes:
    """``context`` as compact UTF-8 JSON."""
    data = {"v": VERSION, "last": _answer_data(context.last)}
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _answer_data(answer: Answer) -> dict[str, Any]:
    """The Answer's fields as JSON-ready data (dataclasses.asdict deep-copies, ten times slower)."""
    data = {name: getattr(answer, name) for name in _ORDER[Answer]}
    for name, cls in _NESTED.items():
        data[name] = [{key: getattr(entry, key) for key in _ORDER[cls]} for entry in data[name]]
    return data


def decode_context(raw: bytes | str) -> Context | None:
    """The Context in ``raw``, or None when it is not one this version can read."""
    try:
        data = json.loads(raw)
        if not isinstance(data, dict) or data.get("v") != VERSION:
            return None
        return Context(last=_answer(data["last"]))
    except (ValueError, TypeError, KeyError, RecursionError):
        return None


def _known(cls: type[Any], data: Any) -> dict[str, Any]:
    """The entries of ``data`` that are fields of dataclass ``cls``; TypeError if not a mapping."""
    if not isinstance(data, dict):
        raise TypeError(f"{cls.__name__} must be a JSON object")
    names = _FIELDS[cls]
    return {k: v for k, v in data.items() if k in names}


def _answer(data: Any) -> Answer:
    """An Answer from its decoded JSON object."""
    fields = _known(Answer, data)
    for name, cls in _NESTED.items():
        if name in fields:
            fields[name] = tuple(cls(**_known(cls, entry)) for entry in fields[name])
    if "related" in fields:
        fields["related"] = tuple(fields["related"])
    return Answer(**fields)
