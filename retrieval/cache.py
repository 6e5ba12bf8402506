"""A disk cache for derived data, keyed by the content, the settings and the code that derive it.

Any change to a content file, a retrieval setting or a source file of the analysis gives a new
key, so a stale entry is never read. A cache that cannot be read or written is simply skipped.
"""

from __future__ import annotations

import hashlib
import logging
import os
import pickle
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")
log = logging.getLogger(__name__)
CODE_FILES = ("parse.py", "glossary.py", "nlp.py", "index.py", "search.py", "structure.py", "clauses.py")


def cache_key(files: Iterable[Path], settings: object, code_dir: Path, extra_code: Iterable[Path] = ()) -> str:
    """SHA-256 over the files' bytes, the settings' repr and the analysis code."""
    digest = hashlib.sha256(repr(settings).encode())
    for path in [*files, *(code_dir / name for name in CODE_FILES), *extra_code]:
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:32]


def load_or_build(cache_dir: Path | None, key: str, build: Callable[[], T]) -> T:
    """The cached value for ``key``, or ``build()`` stored for next time."""
    if cache_dir is None:
        return build()
    path = cache_dir / f"index-{key}.pickle"
    try:
        with path.open("rb") as handle:
            cached: T = pickle.load(handle)  # our own file, named by a hash of its inputs
            return cached
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError):
        pass
    built = build()
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=cache_dir, suffix=".tmp")
        with os.fdopen(fd, "wb") as handle:
            pickle.dump(built, handle, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, path)
    except OSError as exc:
        log.info("index cache not written (%s); continuing without it", exc)
    return built
