"""One loader for config.yaml plus the environment; secrets come only from the environment."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

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

    def section(self, name: str) -> Mapping[str, Any]:
        """A top-level section of config.yaml (empty when absent)."""
        value = self.data.get(name) or {}
        if not isinstance(value, Mapping):
            raise ConfigError(f"config section {name!r} must be a mapping")
        return value

    def get(self, section: str, key: str, default: Any = None) -> Any:
        """One setting, or ``default`` when config.yaml does not give it."""
        return self.section(section).get(key, default)

    def path(self, key: str) -> Path:
        """A content path from the ``content`` section, resolved against the config's folder."""
        value = self.get("content", key)
        if not value:
            raise ConfigError(f"config content.{key} is missing")
        path = Path(value)
        return path if path.is_absolute() else self.root / path

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


def load_config(path: Path | str | None = None, environ: Mapping[str, str] | None = None) -> Config:
    """Read config.yaml (``RESBOT_CONFIG`` or the project's) and attach the environment."""
    env = dict(os.environ if environ is None else environ)
    chosen = Path(path or env.get("RESBOT_CONFIG") or DEFAULT_CONFIG)
    try:
        data = yaml.safe_load(chosen.read_text(encoding="utf-8")) or {}
    except OSError as exc:
        raise ConfigError(f"cannot read config file {chosen}: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"config file {chosen} is not valid YAML: {exc}") from None
    if not isinstance(data, Mapping):
        raise ConfigError(f"config file {chosen} must hold a mapping")
    return Config(data=data, root=chosen.resolve().parent, environ=env)
