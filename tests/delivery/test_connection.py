"""The server page's connection string is exactly what `shopkeep-agent init` reads."""

from __future__ import annotations

from django.test import Client
from shopkeep_agent.init import parse_connection

from shopkeep.delivery.connection import agent_game, connection_string
from tests.commerce import make_shop
from tests.factories import owner_of


def test_the_connection_string_round_trips_through_the_agents_parser():
    text = connection_string(origin="https://shop.example.com", server_secret="srv_" + "b" * 43,
                             store_secret="sks_" + "a" * 43, game="dayz")
    conn = parse_connection(text)
    assert (conn.url, conn.store_secret, conn.server_secret, conn.game) == (
        "https://shop.example.com", "sks_" + "a" * 43, "srv_" + "b" * 43, "dayz")


def test_without_the_store_secret_the_string_leaves_it_for_init_to_ask():
    conn = parse_connection(connection_string(origin="http://127.0.0.1:8000",
                                              server_secret="srv_" + "c" * 43,
                                              store_secret=None, game="other"))
    assert (conn.url, conn.store_secret, conn.game) == ("http://127.0.0.1:8000", "", "")


def test_each_game_gets_its_adapter():
    assert agent_game("dayz")["type"] == "battleye"
    assert agent_game("fivem") == {"type": "udp_rcon", "port": 30120, "game": "fivem"}
    assert agent_game("7dtd")["type"] == "telnet"
    assert agent_game("other")["type"] == "source_rcon"


def test_adding_a_server_shows_the_connection_string_once(db):
    store = make_shop()
    client = Client()
    client.force_login(owner_of(store))
    response = client.post(f"/dashboard/{store.slug}/servers/", {"name": "DayZ 1",
                                                                "game": "dayz"}, follow=True)
    page = response.content.decode()
    assert 'data-testid="connection-string"' in page
    start = page.index('data-testid="connection-string">') + len('data-testid="connection-string">')
    conn = parse_connection(page[start:page.index("</pre>", start)].replace("&amp;", "&"))
    assert conn.store_secret.startswith("sks_") and conn.server_secret.startswith("srv_")
    assert conn.game == "dayz"
    again = client.get(response.redirect_chain[-1][0]).content.decode()
    assert 'data-testid="connection-string"' not in again  # shown once
