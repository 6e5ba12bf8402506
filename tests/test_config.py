"""config.yaml holds every setting the code reads, once; secrets come only from the environment."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from bot.config import ConfigError, load_config

ROOT = Path(__file__).resolve().parent.parent
SECTION_OF = {"_web(config, ": "web", "r.get(": "retrieval", "a.get(": "answer"}
READS = re.compile(r'(_web\(config, |config\.get\("(?P<section>[a-z]+)", |\b[ra]\.get\()"(?P<key>[a-z_0-9]+)"')


class UniqueKeyLoader(yaml.SafeLoader):
    """A loader that refuses a key given twice in one mapping."""


def _no_duplicates(loader: yaml.SafeLoader, node: yaml.MappingNode, deep: bool = False) -> dict[object, object]:
    keys = [loader.construct_object(k, deep=deep) for k, _ in node.value]
    duplicated = {k for k in keys if keys.count(k) > 1}
    if duplicated:
        raise AssertionError(f"config.yaml repeats {sorted(map(str, duplicated))}")
    return loader.construct_mapping(node, deep)


UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _no_duplicates)


def code_reads() -> set[tuple[str, str]]:
    found = set()
    for path in [*ROOT.glob("bot/**/*.py"), *ROOT.glob("retrieval/*.py")]:
        for m in READS.finditer(path.read_text(encoding="utf-8")):
            section = m.group("section") or SECTION_OF[m.group(1)]
            found.add((section, m.group("key")))
    return found


def test_no_key_is_given_twice() -> None:
    yaml.load((ROOT / "config.yaml").read_text(encoding="utf-8"), Loader=UniqueKeyLoader)


def test_every_setting_the_code_reads_is_in_config_yaml() -> None:
    data = yaml.safe_load((ROOT / "config.yaml").read_text(encoding="utf-8"))
    reads = code_reads()
    assert len(reads) > 30
    missing = sorted(f"{s}.{k}" for s, k in reads if k not in (data.get(s) or {}))
    assert missing == []


def test_no_secret_in_config_yaml() -> None:
    text = (ROOT / "config.yaml").read_text(encoding="utf-8").lower()
    for word in ("xoxb-", "token:", "secret:", "password"):
        assert word not in text


def test_secrets_come_from_the_environment() -> None:
    config = load_config(environ={"SLACK_SIGNING_SECRET": "s3cret", "EMPTY": ""})
    assert config.secret("SLACK_SIGNING_SECRET") == "s3cret"
    assert config.secret("EMPTY") is None
    with pytest.raises(ConfigError, match="TELEGRAM_BOT_TOKEN"):
        config.require_secret("TELEGRAM_BOT_TOKEN")


def test_bad_config_files_are_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such config file"):
        load_config(tmp_path / "missing.yaml", environ={})
    bad = tmp_path / "bad.yaml"
    bad.write_text("retrieval: [unclosed", encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(bad, environ={})
    scalar = tmp_path / "scalar.yaml"
    scalar.write_text("42", encoding="utf-8")
    with pytest.raises(ConfigError, match="must hold a mapping"):
        load_config(scalar, environ={})


def test_content_paths_resolve_against_the_config_folder_then_the_project() -> None:
    config = load_config(environ={})
    assert config.path("resolution") == ROOT / "content" / "resolution.txt"
    with pytest.raises(ConfigError, match=r"content\.nothing"):
        config.path("nothing")
