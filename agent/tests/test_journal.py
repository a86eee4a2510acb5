from __future__ import annotations

import sqlite3
import subprocess
import sys

import pytest
from shopkeep_agent.journal import (
    CRASHED,
    RECONFIRM,
    REPORT,
    RUN,
    WAIT,
    Journal,
    JournalLocked,
)


@pytest.fixture
def journal(tmp_path):
    j = Journal(str(tmp_path / "journal.sqlite3"))
    yield j
    j.close()


def _start(journal, cid=1, attempt=1):
    return journal.start(command_id=cid, attempt=attempt, type="purchase", player="Steve",
                         command=f"give Steve diamond #{cid}")


def test_a_new_command_may_run_and_start_is_durable_before_returning(journal, tmp_path):
    assert journal.decide(1, 1) == RUN
    assert _start(journal)
    # A second connection (another process would see the same) finds the started row.
    other = sqlite3.connect(str(tmp_path / "journal.sqlite3"))
    assert other.execute("SELECT state FROM executions").fetchall() == [("started",)]


def test_the_same_attempt_is_never_started_twice(journal):
    assert _start(journal)
    journal.finish(command_id=1, attempt=1, ok=True, output="done")
    assert journal.decide(1, 1) == REPORT
    assert not _start(journal)
    assert len(journal.entries_for(1)) == 1


def test_a_started_command_is_refused_even_before_it_has_a_result(journal):
    assert _start(journal)
    assert not _start(journal)
    assert not _start(journal, attempt=2)


def test_a_command_that_ran_is_reconfirmed_not_run_for_a_later_attempt(journal):
    _start(journal)
    journal.finish(command_id=1, attempt=1, ok=True, output="done")
    journal.mark_reported(command_id=1, attempt=1, answer="completed")
    assert journal.decide(1, 2) == RECONFIRM
    assert not _start(journal, attempt=2)


def test_a_later_attempt_runs_only_after_the_failure_was_acknowledged(journal):
    _start(journal)
    journal.finish(command_id=1, attempt=1, ok=False, error="boom", error_code="COMMAND_FAILED",
                   retryable=True)
    assert journal.decide(1, 2) == WAIT
    assert not _start(journal, attempt=2)
    journal.mark_reported(command_id=1, attempt=1, answer="retrying")
    assert journal.decide(1, 2) == RUN
    assert _start(journal, attempt=2)


def test_recover_turns_started_rows_into_non_retryable_crash_failures(tmp_path):
    path = str(tmp_path / "j.sqlite3")
    first = Journal(path)
    _start(first, cid=5)
    _start(first, cid=6)
    first.finish(command_id=6, attempt=1, ok=True, output="ok")
    first.close()

    second = Journal(path)
    rerun, crashed = second.recover_crashed()
    assert rerun == []
    assert [e.command_id for e in crashed] == [5]
    (row,) = [e for e in second.unreported() if e.command_id == 5]
    assert (row.outcome, row.error_code, row.retryable) == ("fail", CRASHED, False)
    assert second.decide(5, 1) == REPORT
    assert not _start(second, cid=5)
    assert second.recover_crashed() == ([], [])
    second.close()


def test_unreported_lists_results_until_marked(journal):
    _start(journal, cid=1)
    journal.finish(command_id=1, attempt=1, ok=True, output="ok")
    _start(journal, cid=2)  # in flight: not a result yet
    assert [e.command_id for e in journal.unreported()] == [1]
    journal.mark_reported(command_id=1, attempt=1, answer="completed")
    assert journal.unreported() == []
    assert journal.entries_for(1)[0].report_answer == "completed"


def test_record_stores_a_result_without_a_started_row_and_refuses_duplicates(journal):
    assert journal.record(command_id=9, attempt=1, type="purchase", player="x", command="t",
                          ok=False, error="refused", error_code="UNSAFE_PLACEHOLDER")
    assert not journal.record(command_id=9, attempt=1, type="purchase", player="x",
                              command="t", ok=True)
    (entry,) = journal.entries_for(9)
    assert (entry.state, entry.outcome, entry.error_code) == ("finished", "fail",
                                                              "UNSAFE_PLACEHOLDER")


def test_instance_id_is_created_once_and_survives_reopening(tmp_path):
    path = str(tmp_path / "j.sqlite3")
    first = Journal(path)
    instance = first.instance_id()
    assert instance == first.instance_id()
    first.close()
    second = Journal(path)
    assert second.instance_id() == instance
    second.close()
    assert 1 <= len(instance) <= 64


def test_a_second_process_cannot_open_the_same_journal(tmp_path):
    path = str(tmp_path / "j.sqlite3")
    held = Journal(path)
    code = (f"from shopkeep_agent.journal import Journal, JournalLocked\n"
            f"try:\n    Journal({path!r})\nexcept JournalLocked:\n    raise SystemExit(7)\n")
    result = subprocess.run([sys.executable, "-c", code], timeout=30)  # noqa: S603
    assert result.returncode == 7
    with pytest.raises(JournalLocked):
        Journal(path)
    held.close()
    Journal(path).close()  # released with its holder


def test_output_is_kept_to_the_platforms_limit(journal):
    _start(journal)
    journal.finish(command_id=1, attempt=1, ok=True, output="x" * 10000)
    assert len(journal.entries_for(1)[0].output) == 4000


def test_counts_summarise_outcomes_crashes_and_what_is_unreported(journal):
    _start(journal, cid=1)
    journal.finish(command_id=1, attempt=1, ok=True, output="ok")
    journal.mark_reported(command_id=1, attempt=1, answer="completed")
    _start(journal, cid=2)
    journal.finish(command_id=2, attempt=1, ok=False, error="x", error_code="COMMAND_FAILED")
    _start(journal, cid=3)
    journal.recover_crashed()
    assert journal.counts() == {"total": 3, "confirmed": 1, "failed": 2, "unreported": 2,
                                "crashed": 1, "rerun_after_crash": 0}


def test_a_crashed_safe_command_runs_again_with_the_same_attempt(tmp_path):
    path = str(tmp_path / "j.sqlite3")
    first = Journal(path)
    assert first.start(command_id=7, attempt=1, type="purchase", player="Steve",
                       command="lp user Steve parent add vip", safe_to_repeat=True)
    first.close()  # the agent died here: "started", no result

    second = Journal(path)
    rerun, crashed = second.recover_crashed()
    assert ([e.command_id for e in rerun], crashed) == ([7], [])
    assert second.unreported() == []  # nothing to report: it has not run to an end yet
    assert second.decide(7, 1) == RUN
    assert second.start(command_id=7, attempt=1, type="purchase", player="Steve",
                        command="lp user Steve parent add vip", safe_to_repeat=True)
    second.finish(command_id=7, attempt=1, ok=True, output="ok")
    assert second.counts()["rerun_after_crash"] == 1
    second.close()


def test_a_safe_command_that_keeps_crashing_the_agent_is_reported_after_three_reruns(tmp_path):
    path = str(tmp_path / "j.sqlite3")
    for _ in range(4):  # the first run, then three reruns, each killed mid-execution
        journal = Journal(path)
        journal.recover_crashed()
        assert journal.start(command_id=8, attempt=1, type="purchase", player="", command="x",
                             safe_to_repeat=True)
        journal.close()
    journal = Journal(path)
    rerun, crashed = journal.recover_crashed()
    assert (rerun, [e.command_id for e in crashed]) == ([], [8])
    assert journal.decide(8, 1) == REPORT
    journal.close()


def test_an_old_journal_without_the_safe_column_is_upgraded(tmp_path):
    path = str(tmp_path / "old.sqlite3")
    db = sqlite3.connect(path)
    db.executescript("""CREATE TABLE executions (command_id INTEGER NOT NULL, attempt INTEGER NOT
        NULL, type TEXT NOT NULL, player TEXT NOT NULL DEFAULT '', command TEXT NOT NULL,
        state TEXT NOT NULL, outcome TEXT, output TEXT NOT NULL DEFAULT '', error TEXT NOT NULL
        DEFAULT '', error_code TEXT NOT NULL DEFAULT '', retryable INTEGER NOT NULL DEFAULT 0,
        started_at TEXT NOT NULL, finished_at TEXT, reported_at TEXT, report_answer TEXT NOT
        NULL DEFAULT '', PRIMARY KEY (command_id, attempt));
        INSERT INTO executions (command_id, attempt, type, command, state, started_at)
        VALUES (3, 1, 'purchase', 'give x', 'started', '2026-01-01T00:00:00.000000Z');""")
    db.commit()
    db.close()
    journal = Journal(path)
    rerun, crashed = journal.recover_crashed()
    assert (rerun, [e.command_id for e in crashed]) == ([], [3])  # unknown means not safe
    journal.close()
