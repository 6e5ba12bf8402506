"""Shared state for the channels (dedupe, conversation contexts, counters), in memory or in Redis."""

from bot.state.base import ContextStore, Counter, Dedupe, Health, State
from bot.state.open import open_state

__all__ = ["ContextStore", "Counter", "Dedupe", "Health", "State", "open_state"]
