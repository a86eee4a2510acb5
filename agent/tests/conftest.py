from __future__ import annotations

import asyncio
import threading
import time
from typing import Any, Callable

import pytest
from fakeplatform import SERVER, STORE, FakePlatform
from shopkeep_agent.adapters.base import Adapter, AdapterError, Player, Result
from shopkeep_agent.config import Config
from shopkeep_agent.journal import Journal
from shopkeep_agent.loop import Agent


class Game(Adapter):
    """An in-process game for loop tests: records what it runs, answers like a console, and
    can be made unreachable or to drop the connection mid-command."""

    name = "test"
    separators = ";\n\r"

    def __init__(self) -> None:
        self.executed: list[str] = []
        self.online: set[str] = set()
        self.down = False
        self.drop_in_flight = False
        self.during_execute: Callable[[str], None] | None = None
        self.online_checks = 0

    async def connect(self) -> None:
        if self.down:
            raise AdapterError("connection refused")

    async def close(self) -> None:
        pass

    async def execute(self, command: str) -> Result:
        await self.connect()
        if self.drop_in_flight:
            self.executed.append(command)
            raise AdapterError("connection reset", command_sent=True)
        if self.during_execute:
            self.during_execute(command)
        await asyncio.sleep(0)
        self.executed.append(command)
        if command.startswith("bogus"):
            return Result(ok=False, output="Unknown command. Type \"/help\" for help.",
                          error_code="UNKNOWN_COMMAND")
        return Result(ok=True, output=f"done: {command}")

    async def players(self) -> list[Player]:
        await self.connect()
        return [Player(name=n) for n in sorted(self.online)]

    async def is_online(self, player: Player) -> bool:
        self.online_checks += 1
        return await super().is_online(player)


def wait_until(predicate: Callable[[], Any], timeout: float = 15.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError("condition not reached in time")


class Running:
    """An Agent on its own thread and event loop, stopped like SIGTERM stops it."""

    def __init__(self, agent: Agent) -> None:
        self.agent = agent
        self.loop: asyncio.AbstractEventLoop | None = None
        self.exit_code: int | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        async def main() -> int:
            self.loop = asyncio.get_running_loop()
            return await self.agent.run()

        self.exit_code = asyncio.run(main())

    def start(self) -> Running:
        self.thread.start()
        wait_until(lambda: self.agent.stop_event is not None)
        return self

    def stop(self, timeout: float = 20) -> int | None:
        if self.loop is not None and self.thread.is_alive():
            self.loop.call_soon_threadsafe(self.agent.request_stop)
        self.thread.join(timeout)
        assert not self.thread.is_alive(), "agent did not stop"
        return self.exit_code


@pytest.fixture
def platform():
    fake = FakePlatform().start()
    yield fake
    fake.stop()


@pytest.fixture
def game():
    return Game()


@pytest.fixture
def make_config(platform, tmp_path):
    def make(**overrides: Any) -> Config:
        values: dict[str, Any] = dict(
            url=platform.url, store_secret=STORE, server_secret=SERVER, poll_seconds=5,
            online_check_seconds=1, game={"type": "test"},
            journal_path=str(tmp_path / "journal.sqlite3"))
        values.update(overrides)
        return Config(**values)

    return make


@pytest.fixture
def start_agent(make_config, game):
    running: list[Running] = []

    def start(config: Config | None = None, on_agent: Callable[[Agent], None] | None = None,
              **kwargs: Any) -> Running:
        config = config or make_config()
        journal = Journal(config.journal_path)
        agent = Agent(config, journal=journal, adapter_factory=lambda settings: game, **kwargs)
        if on_agent:
            on_agent(agent)
        run = Running(agent).start()
        run.journal = journal  # type: ignore[attr-defined]
        running.append(run)
        return run

    yield start
    for run in running:
        if run.thread.is_alive():
            run.stop()
        run.journal.close()  # type: ignore[attr-defined]
