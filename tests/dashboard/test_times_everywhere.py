"""Every dashboard page shows times in the store's time zone, in human words with the exact
local moment in a title: the walk visits each page of the busy demo store (set to New York)
and fails on any raw ISO timestamp or "UTC" in the visible text."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import URLPattern

from shopkeep.dashboard import urls as dashboard_urls
from shopkeep.stores.models import Store
from tests.browser.dashboard_world import UnknownKwarg, build_world, route_url

pytestmark = pytest.mark.django_db

ISO = re.compile(r"\b\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})")
UTC = re.compile(r"\bUTC\b|\+00:00")
HIDDEN = re.compile(r"<(script|style|template|textarea|pre|code|select)\b.*?</\1>", re.S | re.I)
TAG = re.compile(r"<[^>]+>")


def visible_text(html: str) -> str:
    """What a person reads: no markup, attributes, scripts, code samples or form values."""
    return " ".join(TAG.sub(" ", HIDDEN.sub(" ", html)).split())


def test_visible_text_drops_attributes_and_code():
    html = ('<p title="2025-01-20T14:30:00Z">3 minutes ago</p><code>2025-01-20T14:30:00Z'
            '</code><script>var t="UTC"</script>')
    assert visible_text(html) == "3 minutes ago"


def test_every_dashboard_page_shows_store_local_human_times(
        django_capture_on_commit_callbacks, settings):
    settings.WEBHOOK_ALLOW_PRIVATE = True
    world = build_world(django_capture_on_commit_callbacks)
    store = world["store"]
    Store.objects.filter(pk=store.pk).update(time_zone="America/New_York")
    store.refresh_from_db()
    client = Client()
    client.force_login(world["owner"])
    problems, pages, times = {}, 0, 0
    for pattern in dashboard_urls.urlpatterns:
        if not isinstance(pattern, URLPattern):
            continue
        try:
            path = route_url(pattern, "/dashboard/", store)
        except UnknownKwarg:
            continue  # the layout walk fails on these by name
        if path is None:
            continue
        response = client.get(path, follow=True)
        if response.status_code != 200 or "text/html" not in response.get("Content-Type", ""):
            continue
        html = response.content.decode()
        text = visible_text(html)
        found = [text[max(m.start() - 40, 0):m.end() + 10]
                 for m in [*ISO.finditer(text), *UTC.finditer(text)]]
        if found:
            problems[path] = found[:3]
        for title in re.findall(r'<time datetime="[^"]+" title="([^"]+)"', html):
            times += 1
            if not title.endswith((" EST", " EDT")):
                problems.setdefault(path, []).append(f"exact time not in New York: {title}")
        pages += 1
    assert problems == {}, "\n".join(f"{k}: {v}" for k, v in problems.items())
    assert pages >= 40 and times >= 20
