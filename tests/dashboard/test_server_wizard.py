"""The server-connect wizard: everything a newcomer needs on the page, and a live status
that turns green on the first heartbeat."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from shopkeep.delivery.models import GameServer

pytestmark = pytest.mark.django_db


def _add(as_owner, game: str = "minecraft") -> GameServer:
    response = as_owner.post(reverse("dashboard:servers", args=["shop"]),
                             {"name": "Survival", "game": game}, follow=True)
    assert response.status_code == 200
    return GameServer.objects.get(name="Survival"), response.content.decode()


def test_a_new_server_shows_install_rcon_config_run_and_waiting(as_owner):
    server, html = _add(as_owner)
    wizard = html.split('data-testid="connect-wizard"')[1]
    assert "pip install ./agent" in wizard
    assert "server.properties" in wizard and "enable-rcon=true" in wizard
    assert "rcon.port=25575" in wizard and "password_file" in wizard
    assert "shopkeep-agent -c /etc/shopkeep-agent/agent.toml run" in wizard
    assert "Waiting for your agent" in wizard
    assert reverse("dashboard:server_status", args=["shop", server.pk]) in wizard
    assert 'data-copy="wizard-run"' in wizard
    assert 'data-testid="agent-config"' in html  # the config with the fresh secrets


def test_rust_gets_its_own_rcon_settings(as_owner):
    _server, html = _add(as_owner, game="rust")
    assert "+rcon.web 1 +rcon.port 28016" in html


def test_the_status_keeps_polling_until_the_first_heartbeat_then_stops(as_owner):
    server, _ = _add(as_owner)
    url = reverse("dashboard:server_status", args=["shop", server.pk])
    waiting = as_owner.get(url, headers={"HX-Request": "true"})
    assert waiting.status_code == 200
    assert b"Waiting for your agent" in waiting.content and b"hx-trigger" in waiting.content
    GameServer.objects.filter(pk=server.pk).update(last_heartbeat_at=timezone.now(),
                                                   agent_version="1.2.0")
    connected = as_owner.get(url, headers={"HX-Request": "true"})
    assert connected.status_code == 286  # htmx stops polling
    assert b"Connected" in connected.content and b"hx-trigger" not in connected.content
    page = as_owner.get(reverse("dashboard:server_detail", args=["shop", server.pk]))
    assert b"connect-wizard" not in page.content
