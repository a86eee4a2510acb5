from __future__ import annotations

import time

from conftest import wait_until
from fakeplatform import STORE
from shopkeep_agent.config import load_config
from shopkeep_agent.journal import CRASHED, Journal


def _fails(platform, cid):
    return [body for kind, body in platform.commands[cid]["reports"] if kind == "fail"]


def test_a_queued_command_runs_once_and_is_confirmed(platform, game, start_agent):
    cid = platform.queue("give {player} diamond {quantity}", quantity="3")
    run = start_agent()
    wait_until(lambda: platform.status(cid) == "completed")
    assert game.executed == ["give Steve diamond 3"]
    assert platform.commands[cid]["reports"] == [("confirm", "done: give Steve diamond 3")]
    (entry,) = run.journal.entries_for(cid)
    assert (entry.outcome, entry.report_answer) == ("confirm", "completed")
    assert run.stop() == 0
    assert game.executed == ["give Steve diamond 3"]


def test_the_agent_long_polls_with_the_etag_and_picks_up_a_new_command(platform, game,
                                                                       start_agent):
    start_agent()
    wait_until(lambda: any("If-None-Match" in h for m, p, h in platform.requests
                           if "pending" in p))
    cid = platform.queue("say hi")
    wait_until(lambda: platform.status(cid) == "completed")
    polls = [p for m, p, h in platform.requests if "commands/pending" in p]
    assert all("wait=5" in p for p in polls)
    assert game.executed == ["say hi"]


def test_a_wait_for_online_command_waits_and_another_players_refund_runs_at_once(
        platform, game, start_agent):
    purchase = platform.queue("give {player} kit", require_online=True)
    start_agent()
    refund = platform.queue("lp user {player} parent remove vip", type="refund", player="Alex")
    wait_until(lambda: platform.status(refund) == "completed")
    # Several polls and online checks pass while Steve is away.
    wait_until(lambda: len(platform.paths("/api/v1/agent/commands/pending")) >= 4)
    assert platform.status(purchase) == "pending"
    assert game.executed == ["lp user Alex parent remove vip"]
    game.online.add("Steve")
    wait_until(lambda: platform.status(purchase) == "completed")
    assert game.executed == ["lp user Alex parent remove vip", "give Steve kit"]


def test_a_players_removal_never_overtakes_their_waiting_purchase(platform, game, start_agent):
    purchase = platform.queue("give {player} kit", require_online=True)
    removal = platform.queue("lp user {player} parent remove vip", type="refund")
    start_agent()
    wait_until(lambda: len(platform.paths("/api/v1/agent/commands/pending")) >= 3)
    assert (platform.status(purchase), platform.status(removal)) == ("pending", "pending")
    assert game.executed == []
    game.online.add("Steve")
    wait_until(lambda: platform.status(removal) == "completed")
    assert game.executed == ["give Steve kit", "lp user Steve parent remove vip"]


def test_a_players_later_command_waits_when_the_earlier_one_fails(platform, game, start_agent):
    first = platform.queue("bogus {player}")
    second = platform.queue("lp user {player} parent add vip")
    start_agent()
    wait_until(lambda: platform.status(second) == "completed")
    paths = platform.paths()
    failed_at = paths.index(f"/api/v1/agent/commands/{first}/fail")
    confirmed_at = next(i for i, p in enumerate(paths) if i > failed_at and p in (
        f"/api/v1/agent/commands/{second}/confirm", "/api/v1/agent/commands/confirm"))
    # Held back in the pass where the first failed: it ran only after a later poll.
    assert any(p.startswith("/api/v1/agent/commands/pending")
               for p in paths[failed_at:confirmed_at])
    assert game.executed == ["bogus Steve", "lp user Steve parent add vip"]


def test_delay_after_join_waits_after_the_player_appears(platform, game, start_agent):
    game.online.add("Steve")
    cid = platform.queue("give {player} kit", require_online=True, delay_after_join=2)
    started = time.monotonic()
    start_agent()
    wait_until(lambda: platform.status(cid) == "completed", timeout=15)
    assert time.monotonic() - started >= 2.0
    assert game.executed == ["give Steve kit"]


def test_online_is_checked_through_the_adapter_right_before_execution(platform, game,
                                                                      start_agent):
    game.online.add("steve")  # names compare case-insensitively
    cid = platform.queue("give {player} kit", require_online=True)
    start_agent()
    wait_until(lambda: platform.status(cid) == "completed")
    assert game.online_checks >= 1


def test_a_hostile_placeholder_never_reaches_the_game(platform, game, start_agent):
    cid = platform.queue("give {player} diamond", player="Steve;op Steve")
    newline = platform.queue("give {player} diamond", player="Steve\nop Steve")
    start_agent()
    wait_until(lambda: platform.status(cid) == "failed" and platform.status(newline) == "failed")
    assert game.executed == []
    for command_id in (cid, newline):
        (report,) = _fails(platform, command_id)
        assert report["error_code"] == "UNSAFE_PLACEHOLDER"
        assert report["retryable"] is False
        assert "op Steve" not in report["error"]


def test_a_game_error_is_reported_with_the_games_text(platform, game, start_agent):
    cid = platform.queue("bogus {player}")
    start_agent()
    wait_until(lambda: platform.status(cid) == "failed")
    (report,) = _fails(platform, cid)
    assert report["error_code"] == "UNKNOWN_COMMAND"
    assert report["error"].startswith("Unknown command.")
    assert report["retryable"] is False and report["attempt"] == 1
    assert game.executed == ["bogus Steve"]


def test_an_unreachable_game_is_a_retryable_failure_and_nothing_is_sent(platform, game,
                                                                         start_agent):
    game.down = True
    cid = platform.queue("say hi")
    platform.max_attempts = 2
    start_agent()
    wait_until(lambda: platform.status(cid) == "failed")
    reports = _fails(platform, cid)
    assert [r["attempt"] for r in reports] == [1, 2]
    assert all(r["retryable"] and r["error_code"] == "RCON_CONNECTION_FAILED" for r in reports)
    assert game.executed == []


def test_a_retryable_failure_runs_again_as_the_next_attempt(platform, game, start_agent):
    game.down = True
    platform.max_attempts = 10_000  # the fake re-queues at once, without the 30 s back-off
    cid = platform.queue("say hi")
    run = start_agent()
    wait_until(lambda: len(_fails(platform, cid)) >= 1)
    game.down = False
    wait_until(lambda: platform.status(cid) == "completed")
    assert game.executed == ["say hi"]
    assert [e.outcome for e in run.journal.entries_for(cid)][-1] == "confirm"


def test_a_connection_lost_in_flight_is_never_retried(platform, game, start_agent):
    game.drop_in_flight = True
    cid = platform.queue("say hi")
    start_agent()
    wait_until(lambda: platform.status(cid) == "failed")
    (report,) = _fails(platform, cid)
    assert (report["retryable"], report["error_code"]) == (False, "OUTCOME_UNKNOWN")
    assert game.executed == ["say hi"]


def test_a_safe_command_lost_in_flight_is_reported_retryable(platform, game, start_agent):
    game.drop_in_flight = True
    cid = platform.queue("lp user {player} parent add vip", safe_to_repeat=True)
    start_agent()
    wait_until(lambda: _fails(platform, cid))
    (report, *_) = _fails(platform, cid)
    assert (report["retryable"], report["error_code"]) == (True, "OUTCOME_UNKNOWN")


def test_after_a_crash_a_safe_command_runs_again_and_an_unsafe_one_is_reported(
        platform, game, make_config, start_agent):
    from shopkeep_agent.journal import Journal

    config = make_config()
    safe = platform.queue("lp user {player} parent add vip", safe_to_repeat=True)
    unsafe = platform.queue("give {player} diamond 1", player="Alex")
    journal = Journal(config.journal_path)  # what a killed agent left behind
    for cid, text, flag in ((safe, "lp user Steve parent add vip", True),
                            (unsafe, "give Alex diamond 1", False)):
        assert journal.start(command_id=cid, attempt=1, type="purchase", player="",
                             command=text, safe_to_repeat=flag)
    journal.close()
    start_agent(config)
    wait_until(lambda: platform.status(safe) == "completed"
               and platform.status(unsafe) != "pending")
    assert game.executed == ["lp user Steve parent add vip"]
    (report,) = _fails(platform, unsafe)
    assert report["error_code"] == "AGENT_CRASHED_DURING_EXECUTION"


def test_transient_errors_back_off_and_the_agent_recovers(platform, game, start_agent):
    platform.inject(500, times=2)
    platform.inject(429, headers={"Retry-After": "1"}, body={"code": "rate_limited"})
    cid = platform.queue("say hi")
    start_agent()
    wait_until(lambda: platform.status(cid) == "completed", timeout=30)
    assert game.executed == ["say hi"]
    assert platform.injected == []


def test_a_refused_secret_stops_polling_until_the_config_file_changes(platform, game,
                                                                      start_agent, tmp_path,
                                                                      caplog):
    config_file = tmp_path / "agent.toml"
    text = (f'[platform]\nurl = "{platform.url}"\nstore_secret = "sks_wrong"\n'
            f'server_secret = "srv_test_server"\npoll_seconds = 5\n[game]\ntype = "test"\n')
    config_file.write_text(text)
    config = load_config(str(config_file), environ={})
    cid = platform.queue("say hi")
    start_agent(config, reload=lambda: load_config(str(config_file), environ={}))
    wait_until(lambda: platform.paths())
    time.sleep(2.5)
    requests = len(platform.requests)
    time.sleep(2.5)
    assert len(platform.requests) == requests  # not hammering
    assert game.executed == []
    refused = [r for r in caplog.records if "refused the store/server secrets" in r.message]
    assert len(refused) == 1 and str(config_file) in refused[0].message
    config_file.write_text(text.replace("sks_wrong", STORE))
    wait_until(lambda: platform.status(cid) == "completed")
    assert game.executed == ["say hi"]


def test_a_second_agent_instance_executes_nothing(platform, game, start_agent):
    platform.holder, platform.holder_seen = "someone-else", time.monotonic()
    cid = platform.queue("say hi")
    start_agent()
    wait_until(lambda: len([p for _, p, h in platform.requests
                            if h.get("X-Agent-Instance") != "someone-else"]) >= 2)
    assert game.executed == []
    assert platform.status(cid) == "pending"
    platform.holder = None  # the owner pressed "Release agent"
    wait_until(lambda: platform.status(cid) == "completed")
    assert game.executed == ["say hi"]


def test_a_crash_mid_execution_is_reported_and_never_run_again(platform, game, start_agent,
                                                               make_config):
    config = make_config()
    cid = platform.queue("give {player} diamond")
    journal = Journal(config.journal_path)
    journal.start(command_id=cid, attempt=1, type="purchase", player="Steve",
                  command="give Steve diamond")
    journal.close()  # the process died here, mid-execution
    start_agent(config)
    wait_until(lambda: platform.status(cid) == "failed")
    (report,) = _fails(platform, cid)
    assert (report["error_code"], report["retryable"], report["attempt"]) == (CRASHED, False, 1)
    assert game.executed == []


def test_results_not_reported_before_a_restart_are_reported_after_it(platform, game,
                                                                      start_agent, make_config):
    config = make_config()
    cid = platform.queue("give {player} diamond")
    journal = Journal(config.journal_path)
    journal.start(command_id=cid, attempt=1, type="purchase", player="Steve",
                  command="give Steve diamond")
    journal.finish(command_id=cid, attempt=1, ok=True, output="Gave 1 diamond")
    journal.close()
    start_agent(config)
    wait_until(lambda: platform.status(cid) == "completed")
    assert platform.commands[cid]["reports"] == [("confirm", "Gave 1 diamond")]
    assert game.executed == []


def test_a_command_that_already_ran_is_confirmed_again_not_rerun(platform, game, start_agent,
                                                                  make_config):
    config = make_config()
    cid = platform.queue("say hi")
    platform.commands[cid]["attempt_count"] = 1  # the platform re-queued it as attempt 2
    journal = Journal(config.journal_path)
    journal.start(command_id=cid, attempt=1, type="purchase", player="", command="say hi")
    journal.finish(command_id=cid, attempt=1, ok=True, output="said")
    journal.mark_reported(command_id=cid, attempt=1, answer="completed")
    journal.close()
    start_agent(config)
    wait_until(lambda: platform.status(cid) == "completed")
    assert game.executed == []
    assert "Already executed" in platform.commands[cid]["reports"][0][1]


def test_stop_finishes_the_command_in_hand_reports_it_and_runs_no_more(platform, game,
                                                                       start_agent):
    first = platform.queue("say one")
    second = platform.queue("say two")
    # The stop request arrives while the game is running the first command.
    run = start_agent(on_agent=lambda agent: setattr(
        game, "during_execute", lambda command: agent.request_stop()))
    run.thread.join(20)
    assert run.exit_code == 0
    assert game.executed == ["say one"]
    assert platform.status(first) == "completed"
    assert platform.status(second) == "pending"


def test_heartbeat_carries_the_instance_and_online_players(platform, game, start_agent):
    game.online.update({"Alex", "Steve"})
    run = start_agent()
    wait_until(lambda: platform.heartbeats)
    beat = platform.heartbeats[0]
    assert beat["instance_id"] == run.agent.instance_id
    assert sorted(p["name"] for p in beat["players"]) == ["Alex", "Steve"]
    headers = platform.requests[-1][2]
    assert headers["X-Agent-Instance"] == run.agent.instance_id


def test_retry_after_is_honoured_before_the_next_request(platform, game, start_agent):
    platform.inject(429, headers={"Retry-After": "2"}, body={"code": "rate_limited"})
    cid = platform.queue("say hi")
    start_agent()
    wait_until(lambda: platform.status(cid) == "completed")
    first, second = platform.request_times[:2]
    assert second - first >= 2.0


def test_without_long_poll_the_agent_polls_once_per_interval(platform, game, start_agent,
                                                              make_config):
    platform.next_poll_seconds = 5  # the platform may only slow agents down (max of both)
    start_agent(make_config(long_poll=False))
    wait_until(lambda: platform.paths("/api/v1/agent/commands/pending"))
    time.sleep(2)
    polls = platform.paths("/api/v1/agent/commands/pending")
    assert len(polls) == 1 and "wait=" not in polls[0]
    cid = platform.queue("say hi")
    wait_until(lambda: platform.status(cid) == "completed")  # at the next poll, 5 s later
    assert game.executed == ["say hi"]


def test_the_platform_can_slow_polling_down_with_next_poll_seconds(platform, game,
                                                                    start_agent, make_config):
    platform.next_poll_seconds = 60
    start_agent(make_config(long_poll=False, poll_seconds=5))
    wait_until(lambda: platform.paths("/api/v1/agent/commands/pending"))
    time.sleep(6)  # past the agent's own 5 s interval
    assert len(platform.paths("/api/v1/agent/commands/pending")) == 1


def test_a_hostile_name_cannot_forge_log_lines(platform, game, start_agent, caplog):
    cid = platform.queue("say hello", player="Steve\n2025-01-01 INFO ran #1 forged")
    run = start_agent()
    wait_until(lambda: platform.status(cid) == "completed")
    assert game.executed == ["say hello"]  # {player} is not in the command: nothing unsafe
    assert all("\n" not in r.getMessage() for r in caplog.records)
    assert run.journal.entries_for(cid)[0].player == "Steve?2025-01-01 INFO ran #1 forged"
