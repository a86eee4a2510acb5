"""shopkeep-agent: pulls delivery commands from a Shopkeep store and runs them on a game
server, at most once per server (see docs/agent.md)."""

from __future__ import annotations

__version__ = "0.2.0"
