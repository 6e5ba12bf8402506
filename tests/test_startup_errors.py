"""Start-up with a config outside the project: relative content paths, and one line for any bad file.

Every command (ask, chat, show, timeline, eval, report, telegram, serve) is run in process through
``bot.cli.main`` on each kind of broken config or content file; a few run as real processes to
show that stderr is exactly that one line, without a traceback.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.cli import main
from bot.config import PROJECT_ROOT, ConfigError, load_config

COMMANDS = {
    "ask": ["ask", "when is World Day?"],
    "chat": ["chat"],
    "show": ["show", "OP5"],
    "timeline": ["timeline"],
    "eval": ["eval"],
    "report": ["report"],
    "telegram": ["telegram"],
    "serve": ["serve", "--host", "127.0.0.1", "--port", "1"],
}
CONTENT_COMMANDS = [name for name in COMMANDS if name != "report"]  # report reads only the log


def project_settings() -> dict[str, Any]:
    """The project's config.yaml as data (its content paths relative)."""
    return dict(load_config(environ={}).data)


def write_config(folder: Path, change: Callable[[dict[str, Any]], None] | None = None) -> Path:
    """A copy of the project's config in ``folder`` (outside the project), changed by ``change``."""
    data = project_settings()
    data["retrieval"] = {**data["retrieval"], "cache_dir": str(PROJECT_ROOT / ".cache")}
    if change is not None:
        change(data)
    path = folder / "resbot.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def run_main(args: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    """``resbot ARGS`` in process with empty stdin and a Telegram token set; (exit code, stderr)."""
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "123:not-used")
    code = main(args)
    return code, capsys.readouterr().err


def assert_one_line(err: str, *parts: str) -> None:
    """stderr is one ``resbot: ...`` line holding every part."""
    assert err.endswith("\n") and err.count("\n") == 1, err
    assert err.startswith("resbot: ") and "Traceback" not in err
    for part in parts:
        assert part in err, (part, err)


def test_relative_content_paths_resolve_beside_the_config_then_in_the_project(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config_path = write_config(tmp_path)
    config = load_config(config_path, environ={})
    assert config.path("resolution") == PROJECT_ROOT / "content" / "resolution.txt"  # nothing beside it
    assert main(["--config", str(config_path), "ask", "when is World Day?"]) == 0
    assert "30 July" in capsys.readouterr().out
    (tmp_path / "content").mkdir()
    (tmp_path / "content" / "glossary.yaml").write_text("{}\n", encoding="utf-8")
    assert load_config(config_path, environ={}).path("glossary") == tmp_path / "content" / "glossary.yaml"
    assert load_config(config_path, environ={}).output_path("u.jsonl") == tmp_path / "u.jsonl"


def test_resbot_config_from_the_environment_is_used(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config_path = write_config(tmp_path, lambda d: d["answer"].update(quote_chars=99))
    monkeypatch.setenv("RESBOT_CONFIG", str(config_path))
    config = load_config()
    assert config.source == config_path and config.get("answer", "quote_chars") == 99


def missing_resolution(data: dict[str, Any]) -> None:
    data["content"]["resolution"] = "content/no-such-resolution.txt"


def no_resolution_setting(data: dict[str, Any]) -> None:
    del data["content"]["resolution"]


def missing_templates(data: dict[str, Any]) -> None:
    data["content"]["templates"] = "/nonexistent/templates.yaml"


def folder_as_glossary(data: dict[str, Any]) -> None:
    data["content"]["glossary"] = str(PROJECT_ROOT / "content")


CONTENT_CASES: dict[str, tuple[Callable[[dict[str, Any]], None], list[str]]] = {
    "missing relative file": (missing_resolution, [
        "content.resolution: no such file:", "content/no-such-resolution.txt or " + str(PROJECT_ROOT)]),
    "setting removed": (no_resolution_setting, ["content.resolution: the setting is missing"]),
    "missing absolute file": (missing_templates, ["content.templates: no such file: /nonexistent/templates.yaml"]),
    "a folder": (folder_as_glossary, ["content.glossary: cannot read", "Is a directory"]),
}


@pytest.mark.parametrize("command", CONTENT_COMMANDS)
@pytest.mark.parametrize("case", list(CONTENT_CASES))
def test_a_bad_content_setting_stops_every_command_in_one_line(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
        command: str, case: str) -> None:
    change, parts = CONTENT_CASES[case]
    config_path = write_config(tmp_path, change)
    code, err = run_main(["--config", str(config_path), *COMMANDS[command]], monkeypatch, capsys)
    assert code == 2
    assert_one_line(err, *parts, f"(config {config_path})")


def broken_files(folder: Path) -> dict[str, tuple[Callable[[dict[str, Any]], None], list[str]]]:
    """Content files with bad content, each with the setting pointing at it and the expected words."""
    (folder / "glossary.yaml").write_text("acronyms: [\n", encoding="utf-8")
    (folder / "templates.yaml").write_text("kinds: {who: '('}\n", encoding="utf-8")
    (folder / "resolution.txt").write_bytes(b"\xff\xfe not UTF-8")
    (folder / "countries.yaml").write_text("aliases: {usa: [\n", encoding="utf-8")
    return {
        "glossary not YAML": (lambda d: d["content"].update(glossary=str(folder / "glossary.yaml")),
                              ["content.glossary:", "is not valid YAML (line 2, column 1"]),
        "resolution not UTF-8": (lambda d: d["content"].update(resolution=str(folder / "resolution.txt")),
                                 ["content.resolution:", "is not UTF-8 text"]),
        "templates malformed": (lambda d: d["content"].update(templates=str(folder / "templates.yaml")),
                                ["content.templates:", str(folder / "templates.yaml")]),
        "countries not YAML": (lambda d: d["content"].update(countries=str(folder / "countries.yaml")),
                               ["content.countries:", "is not valid YAML"]),
    }


@pytest.mark.parametrize("command", ["ask", "eval", "serve"])
@pytest.mark.parametrize("case", ["glossary not YAML", "resolution not UTF-8", "templates malformed",
                                  "countries not YAML"])
def test_a_malformed_content_file_stops_in_one_line(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
        command: str, case: str) -> None:
    change, parts = broken_files(tmp_path)[case]
    config_path = write_config(tmp_path, change)
    code, err = run_main(["--config", str(config_path), *COMMANDS[command]], monkeypatch, capsys)
    assert code == 2
    assert_one_line(err, *parts)


def test_a_missing_evaluation_file_stops_eval_and_only_eval(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    config_path = write_config(tmp_path, lambda d: d["content"].update(eval="/nonexistent/eval.yaml"))
    code, err = run_main(["--config", str(config_path), "eval"], monkeypatch, capsys)
    assert code == 2
    assert_one_line(err, "content.eval: no such file: /nonexistent/eval.yaml")
    code, err = run_main(["--config", str(config_path), "show", "OP5"], monkeypatch, capsys)
    assert code == 0 and err == ""


def write_text(folder: Path, text: str | bytes) -> Path:
    """A config file with exactly this text."""
    path = folder / "resbot.yaml"
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


CONFIG_CASES: dict[str, tuple[str | bytes | None, list[str]]] = {
    "no such file": (None, ["--config: no such config file:"]),
    "not YAML": ("retrieval: [\n", ["--config: config file", "is not valid YAML (line 2, column 1"]),
    "not a mapping": ("- a\n- list\n", ["--config: config file", "must hold a mapping of sections"]),
    "not UTF-8": (b"answer:\n  quote_chars: \xff\n", ["--config: config file", "is not UTF-8 text"]),
    "section not a mapping": ("answer: 5\n", ["answer: must be a mapping of settings"]),
    "a number as text": ("retrieval:\n  k1: fast\n", ["retrieval.k1: must be a number, got 'fast'"]),
    "a fraction for a count": ("answer:\n  cache_size: 1.5\n", ["answer.cache_size: must be a whole number"]),
    "text as a list": ("web:\n  mattermost_usernames: bot\n", ["web.mattermost_usernames: must be a list"]),
    "a bad log setting": ("unanswered:\n  enabled: 1\n", ["unanswered.enabled: must be true or false"]),
    "a bad log size": ("unanswered:\n  max_bytes: 10\n",
                       ["unanswered.max_bytes: must be a whole number of at least 1024"]),
}


@pytest.mark.parametrize("command", list(COMMANDS))
@pytest.mark.parametrize("case", list(CONFIG_CASES))
def test_a_bad_config_file_stops_every_command_in_one_line(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
        command: str, case: str) -> None:
    text, parts = CONFIG_CASES[case]
    path = tmp_path / "missing.yaml" if text is None else write_text(tmp_path, text)
    code, err = run_main(["--config", str(path), *COMMANDS[command]], monkeypatch, capsys)
    assert code == 2
    assert_one_line(err, *parts, str(path))


def test_a_missing_resbot_config_names_the_variable(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("RESBOT_CONFIG", str(tmp_path / "resbot.yaml"))
    code, err = run_main(["show", "OP5"], monkeypatch, capsys)
    assert code == 2
    assert_one_line(err, f"RESBOT_CONFIG: no such config file: {tmp_path / 'resbot.yaml'}")


def test_the_project_config_passes_its_own_type_checks() -> None:
    from bot.config import check_settings

    check_settings(project_settings(), PROJECT_ROOT / "config.yaml")
    with pytest.raises(ConfigError, match=r"web\.port: must be a whole number, got '8080'"):
        check_settings({"web": {"port": "8080"}}, Path("x.yaml"))


@pytest.mark.parametrize("command", ["serve", "telegram", "ask"])
def test_real_processes_print_only_the_one_line(tmp_path: Path, command: str) -> None:
    config_path = write_config(tmp_path, missing_resolution)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RESBOT", "REDIS", "SLACK", "TELEGRAM"))}
    env.update({"RESBOT_CONFIG": str(config_path), "TELEGRAM_BOT_TOKEN": "123:not-used"})
    done = subprocess.run([sys.executable, "-m", "bot", *COMMANDS[command]], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL, check=False)
    assert done.returncode == 2 and done.stdout == ""
    assert_one_line(done.stderr, "content.resolution: no such file:", f"(config {config_path})")
