"""Seed 001's two headers alone (no X-Agent-Instance): secrets first, commands leased per poll,
RFC 9110 If-None-Match (docs/agent-api.md)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from shopkeep.delivery.models import COMMAND_LEASE_SECONDS, DeliveryCommand, GameServer
from tests.commerce import paid_order
from tests.delivery.conftest import Agent, commands_of

Cmd = DeliveryCommand


class SeedClient:
    """A client that knows only X-Store-Secret and X-Server-Secret."""

    def __init__(self, agent: Agent) -> None:
        self.client = Client()
        self.base = {"X-Store-Secret": agent.store_secret,
                     "X-Server-Secret": agent.server_secret}

    def get(self, query: str = "", **headers: str):
        return self.client.get(f"/api/v1/agent/commands/pending{query}",
                               headers={**self.base, **headers})

    def post(self, path: str, body: dict, **headers: str):
        return self.client.post(f"/api/v1/agent/{path}", body, content_type="application/json",
                                headers={**self.base, **headers})


@pytest.fixture
def paid(world, django_capture_on_commit_callbacks):
    order = paid_order(world["store"], world["product"], capture=django_capture_on_commit_callbacks)
    (command,) = commands_of(order)
    return {**world, "order": order, "command": command}


def test_two_seed_headers_alone_receive_the_command_with_its_lease(paid):
    response = SeedClient(paid["agent"]).get()
    assert response.status_code == 200
    (cmd,) = response.json()["commands"]
    assert cmd["id"] == paid["command"].pk and cmd["attempt"] == 1
    assert cmd["lease"]["seconds"] == COMMAND_LEASE_SECONDS
    command = Cmd.objects.get(pk=cmd["id"])
    assert command.lease_owner.startswith("anon:")
    assert cmd["lease"]["expires_at"] == command.leased_until.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    # Nobody claimed the server: the one-agent rule is for identified agents.
    server = GameServer.objects.get(pk=paid["server"].pk)
    assert server.agent_instance == "" and server.anonymous_seen_at is not None


def test_seed_headers_alone_confirm_fail_and_heartbeat(paid, django_capture_on_commit_callbacks):
    seed = SeedClient(paid["agent"])
    (cmd,) = seed.get().json()["commands"]
    confirmed = seed.post(f"commands/{cmd['id']}/confirm", {"output": "ok"})
    assert confirmed.status_code == 200 and confirmed.json()["changed"] is True
    command = Cmd.objects.get(pk=cmd["id"])
    assert command.status == "completed" and command.lease_owner == ""
    assert command.leased_until is None and command.executed_by == ""
    second = paid_order(paid["store"], paid["product"], capture=django_capture_on_commit_callbacks)
    (other,) = commands_of(second)
    failed = seed.post(f"commands/{other.pk}/fail", {"error": "boom"})
    assert failed.status_code == 200 and failed.json()["status"] == "retrying"
    other.refresh_from_db()
    assert other.lease_owner == "" and other.leased_until is None
    beat = seed.post("heartbeat", {"agent_version": "0.1", "players": [{"name": "Steve"}]})
    assert beat.status_code == 200


def test_a_second_seed_poller_does_not_receive_a_leased_command(paid):
    first, second = SeedClient(paid["agent"]), SeedClient(paid["agent"])
    assert len(first.get().json()["commands"]) == 1
    assert second.get().json()["commands"] == []
    # The same poller asking again without reporting is a new poll: it too waits for the lease.
    assert first.get().json()["commands"] == []
    assert Cmd.objects.get(pk=paid["command"].pk).status == "pending"


def test_an_identified_agent_and_a_seed_poller_never_both_receive_a_command(paid):
    identified, seed = paid["agent"], SeedClient(paid["agent"])
    assert len(identified.pending().json()["commands"]) == 1
    assert seed.get().json()["commands"] == []
    # The identified agent keeps seeing what it holds (a command waiting for its player).
    assert len(identified.pending().json()["commands"]) == 1
    command = Cmd.objects.get(pk=paid["command"].pk)
    assert command.lease_owner == "agent-a"


def test_an_identified_agent_waits_for_a_seed_pollers_lease(paid):
    seed = SeedClient(paid["agent"])
    assert len(seed.get().json()["commands"]) == 1
    assert paid["agent"].pending().json()["commands"] == []


def test_an_expired_lease_hands_the_command_out_again_with_a_new_etag(paid):
    first, second = SeedClient(paid["agent"]), SeedClient(paid["agent"])
    assert len(first.get().json()["commands"]) == 1
    idle = second.get()
    assert idle.json()["commands"] == []
    etag = idle["ETag"]
    assert second.get(**{"If-None-Match": etag}).status_code == 304
    past = timezone.now() - timedelta(seconds=1)
    Cmd.objects.filter(pk=paid["command"].pk).update(leased_until=past)
    server = GameServer.objects.get(pk=paid["server"].pk)
    assert server.retry_due_at is not None  # the lease's end was recorded as a due moment
    GameServer.objects.filter(pk=server.pk).update(retry_due_at=past)
    again = second.get(**{"If-None-Match": etag})
    assert again.status_code == 200 and again["ETag"] != etag
    (cmd,) = again.json()["commands"]
    assert cmd["id"] == paid["command"].pk and cmd["attempt"] == 1


@pytest.mark.parametrize("instance", ["bad id;rm", "x" * 65])
@pytest.mark.parametrize("which", ["wrong_store", "wrong_server", "missing"])
def test_wrong_secrets_are_401_before_the_instance_is_checked(paid, which, instance):
    agent = paid["agent"].with_instance(instance)
    headers = {"wrong_store": {"X-Store-Secret": "sks_nope"},
               "wrong_server": {"X-Server-Secret": "srv_nope"},
               "missing": {"X-Server-Secret": ""}}[which]
    before = Cmd.objects.get(pk=paid["command"].pk).lease_owner
    response = agent.pending(**headers)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthenticated"
    assert Cmd.objects.get(pk=paid["command"].pk).lease_owner == before
    assert GameServer.objects.get(pk=paid["server"].pk).anonymous_seen_at is None


def test_wrong_secrets_are_401_even_when_the_server_is_rate_limited(paid, settings):
    settings.SHOPKEEP_AGENT_RATE_LIMIT = 1
    agent = paid["agent"]
    agent.pending()
    assert agent.pending().status_code == 429
    assert agent.pending(**{"X-Store-Secret": "sks_nope"}).status_code == 401


# -- If-None-Match (RFC 9110 13.1.2) -------------------------------------------------------------

@pytest.mark.parametrize("form", ["{e}", "W/{e}", '"other", {e}', 'W/"x",W/{e}', "*"])
def test_if_none_match_forms_that_match_are_304(paid, form):
    agent = paid["agent"]
    etag = agent.pending()["ETag"]
    response = agent.pending(**{"If-None-Match": form.format(e=etag)})
    assert response.status_code == 304 and response.content == b""
    assert response["ETag"] == etag


@pytest.mark.parametrize("form", ['"other"', 'W/"other", "q0-0-100"', "garbage"])
def test_if_none_match_forms_that_do_not_match_are_200(paid, form):
    response = paid["agent"].pending(**{"If-None-Match": form})
    assert response.status_code == 200 and len(response.json()["commands"]) == 1


def test_star_answers_at_once_even_with_wait(paid):
    import time

    started = time.monotonic()
    response = paid["agent"].pending("?wait=5", **{"If-None-Match": "*"})
    assert response.status_code == 304
    assert time.monotonic() - started < 2
