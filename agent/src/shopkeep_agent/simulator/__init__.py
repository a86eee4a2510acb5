"""A small simulated game server (Source RCON and Rust WebRCON) for tests, benchmarks and the
demo. See docs/agent-adapters.md."""

from __future__ import annotations

from .cli import main
from .core import Simulator, run_simulator, send_control
from .world import parse_log_line

__all__ = ["Simulator", "main", "parse_log_line", "run_simulator", "send_control"]
