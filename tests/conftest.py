"""Shared fixtures: one loaded answer core per test session."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from bot.config import Config, load_config
from bot.core import Core, get_core
from tests.fakes.web_harness import Stack, cleared, running


@pytest.fixture(scope="session")
def config() -> Config:
    """The project's config.yaml with an empty environment (no secrets)."""
    return load_config(environ={})


@pytest.fixture(scope="session")
def core(config: Config) -> Core:
    """The answer core, built once."""
    return get_core(config)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def shared_stack() -> AsyncIterator[Stack]:
    """One web app per test module, every secret set, a scripted core (a module may override it)."""
    async with running() as stack:
        yield stack


@pytest_asyncio.fixture(loop_scope="module")
async def st(shared_stack: Stack) -> Stack:
    """The module's shared web app with its records cleared for this test."""
    return cleared(shared_stack)
