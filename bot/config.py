"""One loader for config.yaml plus the environment; secrets come only from the environment.

Relative paths: a content file (``content.*``) is looked up beside the config file first, then in
the project folder, where the shipped content lives; so a copy of config.yaml kept elsewhere
(``RESBOT_CONFIG=/etc/resbot.yaml``) still finds ``content/resolution.txt``, and a file of the same
name beside the copy overrides it. Files resbot writes (``unanswered.path``, ``retrieval.cache_dir``)
lie beside the config file. Every problem with the config file or a content file is a ConfigError
whose one-line message names the setting and the file.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from retrieval.yamltext import load_yaml

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CONFIG = PROJECT_ROOT / "config.yaml"


class ConfigError(Exception):
    """A setting is missing or malformed; the message names it."""


@dataclass(frozen=True)
class Config:
    """Settings from config.yaml, with the environment passed in rather than read globally."""

    data: Mapping[str, Any]
    root: Path = PROJECT_ROOT
    environ: Mapping[str, str] = field(default_factory=dict)
    source: Path | None = None  # the file it was read from

    def where(self) -> str:
        """`` (config FILE)`` for error messages, or nothing when not read from a file."""
        return f" (config {self.source})" if self.source else ""

    def section(self, name: str) -> Mapping[str, Any]:
        """A top-level section of config.yaml (empty when absent)."""
        value = self.data.get(name) or {}
        if not isinstance(value, Mapping):
            raise ConfigError(f"config section {name!r} must be a mapping{self.where()}")
        return value

    def get(self, section: str, key: str, default: Any = None) -> Any:
        """One setting, or ``default`` when config.yaml does not give it."""
        return self.section(section).get(key, default)

    def path(self, key: str) -> Path:
        """A content file from the ``content`` section: beside the config file, else in the project."""
        candidates = self._candidates(key)
        return next((p for p in candidates if p.exists()), candidates[0])

    def _candidates(self, key: str) -> list[Path]:
        """Where ``content.<key>`` may lie, in the order they are tried."""
        value = self.get("content", key)
        if not value or not isinstance(value, str):
            raise ConfigError(f"content.{key}: the setting is missing{self.where()}")
        path = Path(value).expanduser()
        if path.is_absolute():
            return [path]
        return list(dict.fromkeys([self.root / path, PROJECT_ROOT / path]))

    @contextmanager
    def reading(self, setting: str, path: Path) -> Iterator[None]:
        """Turn a failure to read or parse ``path`` (given by ``setting``) into a one-line ConfigError."""
        try:
            yield
        except ConfigError:
            raise
        except FileNotFoundError:
            raise ConfigError(f"{setting}: no such file: {self._tried(setting, path)}{self.where()}") from None
        except OSError as exc:
            raise ConfigError(f"{setting}: cannot read {path}: {exc.strerror or exc}{self.where()}") from None
        except UnicodeDecodeError:
            raise ConfigError(f"{setting}: {path} is not UTF-8 text{self.where()}") from None
        except yaml.YAMLError as exc:
            raise ConfigError(f"{setting}: {path} is not valid YAML ({yaml_problem(exc)}){self.where()}") from None
        except (ValueError, KeyError, TypeError, AttributeError, IndexError) as exc:
            raise ConfigError(f"{setting}: {path}: {one_line(exc)}{self.where()}") from None

    def _tried(self, setting: str, path: Path) -> str:
        """The path that is missing, and the other place a relative content path was looked for."""
        section, _, key = setting.partition(".")
        if section != "content":
            return str(path)
        tried = self._candidates(key)
        return " or ".join(str(p) for p in tried) if path in tried else str(path)

    def output_path(self, value: str) -> Path:
        """A file resbot writes (a log, the index cache): a relative one lies in the config file's folder."""
        path = Path(value).expanduser()
        return path if path.is_absolute() else self.root / path

    def secret(self, name: str) -> str | None:
        """An environment secret, or None when unset or empty."""
        value = self.environ.get(name, "")
        return value or None

    def require_secret(self, name: str) -> str:
        """An environment secret that must be set; the error names the variable."""
        value = self.secret(name)
        if value is None:
            raise ConfigError(f"environment variable {name} is not set")
        return value


def check_content(config: Config, keys: tuple[str, ...]) -> None:
    """Read each ``content.<key>`` file (and parse the YAML ones) so a bad one stops start-up in one line.

    Cheap, and done before anything else starts (a state store, logging), so that line is the only one.
    """
    for key in keys:
        path = config.path(key)
        with config.reading(f"content.{key}", path):
            text = path.read_text(encoding="utf-8")
            if path.suffix in (".yaml", ".yml"):
                load_yaml(text)


def one_line(exc: BaseException) -> str:
    """An exception's message on one line."""
    return " ".join(str(exc).split()) or type(exc).__name__


def yaml_problem(exc: yaml.YAMLError) -> str:
    """``line L, column C: problem`` from a YAML error, on one line."""
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or one_line(exc)
    return f"line {mark.line + 1}, column {mark.column + 1}: {problem}" if mark is not None else str(problem)


def _read_yaml(path: Path, variable: str) -> Any:
    """The YAML in a config file; ConfigError on any failure, naming the file and how it was chosen."""
    try:
        return load_yaml(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{variable}: no such config file: {path}") from None
    except OSError as exc:
        raise ConfigError(f"{variable}: cannot read config file {path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{variable}: config file {path} is not UTF-8 text") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{variable}: config file {path} is not valid YAML ({yaml_problem(exc)})") from None


@functools.cache
def _reference() -> Mapping[str, Any]:
    """The project's config.yaml: every setting with a value of the type the code expects."""
    data = load_yaml(DEFAULT_CONFIG.read_text(encoding="utf-8"))
    return data if isinstance(data, Mapping) else {}


def _kind(value: Any) -> str:
    """The name of a setting's type, with integers counted as numbers."""
    if isinstance(value, bool):
        return "true or false"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, list):
        return "a list"
    return "a mapping" if isinstance(value, Mapping) else type(value).__name__


def check_settings(data: Mapping[str, Any], source: Path) -> None:
    """Each known setting must have the type of the project's value for it (ints where it has an int)."""
    for section, reference in _reference().items():
        given = data.get(section)
        if given is None or not isinstance(reference, Mapping):
            continue
        if not isinstance(given, Mapping):
            raise ConfigError(f"{section}: must be a mapping of settings (config {source})")
        for key, default in reference.items():
            value = given.get(key)
            if value is None or default is None or default == "":
                continue
            wrong = _kind(value) != _kind(default) or (isinstance(default, int) and not isinstance(default, bool)
                                                      and not isinstance(value, int))
            if wrong:
                expected = "a whole number" if isinstance(default, int) and not isinstance(default, bool) \
                    else _kind(default)
                raise ConfigError(f"{section}.{key}: must be {expected}, got {value!r} (config {source})")


def load_config(path: Path | str | None = None, environ: Mapping[str, str] | None = None) -> Config:
    """Read config.yaml (``--config``, else ``RESBOT_CONFIG``, else the project's) and attach the environment."""
    env = dict(os.environ if environ is None else environ)
    variable = "--config" if path else "RESBOT_CONFIG" if env.get("RESBOT_CONFIG") else "config"
    chosen = Path(path or env.get("RESBOT_CONFIG") or DEFAULT_CONFIG).expanduser()
    data = _read_yaml(chosen, variable) or {}
    if not isinstance(data, Mapping):
        raise ConfigError(f"{variable}: config file {chosen} must hold a mapping of sections")
    if chosen.resolve() != DEFAULT_CONFIG:
        check_settings(data, chosen)
    return Config(data=data, root=chosen.resolve().parent, environ=env, source=chosen)
