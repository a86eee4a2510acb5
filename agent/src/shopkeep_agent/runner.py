"""Runs one platform command on the game, through the journal, at most once."""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable
from dataclasses import dataclass
from typing import Any, Callable

from .adapters.base import Adapter, AdapterError, Player, player_matches
from .journal import OUTCOME_UNKNOWN, RECONFIRM, RUN, Journal
from .placeholders import UnsafePlaceholder, render

log = logging.getLogger("shopkeep_agent")

# handle() outcomes
EXECUTED = "executed"    # sent to the game (result journaled)
RECORDED = "recorded"    # a result journaled without sending anything (refused, unreachable)
WAITING = "waiting"      # the player is offline; try again after the next poll
SKIPPED = "skipped"      # the journal already knows this command; nothing to do here


@dataclass(frozen=True)
class Command:
    id: int
    attempt: int
    type: str
    template: str
    placeholders: dict[str, Any]
    require_online: bool
    player: Player | None
    # The owner's word that running it twice has the effect of running it once.
    safe_to_repeat: bool = False
    delay_after_join: int = 0

    @classmethod
    def parse(cls, raw: dict[str, Any]) -> Command:
        """Raises ValueError for an entry that does not follow the agent API."""
        try:
            command_id = int(raw["id"])
            attempt = int(raw.get("attempt") or 1)
        except (KeyError, TypeError, ValueError):
            raise ValueError(f"command without a numeric id/attempt: {raw!r:.200}") from None
        template = raw.get("command")
        if not isinstance(template, str):
            raise ValueError(f"command #{command_id} has no command text")
        values = raw.get("placeholders") or {}
        if not isinstance(values, dict):
            raise ValueError(f"command #{command_id}: placeholders must be an object")
        who = raw.get("player") or {}
        player = None
        if isinstance(who, dict) and (who.get("name") or who.get("uuid") or who.get("steam_id")):
            player = Player(name=str(who.get("name") or ""), uuid=who.get("uuid") or None,
                            steam_id=who.get("steam_id") or None)
        delay = raw.get("delay_after_join") or 0
        if isinstance(delay, bool) or not isinstance(delay, int) or not 0 <= delay <= 86400:
            raise ValueError(f"command #{command_id}: delay_after_join must be 0 to 86400 s")
        return cls(id=command_id, attempt=attempt, type=str(raw.get("type") or "purchase"),
                   template=template, placeholders=values,
                   require_online=bool(raw.get("require_online")), player=player,
                   safe_to_repeat=raw.get("safe_to_repeat") is True, delay_after_join=delay)

    @property
    def player_label(self) -> str:
        """The player's name for logs and the journal; unprintable characters (a hostile
        name's newline) become "?" so they cannot forge log lines."""
        name = self.player.name if self.player else ""
        return "".join(c if c.isprintable() else "?" for c in name)


def _retryable(error_code: str) -> bool:
    # An unknown command will never succeed by itself; the owner has to fix the template.
    return error_code != "UNKNOWN_COMMAND"


class JoinClock:
    """When the agent first saw each online player (monotonic seconds), for commands with a
    delay after joining. A player who leaves is forgotten, so a rejoin starts the clock
    again. A player online when the agent starts counts from then: the delay is never
    shorter than asked."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.seen: list[tuple[Player, float]] = []

    def note(self, players: list[Player]) -> None:
        now = self.clock()
        kept = [(p, t) for p, t in self.seen if any(player_matches(p, o) for o in players)]
        for other in players:
            if not any(player_matches(p, other) for p, _ in kept):
                kept.append((other, now))
        self.seen = kept

    def online_for(self, player: Player) -> float:
        for known, since in self.seen:
            if player_matches(player, known):
                return self.clock() - since
        return 0.0


class Runner:
    def __init__(self, *, journal: Journal, adapter: Adapter,
                 joins: JoinClock | None = None) -> None:
        self.journal = journal
        self.adapter = adapter
        self.joins = joins or JoinClock()

    async def handle(self, cmd: Command,
                     online: Callable[[], Awaitable[list[Player] | None]]) -> str:
        """``online`` returns this pass's player list (None when the game is unreachable);
        it is only a pre-filter: the adapter is asked again right before execution."""
        decision = self.journal.decide(cmd.id, cmd.attempt)
        if decision == RECONFIRM:
            earlier = next(e for e in self.journal.entries_for(cmd.id) if e.outcome == "confirm")
            self.journal.record(
                command_id=cmd.id, attempt=cmd.attempt, type=cmd.type, player=cmd.player_label,
                command=earlier.command, ok=True,
                output=f"Already executed on this server (attempt {earlier.attempt}); not run "
                       f"again. {earlier.output}")
            log.warning("command #%s attempt %s already ran here as attempt %s: confirming "
                        "again, not running it twice", cmd.id, cmd.attempt, earlier.attempt)
            return RECORDED
        if decision != RUN:
            return SKIPPED
        try:
            text = render(cmd.template, cmd.placeholders, self.adapter.separators)
        except UnsafePlaceholder as exc:
            self.journal.record(
                command_id=cmd.id, attempt=cmd.attempt, type=cmd.type, player=cmd.player_label,
                command=cmd.template, ok=False, error=str(exc), error_code=exc.code,
                retryable=False)
            log.warning("command #%s refused, not run: %s", cmd.id, exc)
            return RECORDED
        if cmd.require_online and self.adapter.knows_players:
            if cmd.player is None:
                self.journal.record(
                    command_id=cmd.id, attempt=cmd.attempt, type=cmd.type, player="",
                    command=text, ok=False, error_code="PLAYER_NOT_FOUND", retryable=False,
                    error="The command waits for an online player but the order names none.")
                return RECORDED
            players = await online()
            if players is None or not _listed(cmd.player, players):
                return WAITING
            if cmd.delay_after_join and self.joins.online_for(cmd.player) < cmd.delay_after_join:
                return WAITING
            try:
                # Right before execution: the pass's list may be seconds old.
                if not await self.adapter.is_online(cmd.player):
                    return WAITING
            except AdapterError:
                return WAITING  # an unreachable game has nobody online; nothing was sent
        else:
            try:
                await self.adapter.connect()
            except AdapterError as exc:
                # Nothing was sent, so the platform may safely retry later.
                self.journal.record(
                    command_id=cmd.id, attempt=cmd.attempt, type=cmd.type,
                    player=cmd.player_label, command=text, ok=False, error_code=exc.code,
                    error=f"Game server unreachable, command not sent: {exc}", retryable=True)
                log.warning("command #%s not sent, game server unreachable: %s", cmd.id, exc)
                return RECORDED
        return await self._execute(cmd, text)

    async def _execute(self, cmd: Command, text: str) -> str:
        if not self.journal.start(command_id=cmd.id, attempt=cmd.attempt, type=cmd.type,
                                  player=cmd.player_label, command=text,
                                  safe_to_repeat=cmd.safe_to_repeat):
            return SKIPPED
        try:
            result = await self.adapter.execute(text)
        except AdapterError as exc:
            if getattr(exc, "command_sent", True):
                # The command may have reached the game before the connection broke: the
                # platform retries it only if it is safe to repeat, otherwise the owner
                # reviews it (needs_review), like a crash mid-execution.
                self.journal.finish(
                    command_id=cmd.id, attempt=cmd.attempt, ok=False, error_code=OUTCOME_UNKNOWN,
                    error=f"Lost the game server connection while the command was in flight; "
                          f"it may or may not have run ({exc.code}: {exc})",
                    retryable=cmd.safe_to_repeat)
                log.error("command #%s: connection lost in flight (%s); reported as outcome "
                          "unknown", cmd.id, exc)
            else:
                self.journal.finish(
                    command_id=cmd.id, attempt=cmd.attempt, ok=False, error_code=exc.code,
                    error=f"Game server unreachable, command not sent: {exc}", retryable=True)
                log.warning("command #%s not sent, game server unreachable: %s", cmd.id, exc)
            return EXECUTED
        except Exception as exc:
            self.journal.finish(
                command_id=cmd.id, attempt=cmd.attempt, ok=False, error_code=OUTCOME_UNKNOWN,
                error=f"Agent error while executing; it may or may not have run: {exc!r}",
                retryable=cmd.safe_to_repeat)
            log.exception("command #%s: adapter error", cmd.id)
            return EXECUTED
        if result.ok:
            self.journal.finish(command_id=cmd.id, attempt=cmd.attempt, ok=True,
                                output=result.output)
            log.info("ran #%s attempt %s (%s%s): %s -> ok", cmd.id, cmd.attempt, cmd.type,
                     f", {cmd.player_label}" if cmd.player_label else "", text)
        else:
            code = result.error_code or "COMMAND_FAILED"
            self.journal.finish(command_id=cmd.id, attempt=cmd.attempt, ok=False,
                                output=result.output, error=result.output or code,
                                error_code=code, retryable=_retryable(code))
            log.warning("ran #%s attempt %s: %s -> the game reported %s: %s", cmd.id,
                        cmd.attempt, text, code, result.output[:200])
        return EXECUTED


def _listed(player: Player, players: list[Player]) -> bool:
    return any(player_matches(player, other) for other in players)
