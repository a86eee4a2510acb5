"""Friendly 404/500 pages: no URL pattern list, no traceback; JSON for API paths."""

from __future__ import annotations

import logging
import os
import subprocess
import sys

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def test_an_unknown_page_shows_a_friendly_404_without_the_url_patterns(client):
    response = client.get("/no/such/page/")
    assert response.status_code == 404
    body = response.content.decode()
    assert "Page not found" in body
    assert "/accounts/login/" in body  # a way on
    assert "URLconf" not in body and "dashboard/&lt;slug" not in body


def test_a_404_inside_a_store_links_back_to_that_store(client):
    response = client.get("/s/some-shop/p/missing/")
    assert response.status_code == 404
    assert 'href="/s/some-shop/"' in response.content.decode()


def test_an_unknown_api_path_answers_json(client):
    response = client.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


@pytest.fixture
def failing(settings):
    settings.ROOT_URLCONF = "tests.core.boom_urls"
    return Client(raise_request_exception=False)


def test_a_crash_shows_a_friendly_500_and_logs_the_traceback(failing, caplog):
    with caplog.at_level(logging.ERROR, logger="django.request"):
        response = failing.get("/boom/")
    assert response.status_code == 500
    body = response.content.decode()
    assert "Something went wrong" in body
    assert "secret-detail-that-must-not-leak" not in body and "Traceback" not in body
    assert any("secret-detail-that-must-not-leak" in (r.exc_text or str(r.exc_info))
               for r in caplog.records)


def test_a_crash_under_the_api_answers_json_without_detail(failing):
    response = failing.get("/api/v1/boom/")
    assert response.status_code == 500
    assert response.json()["error"]["code"] == "server_error"
    assert "secret-detail" not in response.content.decode()


def test_debug_is_off_by_default_in_development(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SHOPKEEP_", "DJANGO_"))}
    env.update(SHOPKEEP_ENV="development", SHOPKEEP_VAR_DIR=str(tmp_path))
    result = subprocess.run(
        [sys.executable, "-m", "shopkeep.cli", "manage", "shell", "-c",
         "from django.conf import settings; print('DEBUG', settings.DEBUG)"],
        env=env, capture_output=True, text=True, timeout=60, check=True)
    assert "DEBUG False" in result.stdout
