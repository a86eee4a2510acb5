"""The journal: a local SQLite file that makes every command run at most once on this server.

One row per (command id, attempt). The agent writes the row as "started" and commits it
with a full fsync *before* sending the command to the game, and writes the result after.
From that it follows:

- A row "started" with no result means the agent died mid-execution: whether the game ran
  the command is unknown. A command the owner marked safe to run again (running it twice
  has the effect of running it once) is run again: the row is moved to ``recoveries`` and
  the same attempt may start afresh, an exactly-once effect (at most ``MAX_RERUNS`` times,
  so a command that itself kills the agent cannot loop). Any other is never run again
  automatically: it is reported failed, ``AGENT_CRASHED_DURING_EXECUTION``, and waits for
  the owner's review on the platform (``needs_review``).
- Results are reported to the platform from the journal until the platform acknowledges
  them, so a crash between executing and reporting loses nothing.
- A command id the journal has seen is never started again for the same attempt, nor after
  it ran successfully. A later attempt (the platform re-queued it after a reported failure,
  e.g. the owner's deliberate retry) may run.

The file also keeps the agent's instance id (``X-Agent-Instance``) so a restarted agent is
the same instance to the platform's one-agent-per-server rule.
"""

from __future__ import annotations

import os
import secrets
import sqlite3
from dataclasses import dataclass
from datetime import datetime, timezone

CRASHED = "AGENT_CRASHED_DURING_EXECUTION"
OUTCOME_UNKNOWN = "OUTCOME_UNKNOWN"  # the connection broke after the command was sent
MAX_RERUNS = 3
OUTPUT_LIMIT = 4000  # the platform keeps up to 4 KB of output

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS executions (
    command_id INTEGER NOT NULL,
    attempt INTEGER NOT NULL,
    type TEXT NOT NULL,
    player TEXT NOT NULL DEFAULT '',
    command TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('started', 'finished')),
    outcome TEXT CHECK (outcome IN ('confirm', 'fail')),
    output TEXT NOT NULL DEFAULT '',
    error TEXT NOT NULL DEFAULT '',
    error_code TEXT NOT NULL DEFAULT '',
    retryable INTEGER NOT NULL DEFAULT 0,
    started_at TEXT NOT NULL,
    finished_at TEXT,
    reported_at TEXT,
    report_answer TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (command_id, attempt)
);
CREATE INDEX IF NOT EXISTS executions_unreported
    ON executions (state, reported_at) WHERE reported_at IS NULL;
CREATE TABLE IF NOT EXISTS recoveries (
    command_id INTEGER NOT NULL,
    attempt INTEGER NOT NULL,
    command TEXT NOT NULL,
    started_at TEXT NOT NULL,
    recovered_at TEXT NOT NULL
);
"""


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class JournalLocked(Exception):
    """Another agent process already uses this journal."""


@dataclass(frozen=True)
class Entry:
    command_id: int
    attempt: int
    type: str
    player: str
    command: str
    state: str
    outcome: str | None
    output: str
    error: str
    error_code: str
    retryable: bool
    started_at: str
    finished_at: str | None
    reported_at: str | None
    report_answer: str
    safe_to_repeat: bool = False


# What to do with a command the platform lists, given what the journal knows.
RUN = "run"            # never seen (or only earlier attempts that were reported failed)
REPORT = "report"      # this attempt has a result or crash row: report it, run nothing
RECONFIRM = "reconfirm"  # it already ran successfully here: confirm again, run nothing
WAIT = "wait"          # an earlier result is not acknowledged yet: report that first


class Journal:
    def __init__(self, path: str, *, lock: bool = True) -> None:
        self.path = path
        folder = os.path.dirname(os.path.abspath(path))
        os.makedirs(folder, exist_ok=True)
        self._lock_file = None
        if lock:
            self._lock_file = _acquire_lock(path + ".lock")
        # check_same_thread=False: the agent uses the journal from one thread at a time, but
        # tests and embedders may create it on another thread than the loop's.
        self.db = sqlite3.connect(path, isolation_level=None, timeout=10,
                                  check_same_thread=False)
        self.db.row_factory = sqlite3.Row
        # WAL + synchronous=FULL: every COMMIT is fsynced to the WAL before it returns, so a
        # "started" row survives a power cut that happens while the game runs the command.
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=FULL")
        self.db.executescript(_SCHEMA)
        columns = {r["name"] for r in self.db.execute("PRAGMA table_info(executions)")}
        if "safe_to_repeat" not in columns:  # a journal written by an agent before 1.1
            self.db.execute("ALTER TABLE executions ADD COLUMN safe_to_repeat INTEGER NOT NULL "
                            "DEFAULT 0")

    def close(self) -> None:
        self.db.close()
        if self._lock_file is not None:
            self._lock_file.close()
            self._lock_file = None

    # -- instance id -------------------------------------------------------------------
    def instance_id(self) -> str:
        row = self.db.execute("SELECT value FROM meta WHERE key = 'instance_id'").fetchone()
        if row:
            return row["value"]
        value = "ska-" + secrets.token_hex(12)
        self.db.execute("INSERT OR IGNORE INTO meta (key, value) VALUES ('instance_id', ?)",
                        (value,))
        return self.db.execute(
            "SELECT value FROM meta WHERE key = 'instance_id'").fetchone()["value"]

    # -- decisions ---------------------------------------------------------------------
    def decide(self, command_id: int, attempt: int) -> str:
        rows = self.entries_for(command_id)
        if not rows:
            return RUN
        if any(r.attempt >= attempt for r in rows):
            return REPORT
        if any(r.state == "started" or r.reported_at is None for r in rows):
            return WAIT
        if any(r.outcome == "confirm" for r in rows):
            return RECONFIRM
        return RUN

    def entries_for(self, command_id: int) -> list[Entry]:
        cur = self.db.execute(
            "SELECT * FROM executions WHERE command_id = ? ORDER BY attempt", (command_id,))
        return [_entry(r) for r in cur.fetchall()]

    # -- writes ------------------------------------------------------------------------
    def start(self, *, command_id: int, attempt: int, type: str, player: str,
              command: str, safe_to_repeat: bool = False) -> bool:
        """Record "started" durably. False (and nothing written) when the journal refuses:
        the same attempt was seen, or an earlier one ran or is not settled."""
        self.db.execute("BEGIN IMMEDIATE")
        try:
            if self.decide(command_id, attempt) != RUN:
                self.db.execute("ROLLBACK")
                return False
            self.db.execute(
                "INSERT INTO executions (command_id, attempt, type, player, command, state, "
                "started_at, safe_to_repeat) VALUES (?, ?, ?, ?, ?, 'started', ?, ?)",
                (command_id, attempt, type, player, command, _now(), int(safe_to_repeat)))
            self.db.execute("COMMIT")
        except BaseException:
            if self.db.in_transaction:
                self.db.execute("ROLLBACK")
            raise
        return True

    def finish(self, *, command_id: int, attempt: int, ok: bool, output: str = "",
               error: str = "", error_code: str = "", retryable: bool = False) -> None:
        self.db.execute(
            "UPDATE executions SET state = 'finished', outcome = ?, output = ?, error = ?, "
            "error_code = ?, retryable = ?, finished_at = ? "
            "WHERE command_id = ? AND attempt = ? AND state = 'started'",
            ("confirm" if ok else "fail", output[:OUTPUT_LIMIT], error[:1000], error_code,
             int(retryable), _now(), command_id, attempt))

    def record(self, *, command_id: int, attempt: int, type: str, player: str, command: str,
               ok: bool, output: str = "", error: str = "", error_code: str = "",
               retryable: bool = False) -> bool:
        """A result for a command that was never sent to the game (refused placeholder,
        game unreachable before sending, already ran). False if the journal refuses."""
        now = _now()
        try:
            self.db.execute(
                "INSERT INTO executions (command_id, attempt, type, player, command, state, "
                "outcome, output, error, error_code, retryable, started_at, finished_at) "
                "VALUES (?, ?, ?, ?, ?, 'finished', ?, ?, ?, ?, ?, ?, ?)",
                (command_id, attempt, type, player, command, "confirm" if ok else "fail",
                 output[:OUTPUT_LIMIT], error[:1000], error_code, int(retryable), now, now))
        except sqlite3.IntegrityError:
            return False
        return True

    def recover_crashed(self) -> tuple[list[Entry], list[Entry]]:
        """Settle "started" rows without a result (run at start, before anything else; the
        lock guarantees no execution is in flight). Returns (to run again, reported failed):
        safe-to-repeat rows are moved to ``recoveries`` so the same attempt runs again; the
        others become failures with an unknown outcome for the owner to review."""
        rows = [_entry(r) for r in self.db.execute(
            "SELECT * FROM executions WHERE state = 'started'").fetchall()]
        rerun, crashed = [], []
        for row in rows:
            self.db.execute("BEGIN IMMEDIATE")
            try:
                if row.safe_to_repeat and self.reruns(row.command_id, row.attempt) < MAX_RERUNS:
                    self.db.execute(
                        "INSERT INTO recoveries (command_id, attempt, command, started_at, "
                        "recovered_at) VALUES (?, ?, ?, ?, ?)",
                        (row.command_id, row.attempt, row.command, row.started_at, _now()))
                    self.db.execute(
                        "DELETE FROM executions WHERE command_id = ? AND attempt = ? "
                        "AND state = 'started'", (row.command_id, row.attempt))
                    rerun.append(row)
                else:
                    self.db.execute(
                        "UPDATE executions SET state = 'finished', outcome = 'fail', error = ?, "
                        "error_code = ?, retryable = 0, finished_at = ? "
                        "WHERE command_id = ? AND attempt = ? AND state = 'started'",
                        ("The agent stopped while this command was being executed; it may or "
                         "may not have run in the game. Check the game, then mark it delivered "
                         "or run it again from the dashboard.", CRASHED, _now(),
                         row.command_id, row.attempt))
                    crashed.append(row)
                self.db.execute("COMMIT")
            except BaseException:
                if self.db.in_transaction:
                    self.db.execute("ROLLBACK")
                raise
        return rerun, crashed

    def reruns(self, command_id: int, attempt: int) -> int:
        return int(self.db.execute(
            "SELECT count(*) FROM recoveries WHERE command_id = ? AND attempt = ?",
            (command_id, attempt)).fetchone()[0])

    def unreported(self, limit: int = 500) -> list[Entry]:
        cur = self.db.execute(
            "SELECT * FROM executions WHERE state = 'finished' AND reported_at IS NULL "
            "ORDER BY finished_at, command_id LIMIT ?", (limit,))
        return [_entry(r) for r in cur.fetchall()]

    def mark_reported(self, *, command_id: int, attempt: int, answer: str) -> None:
        self.db.execute(
            "UPDATE executions SET reported_at = ?, report_answer = ? "
            "WHERE command_id = ? AND attempt = ? AND reported_at IS NULL",
            (_now(), answer[:200], command_id, attempt))

    def recent(self, limit: int = 20) -> list[Entry]:
        cur = self.db.execute(
            "SELECT * FROM executions ORDER BY started_at DESC, command_id DESC LIMIT ?",
            (limit,))
        return [_entry(r) for r in cur.fetchall()]

    def counts(self) -> dict:
        row = self.db.execute(
            "SELECT count(*) AS total, "
            "sum(outcome = 'confirm') AS confirmed, sum(outcome = 'fail') AS failed, "
            "sum(state = 'finished' AND reported_at IS NULL) AS unreported, "
            "sum(error_code = ?) AS crashed FROM executions", (CRASHED,)).fetchone()
        counts = {k: int(row[k] or 0) for k in row.keys()}  # noqa: SIM118 - a Row iterates values
        counts["rerun_after_crash"] = int(
            self.db.execute("SELECT count(*) FROM recoveries").fetchone()[0])
        return counts


def _entry(row: sqlite3.Row) -> Entry:
    data = dict(row)
    data["retryable"] = bool(data["retryable"])
    data["safe_to_repeat"] = bool(data.get("safe_to_repeat"))
    return Entry(**data)


def _acquire_lock(path: str):
    handle = open(path, "a+")  # noqa: SIM115 - held open for the process's lifetime
    try:
        if os.name == "nt":  # pragma: no cover
            import msvcrt

            msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)
        else:
            import fcntl

            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        handle.close()
        raise JournalLocked(
            f"another shopkeep-agent is already running with the journal {path[:-5]}") from None
    return handle
