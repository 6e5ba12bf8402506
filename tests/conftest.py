"""Shared fixtures: one loaded answer core per test session."""

from __future__ import annotations

import pytest

from bot.config import Config, load_config
from bot.core import Core, get_core


@pytest.fixture(scope="session")
def config() -> Config:
    """The project's config.yaml with an empty environment (no secrets)."""
    return load_config(environ={})


@pytest.fixture(scope="session")
def core(config: Config) -> Core:
    """The answer core, built once."""
    return get_core(config)
