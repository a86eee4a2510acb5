"""The audit log reads as sentences; times are the store's, with the zone named."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace

import pytest

from shopkeep.dashboard.templatetags.cockpit import audit_sentence, store_time
from tests.factories import make_store, owner_of

pytestmark = pytest.mark.django_db


def _row(action, details, object_id="12", actor="ann@example.com"):
    return SimpleNamespace(action=action, details=details, object_id=object_id,
                           actor_label=actor)


def test_an_update_with_old_and_new_values_reads_as_a_sentence():
    row = _row("product.updated", {"name": {"old": "VIP", "new": "VIP+"}, "is_active": False})
    assert audit_sentence(row) == ("ann@example.com updated product 12: name from “VIP” to "
                                   "“VIP+”; is active off.")


def test_named_actions_get_their_own_verb_and_long_values_are_cut():
    row = _row("server.secret_rotated", {"note": "x" * 200}, object_id="3")
    sentence = audit_sentence(row)
    assert sentence.startswith("ann@example.com rotated the secret of server 3: note “xxx")
    assert "…”" in sentence and len(sentence) < 160


def test_times_are_shown_in_the_store_zone_with_its_name():
    store = make_store(slug="new-york")
    store.time_zone = "America/New_York"
    moment = datetime(2025, 1, 20, 14, 30, tzinfo=UTC)
    assert store_time(moment, store) == "2025-01-20 09:30 EST"
    store.time_zone = "Europe/Berlin"
    assert store_time(datetime(2025, 7, 1, 12, 0, tzinfo=UTC), store) == "2025-07-01 14:00 CEST"


def test_the_audit_page_shows_sentences_not_dicts(client):
    store = make_store(slug="shop")
    client.force_login(owner_of(store))
    client.post("/dashboard/shop/settings/", {"name": "Renamed Shop", "currency": "USD",
                                              "time_zone": "UTC", "game": "minecraft"})
    html = client.get("/dashboard/shop/settings/audit/").content.decode()
    assert 'data-testid="audit-sentence"' in html
    assert "{&#x27;" not in html and "{'" not in html
    assert "created store" in html


# -- human times and durations -------------------------------------------------------------

def test_when_says_how_long_ago_with_the_exact_local_time_in_the_title(settings):
    from datetime import timedelta

    from django.utils import timezone

    from shopkeep.dashboard.templatetags.cockpit import when

    store = SimpleNamespace(time_zone="America/New_York")
    html = str(when(timezone.now() - timedelta(minutes=3, seconds=5), store))
    assert ">3 minutes ago</time>" in html
    assert html.split('title="')[1].split('"')[0].endswith((" EST", " EDT"))
    assert ">in 2 days</time>" in str(when(timezone.now() + timedelta(days=2, minutes=1),
                                           store))
    assert ">just now</time>" in str(when(timezone.now(), store))
    assert when(None, store) == "—"


def test_when_escapes_nothing_it_should_not_and_is_markup_safe():
    from django.utils import timezone
    from django.utils.safestring import SafeString

    from shopkeep.dashboard.templatetags.cockpit import when

    assert isinstance(when(timezone.now(), SimpleNamespace(time_zone="UTC")), SafeString)


def test_a_zone_removed_from_tzdata_falls_back_to_utc():
    from shopkeep.dashboard.templatetags.cockpit import store_time_seconds

    moment = datetime(2025, 1, 20, 14, 30, 5, tzinfo=UTC)
    assert store_time_seconds(moment, SimpleNamespace(time_zone="Mars/Olympus")) == (
        "2025-01-20 14:30:05 UTC")


@pytest.mark.parametrize("seconds,words", [(0, "0 seconds"), (1, "1 second"), (59, "59 seconds"),
                                           (60, "1 minute"), (125, "2 minutes 5 seconds"),
                                           (3600 * 3, "3 hours"),
                                           (86400 * 2 + 3600 * 4 + 60, "2 days 4 hours"),
                                           (None, "—")])
def test_durations_in_words(seconds, words):
    from shopkeep.dashboard.templatetags.cockpit import duration

    assert duration(seconds) == words


@pytest.mark.parametrize("amount,currency,text", [("1234.5", "USD", "1,234.50 USD"),
                                                  ("-2", "EUR", "-2.00 EUR"),
                                                  ("1500", "JPY", "1,500 JPY")])
def test_money_in_the_currency_named(amount, currency, text):
    from shopkeep.dashboard.templatetags.cockpit import money

    assert money(amount, currency) == text
