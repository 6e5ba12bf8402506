from __future__ import annotations

from pathlib import Path

from retrieval.cache import CODE_FILES, cache_key, load_or_build


def test_builds_once_then_reads(tmp_path: Path) -> None:
    calls: list[int] = []

    def build() -> dict[str, int]:
        calls.append(1)
        return {"x": 1}

    assert load_or_build(tmp_path, "k1", build) == {"x": 1}
    assert load_or_build(tmp_path, "k1", build) == {"x": 1}
    assert len(calls) == 1


def test_corrupt_entry_is_rebuilt(tmp_path: Path) -> None:
    (tmp_path / "index-k2.pickle").write_bytes(b"not a pickle")
    assert load_or_build(tmp_path, "k2", lambda: 42) == 42


def test_unwritable_cache_still_answers(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert load_or_build(blocker / "sub", "k3", lambda: "built") == "built"


def test_key_changes_with_content_and_settings(tmp_path: Path) -> None:
    code = tmp_path / "code"
    code.mkdir()
    for name in CODE_FILES:
        (code / name).write_text("# v1")
    content = tmp_path / "resolution.txt"
    content.write_text("one")
    first = cache_key([content], ("okapi", 0.6), code)
    assert cache_key([content], ("okapi", 0.6), code) == first
    assert cache_key([content], ("okapi", 0.7), code) != first
    content.write_text("two")
    assert cache_key([content], ("okapi", 0.6), code) != first
    content.write_text("one")
    (code / "nlp.py").write_text("# v2")
    assert cache_key([content], ("okapi", 0.6), code) != first
