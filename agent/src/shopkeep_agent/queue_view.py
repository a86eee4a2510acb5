"""``shopkeep-agent queue``: what the platform holds for this server and what the journal did.

Read-only: it executes nothing and reports nothing, so it is safe beside a running agent
(it uses the same instance id, so the platform does not see a second agent).
"""

from __future__ import annotations

from typing import Any, Callable

from .adapters.base import AdapterError, Player
from .client import ApiError, PlatformClient
from .config import Config
from .journal import CRASHED, Journal
from .runner import Command, _listed


def _short(text: str, width: int = 60) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


async def _players(config: Config, factory: Callable[[dict[str, Any]], Any]
                   ) -> list[Player] | None:
    adapter = factory(config.game)
    try:
        return list(await adapter.players())
    except AdapterError:
        return None
    finally:
        await adapter.close()


async def show_queue(config: Config, *, factory: Callable[[dict[str, Any]], Any],
                     recent: int = 10) -> int:
    journal = Journal(config.journal_path, lock=False)
    try:
        instance = journal.instance_id()
        client = PlatformClient(url=config.url, store_secret=config.store_secret,
                                server_secret=config.server_secret, instance_id=instance,
                                ca_file=config.ca_file)
        status = 0
        try:
            pending = await client.pending(limit=500)
            commands = [Command.parse(c) for c in pending.commands]
        except (ApiError, ValueError) as exc:
            print(f"Pending on the platform: unavailable ({exc})")
            commands, status = [], 1
        else:
            players = None
            if any(c.require_online for c in commands):
                players = await _players(config, factory)
            more = " (more not shown)" if pending.meta.get("more") else ""
            print(f"Pending on the platform: {len(commands)}{more}")
            for cmd in commands:
                if not cmd.require_online:
                    when = "runs at once"
                elif players is None:
                    when = f"waits for {cmd.player_label} (game unreachable)"
                elif cmd.player and _listed(cmd.player, players):
                    when = f"waits for {cmd.player_label} (online: next poll)"
                else:
                    when = f"waits for {cmd.player_label} (offline)"
                print(f"  #{cmd.id:<7} {cmd.type:<19} attempt {cmd.attempt}  {when:<36} "
                      f"{_short(cmd.template, 50)}")
        counts = journal.counts()
        print(f"Journal {config.journal_path}: {counts['confirmed']} confirmed, "
              f"{counts['failed']} failed ({counts['crashed']} crashed mid-execution), "
              f"{counts['unreported']} not yet reported")
        for entry in journal.recent(recent):
            if entry.state == "started":
                what = "RUNNING (or crashed: reported at next start)"
            elif entry.outcome == "confirm":
                what = "ok"
            else:
                what = f"FAILED {entry.error_code}" + (
                    " (not retried)" if not entry.retryable or entry.error_code == CRASHED
                    else " (retryable)")
            reported = entry.report_answer or ("not reported yet" if entry.state == "finished"
                                               else "")
            print(f"  {entry.started_at[:19]}  #{entry.command_id:<7} attempt {entry.attempt}  "
                  f"{what:<34} {reported:<16} {_short(entry.command, 50)}")
        return status
    finally:
        journal.close()
