"""Game adapters: one small interface (base.Adapter) in front of each way of reaching a game."""

from __future__ import annotations

from .base import (
    COMMAND_FAILED,
    PLAYER_NOT_FOUND,
    UNKNOWN_COMMAND,
    Adapter,
    AdapterAuthError,
    AdapterError,
    AdapterTimeout,
    Player,
    Result,
    create_adapter,
)

__all__ = [
    "COMMAND_FAILED",
    "PLAYER_NOT_FOUND",
    "UNKNOWN_COMMAND",
    "Adapter",
    "AdapterAuthError",
    "AdapterError",
    "AdapterTimeout",
    "Player",
    "Result",
    "create_adapter",
]
