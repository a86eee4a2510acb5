"""Order-less commands under real concurrency (PostgreSQL): a confirm racing a fail, and two
pollers racing for the same test command, each change the command once."""

from __future__ import annotations

import pytest

from shopkeep.delivery import adhoc
from shopkeep.delivery import agent as agent_services
from shopkeep.delivery.models import DeliveryCommand, DeliveryLog
from shopkeep.stores.audit import Actor
from tests.commerce import make_shop
from tests.delivery.conftest import add_server
from tests.delivery.test_postgres import _race
from tests.factories import owner_of

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _test_command():
    store = make_shop()
    server, _, _ = add_server(store)
    command = adhoc.command_send_test(store=store, actor=Actor.for_user(owner_of(store)),
                                      server=server, command="list")
    return server, command


def test_confirm_racing_fail_on_a_test_command_changes_it_once():
    server, command = _test_command()

    def work(i: int):
        if i % 2:
            return agent_services.confirm(server=server, command_id=command.pk, output="ok",
                                          instance="a")
        return agent_services.fail(server=server, command_id=command.pk, error="boom",
                                   error_code="COMMAND_FAILED", retryable=False, instance="a")

    results, errors = _race(6, work)
    changed = [r for r in results if r.get("changed")]
    assert len(changed) == 1
    command.refresh_from_db()
    assert command.status in ("completed", "failed") and command.attempt_count == 1
    outcome_logs = DeliveryLog.objects.filter(command=command).exclude(kind="queued").count()
    assert outcome_logs == 1
    # The losers are answered like repeats or refused with a conflict, never half-applied.
    assert all(getattr(e, "status", None) == 409 for e in errors)


def test_two_pollers_never_both_receive_the_same_test_command():
    server, command = _test_command()
    results, errors = _race(8, lambda i: agent_services.due_commands(
        server_id=server.pk, limit=10, owner=f"instance-{i}")[0])
    assert not errors
    handed = [c["id"] for batch in results for c in batch]
    assert handed == [command.pk]
    assert DeliveryCommand.objects.get(pk=command.pk).lease_owner.startswith("instance-")
