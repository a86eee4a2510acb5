"""The demo's simulated game server and agent: `shopkeep demo` writes a working agent config."""

from __future__ import annotations

import tomllib

import pytest

from shopkeep.core.ids import hash_secret
from shopkeep.delivery.models import AgentKey, GameServer
from shopkeep.demo import demo_seed
from shopkeep.demo_agent import demo_agent_commands, demo_agent_prepare_for_demo

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _var_dir(settings, tmp_path):
    settings.VAR_DIR = tmp_path


def _config(path):
    return tomllib.loads(path.read_text())


def test_demo_writes_an_agent_config_whose_secrets_match_the_demo_server(tmp_path):
    demo_seed()
    path = demo_agent_prepare_for_demo()
    config = _config(path)
    server = GameServer.objects.get(name="Demo server")
    key = AgentKey.objects.get(store=server.store)
    assert hash_secret(config["platform"]["server_secret"]) == server.secret_hash
    assert hash_secret(config["platform"]["store_secret"]) == key.secret_hash
    assert config["game"]["type"] == "source_rcon" and config["game"]["password"]
    assert path.stat().st_mode & 0o077 == 0  # secrets readable by the owner only


def test_running_demo_again_keeps_a_config_that_still_works():
    demo_seed()
    first = demo_agent_prepare_for_demo().read_text()
    demo_seed()
    assert demo_agent_prepare_for_demo().read_text() == first
    assert GameServer.objects.count() == 1


def test_a_lost_config_gets_fresh_secrets_and_the_old_ones_stop_working():
    demo_seed()
    path = demo_agent_prepare_for_demo()
    old = _config(path)["platform"]["server_secret"]
    path.unlink()
    new = _config(demo_agent_prepare_for_demo())["platform"]["server_secret"]
    assert new != old
    assert GameServer.objects.get().secret_hash == hash_secret(new)


def test_serve_starts_the_simulator_and_agent_without_the_password_in_argv():
    assert demo_agent_commands() == []  # nothing before `shopkeep demo`
    demo_seed()
    password = _config(demo_agent_prepare_for_demo())["game"]["password"]
    (simulator, sim_env), (agent, agent_env) = demo_agent_commands()
    assert agent_env == {}
    assert simulator[1:3] == ["-m", "shopkeep_agent.simulator"]
    assert agent[1:3] == ["-m", "shopkeep_agent.cli"] and agent[-1] == "run"
    assert password not in " ".join(simulator + agent)
    assert sim_env == {"SHOPKEEP_SIM_RCON_PASSWORD": password}


def test_the_config_follows_the_port_serve_is_bound_to_and_keeps_its_secrets(settings):
    settings.SITE_URL, settings.SITE_URL_CONFIGURED = "http://127.0.0.1:8000", False
    demo_seed()
    before = _config(demo_agent_prepare_for_demo())
    assert before["platform"]["url"] == "http://127.0.0.1:8000"
    settings.SITE_URL = "http://127.0.0.1:9321"  # `serve --port 9321` after `demo`
    assert demo_agent_commands()
    after = _config(demo_agent_prepare_for_demo())
    assert after["platform"]["url"] == "http://127.0.0.1:9321"
    assert after["platform"]["server_secret"] == before["platform"]["server_secret"]
    assert after["game"]["password"] == before["game"]["password"]
