"""Card numbers and API keys are removed before saving, and the writer is told why."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shopkeep.events.models import Event
from shopkeep.stores.audit import Actor
from shopkeep.support.models import Message
from shopkeep.support.redaction import CARD_MARK, KEY_MARK, luhn_valid, redact
from shopkeep.support.services import Side, ticket_reply
from tests.support.conftest import new_customer_ticket, new_platform_ticket


@pytest.mark.parametrize("text", [
    "my card 4242 4242 4242 4242 was charged",
    "card: 4242-4242-4242-4242",
    "5555555555554444",
    "amex 3782 822463 10005",
])
def test_luhn_valid_card_numbers_are_removed(text):
    result = redact(text)
    assert CARD_MARK in result.text and "card_number" in result.kinds
    assert "4242 4242" not in result.text and "4444" not in result.text


@pytest.mark.parametrize("text", [
    "order ORD-A1B2C3D4E5 for 4242 4242 4242 4241",  # fails the Luhn check
    "call +1 555 123 4567",
    "uuid 069a79f4-44e9-4726-a5be-fca90e38aaf5",
    "see https://example.com/docs/a-very-long-path-name-that-is-long-enough-12345",
    "version 1.20.4 on port 25565",
])
def test_ordinary_numbers_and_ids_stay(text):
    result = redact(text)
    assert result.text == text and result.kinds == ()


@pytest.mark.parametrize("secret", [
    "sk_live_51HxYzAbCdEfGhIjKlMnOp",
    "sk_test_4eC39HqLyjWDarjtT1zdp7dc",
    "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
    "AKIAIOSFODNN7EXAMPLE",
    "ghp_abcdefghijklmnopqrstuvwxyz0123456789",
    "Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.abc123",
    "xK9mP2qR7vT4wY8zB3nC6fH1jL5sD0gA",
])
def test_api_key_like_strings_are_removed(secret):
    result = redact(f"my key is {secret} please check")
    assert secret not in result.text and KEY_MARK in result.text
    assert result.kinds == ("api_key",)
    assert "never share" in result.notice.lower()


def test_luhn():
    assert luhn_valid("4242424242424242") and not luhn_valid("4242424242424241")


@pytest.mark.django_db
def test_a_platform_ticket_never_stores_the_card_anywhere(store, owner):
    ticket = new_platform_ticket(store, owner, subject="Charged twice on 4242 4242 4242 4242",
                                 description="Card 4242424242424242, key sk_live_abcdef123456")
    message = ticket.messages.get()
    assert "4242" not in ticket.subject and "4242" not in message.body
    assert "4242" not in message.body_html and "sk_live" not in message.body
    assert message.redactions == ["card_number", "api_key"]


@pytest.mark.django_db
def test_customer_reply_event_carries_the_redacted_text(store):
    ticket = new_customer_ticket(store)
    message = ticket_reply(ticket=ticket, actor=Actor.system("customer"), side=Side.REQUESTER,
                           body="Use my card 5555 5555 5555 4444")
    assert message.redactions == ["card_number"]
    event = Event.objects.get(event_type="ticket.reply")
    assert "5555" not in event.data["message"] and CARD_MARK in event.data["message"]
    assert not Message.objects.filter(body__contains="5555").exists()


@pytest.mark.django_db
def test_html_in_messages_is_sanitised(store, owner):
    ticket = new_platform_ticket(store, owner, description=(
        "<script>alert(1)</script> [click](javascript:alert(2)) <img src=x onerror=alert(3)>"
        "\n\n**bold**"))
    html = ticket.messages.get().body_html
    # Raw HTML is shown as text, never as markup; the javascript: link is not a link.
    assert "<script" not in html and "<img" not in html and "href" not in html
    assert "&lt;script&gt;" in html and "<strong>bold</strong>" in html


def _with_check_digit(body: str) -> str:
    for digit in "0123456789":
        if luhn_valid(body + digit):
            return body + digit
    raise AssertionError("unreachable: one check digit always fits")


@given(body=st.text(alphabet="0123456789", min_size=12, max_size=18),
       separator=st.sampled_from(["", " ", "-"]),
       before=st.text(alphabet="abc .,:", max_size=10),
       after=st.text(alphabet="abc .,", max_size=10))
@settings(max_examples=200, deadline=None)
def test_any_luhn_valid_card_number_is_removed_however_it_is_grouped(body, separator, before,
                                                                     after):
    number = _with_check_digit(body)
    grouped = separator.join(number[i:i + 4] for i in range(0, len(number), 4))
    result = redact(f"{before} {grouped} {after}")
    assert number not in result.text.replace(" ", "").replace("-", "")
    assert "card_number" in result.kinds
