"""/api/v1/docs renders Swagger UI from vendored static files under the strict CSP."""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("viewport", [{"width": 390, "height": 844},
                                      {"width": 1280, "height": 800}])
def test_the_api_docs_render_operations_without_a_cdn(live_server, page, viewport,
                                                          screenshot_dir):
    requested: list[str] = []
    errors: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.set_viewport_size(viewport)
    response = page.goto(f"{live_server.url}/api/v1/docs")
    assert "script-src 'self'" in response.headers["content-security-policy"]
    page.wait_for_selector(".opblock-summary-path", timeout=20_000)
    paths = page.locator(".opblock-summary-path").all_inner_texts()
    assert "/api/v1/agent/commands/pending" in " ".join(paths)
    assert len(paths) > 20
    page.screenshot(path=str(screenshot_dir / f"api-docs-{viewport['width']}.png"))
    assert page.csp_violations == []
    assert errors == []
    assert all(url.startswith(live_server.url) for url in requested), requested
