"""One helper builds every absolute URL: configured site URL, else the request, else the bind."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import RequestFactory

from shopkeep.conf import bind_origin, site_url_check
from shopkeep.core.absolute import absolute_url, site_origin


def test_a_configured_site_url_wins_over_the_request_host(settings):
    settings.SITE_URL, settings.SITE_URL_CONFIGURED = "https://shop.example.com", True
    request = RequestFactory().get("/", HTTP_HOST="127.0.0.1:9123")
    assert absolute_url("/s/demo/", request=request) == "https://shop.example.com/s/demo/"
    assert absolute_url("/s/demo/") == "https://shop.example.com/s/demo/"


def test_unconfigured_links_follow_the_request_host_and_port(settings):
    settings.SITE_URL, settings.SITE_URL_CONFIGURED = "http://127.0.0.1:8000", False
    request = RequestFactory().get("/", HTTP_HOST="localhost:9123")
    assert absolute_url("/s/demo/", request=request) == "http://localhost:9123/s/demo/"
    secure = RequestFactory().get("/", HTTP_HOST="localhost:9123", secure=True)
    assert site_origin(request=secure) == "https://localhost:9123"


def test_without_a_request_links_use_the_serving_origin(settings):
    settings.SITE_URL, settings.SITE_URL_CONFIGURED = "http://127.0.0.1:9555", False
    assert absolute_url("/healthz") == "http://127.0.0.1:9555/healthz"


@pytest.mark.parametrize("bad", ["https://evil.example/x", "//evil.example/x", "s/demo/", ""])
def test_a_full_or_relative_url_is_refused_rather_than_linked(bad):
    with pytest.raises(ValueError):
        absolute_url(bad)


@pytest.mark.parametrize(("host", "port", "origin"), [
    ("127.0.0.1", 8123, "http://127.0.0.1:8123"),
    ("0.0.0.0", 8000, "http://127.0.0.1:8000"),
    ("::", 8000, "http://[::1]:8000"),
    ("::1", 9000, "http://[::1]:9000"),
    ("shop.local", 80, "http://shop.local"),
])
def test_the_bind_address_becomes_a_linkable_origin(host, port, origin):
    assert bind_origin(host, port) == origin


@pytest.mark.parametrize("bad", ["shop.example.com", "ftp://shop.example.com",
                                 "https://shop.example.com/store", "https://u:p@shop.example.com",
                                 "https://shop.example.com:99999", "https://shop.example.com?x=1"])
def test_a_site_url_that_is_not_a_plain_origin_stops_start_up(bad):
    with pytest.raises(ImproperlyConfigured):
        site_url_check(bad)


def test_a_trailing_slash_on_the_site_url_is_dropped():
    assert site_url_check("https://shop.example.com/") == "https://shop.example.com"
