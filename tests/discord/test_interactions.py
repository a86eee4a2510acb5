"""POST /discord/interactions/<store>: Ed25519-signed requests as Discord sends them, PING,
and /claim linking a Discord user to purchases."""

from __future__ import annotations

import json
import time

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from shopkeep.delivery.models import DeliveryCommand
from shopkeep.discord.models import DiscordClaim
from tests.commerce import make_shop
from tests.discord.conftest import BUYER, connect
from tests.discord.fake_discord import FakeDiscord
from tests.discord.test_roles import buy, discord_commands

Cmd = DeliveryCommand
PING = {"id": "1", "application_id": "2", "type": 1, "token": "t", "version": 1}


def content(response) -> str:
    body = response.json()
    assert body["type"] == 4 and body["data"]["flags"] == 64  # ephemeral
    return body["data"]["content"]


def test_ping_gets_pong(world):
    response = world.interact(PING)
    assert response.status_code == 200 and response.json() == {"type": 1}


def test_unsigned_requests_get_401(world):
    response = world.interact(PING, headers={})
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_signature"


def test_a_signature_from_another_key_gets_401(world):
    body = json.dumps(PING).encode()
    timestamp = str(int(time.time()))
    forged = Ed25519PrivateKey.generate().sign(timestamp.encode() + body).hex()
    response = world.interact(PING, headers={"X-Signature-Ed25519": forged,
                                             "X-Signature-Timestamp": timestamp})
    assert response.status_code == 401


def test_a_tampered_body_gets_401(world, client):
    body = json.dumps(PING).encode()
    headers = world.fake.sign(body)
    response = client.post(f"/discord/interactions/{world.store.slug}",
                           body.replace(b'"type": 1', b'"type": 2'),
                           content_type="application/json", headers=headers)
    assert response.status_code == 401


def test_an_old_timestamp_gets_401(world):
    body = json.dumps(PING).encode()
    stale = str(int(time.time()) - 3600)
    response = world.interact(PING, headers=world.fake.sign(body, timestamp=stale))
    assert response.status_code == 401


def test_garbage_signature_headers_get_401(world):
    response = world.interact(PING, headers={"X-Signature-Ed25519": "zz-not-hex",
                                             "X-Signature-Timestamp": "yesterday"})
    assert response.status_code == 401


def test_another_stores_endpoint_refuses_this_bots_signature(world):
    other = make_shop(slug="other-shop", name="Other")
    response = world.interact(PING, slug=other.slug)  # no Discord settings at all
    assert response.status_code == 401
    another_bot = FakeDiscord().start()
    try:
        connect(other, another_bot, world.guild)  # another bot's public key
    finally:
        another_bot.stop()
    response = world.interact(PING, slug=other.slug)
    assert response.status_code == 401


def test_claim_after_joining_assigns_the_waiting_role(world, django_capture_on_commit_callbacks):
    order = buy(world, django_capture_on_commit_callbacks)
    world.deliver()  # 10007: not in the server yet
    (command,) = discord_commands(order)
    assert command.status == "waiting_claim"
    world.fake.join(world.guild["id"], BUYER)
    response = world.interact(world.fake.claim_payload(world.guild["id"], BUYER))
    text = content(response)
    assert "Assigning VIP" in text and order.order_number in text
    command.refresh_from_db()
    assert command.status == "pending"
    world.deliver()
    assert world.fake.roles_of(world.guild["id"], BUYER) == [world.vip]
    command.refresh_from_db()
    assert command.status == "completed"
    again = content(world.interact(world.fake.claim_payload(world.guild["id"], BUYER)))
    assert again == "You already have VIP."
    assert DiscordClaim.objects.get(order=order).via == "checkout"


def test_claim_with_order_number_and_email_links_a_buyer_who_bought_without_discord(
        world, django_capture_on_commit_callbacks):
    order = buy(world, django_capture_on_commit_callbacks, discord_id="")
    world.fake.join(world.guild["id"], BUYER)
    text = content(world.interact(world.fake.claim_payload(
        world.guild["id"], BUYER, order_number=order.order_number.lower(),
        email="Player@Example.com ")))
    assert text.startswith("Assigning VIP")
    (command,) = discord_commands(order)
    assert command.discord_user_id == BUYER and command.status == "pending"
    world.deliver()
    assert world.fake.roles_of(world.guild["id"], BUYER) == [world.vip]


def test_claim_without_purchases_says_how_to_link_one(world):
    text = content(world.interact(world.fake.claim_payload(world.guild["id"], BUYER)))
    assert "No purchase of this store is linked to your Discord account" in text
    assert "order number" in text


def test_claim_with_a_wrong_email_changes_nothing_and_is_throttled(
        world, django_capture_on_commit_callbacks):
    order = buy(world, django_capture_on_commit_callbacks, discord_id="")
    for _ in range(5):
        text = content(world.interact(world.fake.claim_payload(
            world.guild["id"], BUYER, order_number=order.order_number, email="x@example.com")))
        assert text == "No order of this store matches that order number and e-mail address."
    text = content(world.interact(world.fake.claim_payload(
        world.guild["id"], BUYER, order_number=order.order_number,
        email="player@example.com")))
    assert text.startswith("Too many tries")
    (command,) = discord_commands(order)
    assert command.status == "waiting_claim" and command.discord_user_id == ""
    assert not DiscordClaim.objects.exists()


def test_a_second_account_cannot_take_over_a_claimed_order(
        world, django_capture_on_commit_callbacks):
    order = buy(world, django_capture_on_commit_callbacks, discord_id="")
    world.interact(world.fake.claim_payload(world.guild["id"], BUYER,
                                            order_number=order.order_number,
                                            email="player@example.com"))
    thief = "1300000000000000009"
    text = content(world.interact(world.fake.claim_payload(
        world.guild["id"], thief, order_number=order.order_number, email="player@example.com")))
    assert text == f"Order {order.order_number} is already linked to another Discord account."
    (command,) = discord_commands(order)
    assert command.discord_user_id == BUYER


def test_an_order_whose_role_went_to_the_checkout_account_is_not_claimed_by_another(
        world, django_capture_on_commit_callbacks):
    world.fake.join(world.guild["id"], BUYER)
    order = buy(world, django_capture_on_commit_callbacks)
    world.deliver()
    text = content(world.interact(world.fake.claim_payload(
        world.guild["id"], "1300000000000000009", order_number=order.order_number,
        email="player@example.com")))
    assert "bought with another Discord account" in text
    assert discord_commands(order)[0].discord_user_id == BUYER


def test_claim_from_another_server_is_refused(world, django_capture_on_commit_callbacks):
    order = buy(world, django_capture_on_commit_callbacks, discord_id="")
    text = content(world.interact(world.fake.claim_payload(
        "1400000000000000001", BUYER, order_number=order.order_number,
        email="player@example.com")))
    assert text == "Use /claim in the store's Discord server."
    assert discord_commands(order)[0].status == "waiting_claim"


def test_claim_of_a_refunded_order_assigns_nothing(world, django_capture_on_commit_callbacks):
    from tests.discord.test_roles import _refund

    order = buy(world, django_capture_on_commit_callbacks, discord_id="")
    _refund(order, django_capture_on_commit_callbacks)
    text = content(world.interact(world.fake.claim_payload(
        world.guild["id"], BUYER, order_number=order.order_number,
        email="player@example.com")))
    assert text == f"Order {order.order_number} has no Discord roles left to assign."
    assert not Cmd.objects.filter(kind="discord", status="pending").exists()


def test_a_body_that_is_not_json_is_refused_after_the_signature(world, client):
    body = b"not json"
    response = client.post(f"/discord/interactions/{world.store.slug}", body,
                           content_type="application/json", headers=world.fake.sign(body))
    assert response.status_code == 400


def test_a_checkout_account_that_never_joined_can_hand_the_role_to_the_account_that_did(
        world, django_capture_on_commit_callbacks):
    alt = "1300000000000000777"
    order = buy(world, django_capture_on_commit_callbacks, discord_id=alt)
    world.deliver()  # the alt is not in the server: waiting for /claim
    world.fake.join(world.guild["id"], BUYER)
    text = content(world.interact(world.fake.claim_payload(
        world.guild["id"], BUYER, order_number=order.order_number, email="player@example.com")))
    assert text.startswith("Assigning VIP")
    world.deliver()
    assert world.fake.roles_of(world.guild["id"], BUYER) == [world.vip]


def test_after_claim_the_buyer_is_told_what_became_of_each_role(
        world, django_capture_on_commit_callbacks):
    order = buy(world, django_capture_on_commit_callbacks)
    world.deliver()  # not in the server yet
    world.fake.join(world.guild["id"], BUYER)
    content(world.interact(world.fake.claim_payload(world.guild["id"], BUYER)))
    assert world.fake.followups == []
    world.deliver()
    (message,) = world.fake.followups
    assert message["content"] == "VIP: assigned. Enjoy!"
    assert message["flags"] == 64 and message["allowed_mentions"] == {"parse": []}
    world.deliver()
    assert len(world.fake.followups) == 1  # told once
    assert discord_commands(order)[0].status == "completed"


def test_a_claim_whose_role_fails_says_why_in_the_follow_up(
        world, django_capture_on_commit_callbacks):
    buy(world, django_capture_on_commit_callbacks)
    world.deliver()
    world.fake.join(world.guild["id"], BUYER)
    world.fake.guilds[world.guild["id"]]["roles"][world.vip]["position"] = 50  # above the bot
    content(world.interact(world.fake.claim_payload(world.guild["id"], BUYER)))
    world.deliver()
    (message,) = world.fake.followups
    assert message["content"].startswith("VIP: not assigned. The bot needs Manage Roles")
