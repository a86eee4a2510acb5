"""The agent loop: poll, run, report, heartbeat; back off, stop and resume politely.

Everything happens in one asyncio task, one step at a time, so there is never more than one
command in hand. Only waiting (sleeps, HTTP requests) is interruptible by SIGTERM; running a
command and journaling its result never is.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import threading
import time
from typing import Any, Callable

from .adapters.base import Adapter, AdapterError, Player, player_matches
from .backoff import Backoff
from .client import ApiError, Pending, PlatformClient
from .config import Config, ConfigError, fingerprint
from .journal import Journal
from .reporter import Reporter
from .runner import EXECUTED, RECORDED, WAITING, Command, Runner

log = logging.getLogger("shopkeep_agent")


class Stopping(Exception):
    """SIGTERM/SIGINT arrived while the agent was only waiting."""


AdapterFactory = Callable[[dict[str, Any]], Adapter]


class Agent:
    def __init__(self, config: Config, *, journal: Journal, adapter_factory: AdapterFactory,
                 reload: Callable[[], Config] | None = None) -> None:
        self.config = config
        self.journal = journal
        self.adapter_factory = adapter_factory
        self.adapter = adapter_factory(config.game)
        self.reload = reload
        self.instance_id = journal.instance_id()
        self.client = self._client(config)
        self.reporter = Reporter(journal=journal, client=self.client)
        self.runner = Runner(journal=journal, adapter=self.adapter)
        self.backoff = Backoff()
        self.stop_event: asyncio.Event | None = None
        self.commands: list[Command] = []
        self.etag: str | None = None
        self.waiting: dict[int, Command] = {}
        self.next_poll_seconds = config.poll_seconds
        self.heartbeat_due = 0.0
        self.heartbeat_seconds = 120.0
        self._duplicate_logged = False
        self._game_down_logged = False
        self._closing: asyncio.Future | None = None
        self._latest_logged = ""

    def _client(self, config: Config) -> PlatformClient:
        return PlatformClient(url=config.url, store_secret=config.store_secret,
                              server_secret=config.server_secret, instance_id=self.instance_id,
                              ca_file=config.ca_file)

    # -- lifecycle ---------------------------------------------------------------------
    def request_stop(self) -> None:
        if self.stop_event is not None and not self.stop_event.is_set():
            log.info("stop requested: finishing the command in hand, reporting, exiting")
            self.stop_event.set()

    async def run(self) -> int:
        self.stop_event = asyncio.Event()
        loop = asyncio.get_running_loop()
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGTERM, signal.SIGINT):
                try:
                    loop.add_signal_handler(sig, self.request_stop)
                except NotImplementedError:  # pragma: no cover - Windows
                    signal.signal(sig, lambda *_: loop.call_soon_threadsafe(self.request_stop))
        rerun, crashed = self.journal.recover_crashed()
        for entry in rerun:
            log.warning("command #%s attempt %s was in flight when the agent stopped; it is "
                        "safe to run again, so it runs again", entry.command_id, entry.attempt)
        for entry in crashed:
            log.error("command #%s attempt %s was in flight when the agent stopped; it will "
                      "not be run again automatically (reported %s; the owner reviews it)",
                      entry.command_id, entry.attempt, "AGENT_CRASHED_DURING_EXECUTION")
        log.info("shopkeep-agent %s polling %s as instance %s (%s)", _version(),
                 self.config.url, self.instance_id,
                 f"long-poll {self.config.wait_seconds}s" if self.config.wait_seconds
                 else f"every {self.config.poll_seconds}s")
        try:
            while not self.stop_event.is_set():
                try:
                    await self._step()
                    self.backoff.reset()
                except Stopping:
                    break
                except ApiError as exc:
                    try:
                        await self._on_api_error(exc)
                    except Stopping:
                        break
            await self._final_report()
        finally:
            try:
                await self.adapter.close()
            except Exception:
                log.debug("adapter close failed", exc_info=True)
        log.info("stopped")
        return 0

    async def _final_report(self) -> None:
        try:
            await asyncio.wait_for(self.reporter.flush(), timeout=15)
        except (ApiError, asyncio.TimeoutError) as exc:
            left = len(self.journal.unreported())
            if left:
                log.warning("could not report %s result(s) before exiting (%s); they are "
                            "kept in the journal and reported at the next start", left, exc)

    # -- one round ---------------------------------------------------------------------
    async def _step(self) -> None:
        await self._interruptible(self.reporter.flush())
        if time.monotonic() >= self.heartbeat_due:
            await self._heartbeat()
        wait = self.config.wait_seconds
        if self.waiting:
            # Re-check waiting players at least this often even if the list does not change.
            wait = min(wait, self.config.online_check_seconds) if wait else 0
        started = time.monotonic()
        pending: Pending = await self._interruptible(
            self.client.pending(wait=wait, etag=self.etag))
        held = time.monotonic() - started
        if self._duplicate_logged:
            log.info("this agent now holds the server; resuming")
            self._duplicate_logged = False
        changed = pending.status == 200 and (pending.etag is None or pending.etag != self.etag)
        if pending.status == 200:
            self.etag = pending.etag
            self.commands = self._parse(pending.commands)
            next_poll = pending.meta.get("next_poll_seconds")
            if isinstance(next_poll, (int, float)) and not isinstance(next_poll, bool):
                self.next_poll_seconds = max(5, min(60, int(next_poll)))
        done = await self._run_commands()
        if done:
            # The list changed because of us (and meta.more may hold the next page): ask
            # again straight away. Not on `more` alone: if every listed command waits for
            # its player, asking again at once would spin.
            return
        if wait and (held >= wait / 2 or (changed and pending.etag)):
            # The platform held the request (that was the pause) or answered early because
            # the list changed: ask again at once, the next request waits on the new ETag.
            return
        gap = max(self.config.poll_seconds, self.next_poll_seconds)
        if self.waiting:
            gap = min(gap, self.config.online_check_seconds)
        await self._sleep(gap)

    def _parse(self, raw: list[dict[str, Any]]) -> list[Command]:
        commands = []
        for item in raw:
            try:
                commands.append(Command.parse(item))
            except ValueError as exc:
                log.error("ignoring a malformed command from the platform: %s", exc)
        return commands

    async def _run_commands(self) -> int:
        """Run the last fetched list (after a 304 too: waiting players may have joined)."""
        assert self.stop_event is not None
        done = 0
        snapshot: list[list[Player] | None] = []

        async def online() -> list[Player] | None:
            if not snapshot:
                players = await self._players()
                if players is not None:
                    self.runner.joins.note(players)
                snapshot.append(players)
            return snapshot[0]

        waiting: dict[int, Command] = {}
        # Queue order per player: once one of a player's commands waits or fails in this
        # pass, their later ones wait too (the platform then holds them back as well).
        held: list[Player] = []
        for cmd in self.commands:
            if self.stop_event.is_set():
                break  # SIGTERM: the command in hand (if any) is finished; report and exit
            if cmd.player is not None and any(player_matches(cmd.player, p) for p in held):
                waiting[cmd.id] = cmd
                continue
            outcome = await self.runner.handle(cmd, online)
            if outcome in (EXECUTED, RECORDED):
                done += 1
                if cmd.player is not None and not self._confirmed(cmd):
                    held.append(cmd.player)
            elif outcome == WAITING:
                waiting[cmd.id] = cmd
                if cmd.player is not None:
                    held.append(cmd.player)
        for cid, cmd in waiting.items():
            if cid not in self.waiting:
                log.info("command #%s waits for %s to come online", cid, cmd.player_label)
        self.waiting = waiting
        return done

    def _confirmed(self, cmd: Command) -> bool:
        return any(e.attempt == cmd.attempt and e.outcome == "confirm"
                   for e in self.journal.entries_for(cmd.id))

    async def _players(self) -> list[Player] | None:
        try:
            players = await self.adapter.players()
        except AdapterError as exc:
            if not self._game_down_logged:
                log.warning("cannot reach the game server (%s): %s", exc.code, exc)
                self._game_down_logged = True
            return None
        if self._game_down_logged:
            log.info("game server reachable again")
            self._game_down_logged = False
        return list(players)

    async def _heartbeat(self) -> None:
        players = await self._players() or []
        answer = await self._interruptible(self.client.heartbeat(
            [{"name": p.name, "uuid": p.uuid, "steam_id": p.steam_id} for p in players]))
        latest = answer.get("latest_agent_version")
        if isinstance(latest, str) and latest != self._latest_logged and _older(_version(), latest):
            log.warning("shopkeep-agent %s is out of date: %s is available (see docs/agent.md, "
                        "Upgrading)", _version(), latest[:32])
            self._latest_logged = latest
        seconds = answer.get("next_heartbeat_seconds")
        if isinstance(seconds, (int, float)) and not isinstance(seconds, bool) and seconds > 0:
            self.heartbeat_seconds = max(30.0, min(600.0, float(seconds)))
        self.heartbeat_due = time.monotonic() + self.heartbeat_seconds

    # -- errors ------------------------------------------------------------------------
    async def _on_api_error(self, exc: ApiError) -> None:
        if exc.auth:
            await self._auth_stop(exc)
        elif exc.duplicate_agent:
            # Execute nothing: forget the list so not even a waiting command can run.
            self.commands, self.waiting, self.etag = [], {}, None
            if not self._duplicate_logged:
                log.error("another agent instance is active for this server; this one (%s) "
                          "executes nothing. It takes over after 3 minutes of silence from the "
                          "other, or when the owner presses Release agent in the dashboard.",
                          self.instance_id)
                self._duplicate_logged = True
            await self._sleep(max(self.config.poll_seconds, self.next_poll_seconds))
        elif exc.transient:
            delay = self.backoff.next_delay(exc.retry_after)
            log.warning("platform unavailable (%s); retrying in %.1fs", exc, delay)
            await self._sleep(delay)
        else:
            delay = self.backoff.next_delay(exc.retry_after)
            log.error("unexpected answer from the platform (%s); retrying in %.1fs", exc, delay)
            await self._sleep(delay)

    async def _auth_stop(self, exc: ApiError) -> None:
        where = self.config.source or "the environment"
        if exc.code == "invalid_agent_instance":
            log.error("the platform refused this agent's instance id (%s); delete the journal "
                      "file %s to pick a new one. Polling stopped until %s changes.",
                      exc, self.journal.path, where)
        else:
            log.error("the platform refused the store/server secrets (%s): copy the store secret "
                      "and this server's secret from the dashboard (Servers) into %s (or "
                      "SHOPKEEP_AGENT_STORE_SECRET / SHOPKEEP_AGENT_SERVER_SECRET); they may "
                      "have been rotated. Polling stopped until %s changes.", exc.status,
                      where, where)
        watched = self.config.watched
        if not watched or self.reload is None:
            log.error("no config file to watch: fix the environment and restart the agent")
            await self._sleep(float("inf"))
        before = fingerprint(watched)
        while True:
            await self._sleep(2)
            now = fingerprint(watched)
            if now == before:
                continue
            before = now
            try:
                config = self.reload()
            except ConfigError as err:
                log.error("config changed but cannot be used: %s", err)
                continue
            self._apply(config)
            log.info("config changed; resuming")
            return

    def _apply(self, config: Config) -> None:
        if config.game != self.config.game:
            old = self.adapter
            self.adapter = self.adapter_factory(config.game)
            self.runner.adapter = self.adapter
            self._closing = asyncio.ensure_future(old.close())
        self.config = config
        self.client = self._client(config)
        self.reporter.client = self.client
        self.etag = None
        self.heartbeat_due = 0.0

    # -- waiting -----------------------------------------------------------------------
    async def _interruptible(self, awaitable: Any) -> Any:
        assert self.stop_event is not None
        task = asyncio.ensure_future(awaitable)
        stopper = asyncio.ensure_future(self.stop_event.wait())
        try:
            await asyncio.wait({task, stopper}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopper.cancel()
        if not task.done():
            task.cancel()
            raise Stopping()
        return task.result()

    async def _sleep(self, seconds: float) -> None:
        assert self.stop_event is not None
        try:
            await asyncio.wait_for(self.stop_event.wait(),
                                   timeout=None if seconds == float("inf") else seconds)
        except asyncio.TimeoutError:
            return
        raise Stopping()


def _older(mine: str, latest: str) -> bool:
    def parse(text: str) -> tuple[int, ...] | None:
        parts = text.split(".")[:3]
        return tuple(int(p) for p in parts) if all(p.isdigit() for p in parts) else None

    a, b = parse(mine), parse(latest)
    return a is not None and b is not None and a < b


def _version() -> str:
    from . import __version__

    return __version__
