"""The server page's notice for an agent that polls without X-Agent-Instance, at phone and
desktop widths."""

from __future__ import annotations

import pytest
from django.utils import timezone

from shopkeep.delivery.models import GameServer
from tests.commerce import make_shop
from tests.delivery.conftest import add_server
from tests.factories import PASSWORD, owner_of

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("viewport", [{"width": 390, "height": 844},
                                      {"width": 1280, "height": 800}])
def test_the_notice_fits_the_page(live_server, page, screenshot_dir, viewport):
    store = make_shop()
    server, _, _ = add_server(store)
    GameServer.objects.filter(pk=server.pk).update(anonymous_seen_at=timezone.now())
    page.set_viewport_size(viewport)
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=login]", owner_of(store).email)
    page.fill("input[name=password]", PASSWORD)
    page.click("main form button[type=submit]")
    page.goto(f"{live_server.url}/dashboard/{store.slug}/servers/{server.pk}/")
    notice = page.locator("[data-testid=anonymous-agent-notice]")
    assert "does not identify itself" in notice.inner_text()
    page.screenshot(path=str(screenshot_dir / f"server-anonymous-agent-{viewport['width']}.png"),
                    full_page=True)
    # The notice stays inside the content column (the dashboard shell's own width at 390 px
    # is the shell's business, not this notice's).
    box = notice.bounding_box()
    column = page.locator("main").bounding_box()
    assert box["x"] >= column["x"] and box["x"] + box["width"] <= column["x"] + column["width"]
    assert notice.evaluate("e => e.scrollWidth <= e.clientWidth")
    assert page.csp_violations == []
