"""Every dashboard and staff page at 390x844 and 1280x800 in Chromium: no horizontal page
scroll, no card, cell or button whose content overflows its box, no console errors. Each
page's screenshot is saved (var/screenshots/layout/ by default) for a person to look at."""

from __future__ import annotations

import httpx
import pytest
from django.test import Client
from django.urls import URLPattern

from shopkeep.accounts.models import User
from shopkeep.dashboard import urls as dashboard_urls
from shopkeep.staff import urls as staff_urls
from tests.browser.dashboard_world import UnknownKwarg, build_world, route_url

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

VIEWPORTS = {"phone": {"width": 390, "height": 844}, "laptop": {"width": 1280, "height": 800}}

# Returns what is wrong with the page's layout, as readable strings.
LAYOUT_PROBLEMS = """() => {
  const problems = [];
  const root = document.documentElement;
  if (root.scrollWidth > root.clientWidth + 1) {
    problems.push(`page scrolls sideways: ${root.scrollWidth}px in ${root.clientWidth}px`);
  }
  const boxes = document.querySelectorAll(
    ".card, td, th, dd, .content, .sidebar, .topbar, button, .button, .badge, .messages li");
  for (const el of boxes) {
    const style = getComputedStyle(el);
    if (["auto", "scroll"].includes(style.overflowX) || style.display === "none") continue;
    const table = el.closest("table");
    if (table && (el.tagName === "TD" || el.tagName === "TH")
        && ["auto", "scroll"].includes(getComputedStyle(table).overflowX)) {
      continue;  // cells of a table that scrolls inside itself: the table is the box
    }
    if (el.scrollWidth > el.clientWidth + 1 && el.clientWidth > 0) {
      const label = el.tagName.toLowerCase() +
        (el.className ? "." + String(el.className).split(" ").join(".") : "");
      problems.push(`${label} overflows (${el.scrollWidth}px in ${el.clientWidth}px): ` +
                    el.textContent.trim().slice(0, 60));
    }
  }
  return problems;
}"""


def _routes() -> list[tuple[str, URLPattern]]:
    routes = [("/dashboard/", p) for p in dashboard_urls.urlpatterns]
    routes += [("/staff/", p) for p in staff_urls.urlpatterns]
    return [(prefix, p) for prefix, p in routes if isinstance(p, URLPattern)]


def _session_cookie(user: User, base: str) -> dict:
    client = Client()
    client.force_login(user)
    return {"name": "sessionid", "value": client.cookies["sessionid"].value, "url": base}


@pytest.mark.timeout(1500)  # about 100 page loads on a shared machine
def test_every_dashboard_and_staff_page_fits_phone_and_laptop(
        live_server, chromium, screenshot_dir, django_capture_on_commit_callbacks, settings):
    settings.WEBHOOK_ALLOW_PRIVATE = True  # the endpoint is never called here
    world = build_world(django_capture_on_commit_callbacks)
    store = world["store"]
    staff = User.objects.get(email=world["staff_email"])
    folder = screenshot_dir / "layout"
    folder.mkdir(exist_ok=True)
    base = live_server.url
    visited, post_only, problems = [], [], {}
    unresolved = []
    cookies: dict[int, dict] = {}
    for viewport_name, viewport in VIEWPORTS.items():
        for prefix, pattern in _routes():
            try:
                path = route_url(pattern, prefix, store)
            except UnknownKwarg as unknown:
                probe = httpx.get(base + unknown.probe_path, timeout=30, cookies={
                    "sessionid": cookies.setdefault(world["owner"].pk, _session_cookie(
                        world["owner"], base))["value"]})
                if probe.status_code != 405:
                    problems[pattern.name] = ["a page whose URL values the walk does not "
                                              "know: add them to kwarg_values"]
                continue
            if path is None:
                unresolved.append(pattern.name)
                continue
            user = staff if prefix == "/staff/" else world["owner"]
            cookie = cookies.setdefault(user.pk, _session_cookie(user, base))
            probe = httpx.get(base + path, cookies={"sessionid": cookie["value"]},
                              follow_redirects=True, timeout=30)
            if probe.status_code == 405:  # an action, not a page
                post_only.append(pattern.name)
                continue
            context = chromium.new_context(viewport=viewport)
            context.add_cookies([cookie])
            page = context.new_page()
            errors: list[str] = []
            page.on("console", lambda m, errors=errors: errors.append(m.text)
                    if m.type == "error" else None)
            page.on("pageerror", lambda exc, errors=errors: errors.append(str(exc)))
            response = page.goto(base + path)
            name = f"{prefix.strip('/')}-{pattern.name}-{viewport_name}"
            found = []
            if response.status != 200:
                found.append(f"answered {response.status}")
            found += page.evaluate(LAYOUT_PROBLEMS)
            found += [f"console: {e}" for e in errors]
            page.screenshot(path=str(folder / f"{name}.png"), full_page=True)
            if found:
                problems[f"{name} {path}"] = found
            visited.append(name)
            context.close()
    assert problems == {}, "\n".join(f"{k}: {v}" for k, v in problems.items())
    # Only POST-only actions (405 to a GET), attachments (downloads) and e-mail previews
    # (framed by the e-mails page, which is visited) are skipped.
    skipped = {n for n in unresolved}
    assert skipped <= {"support_attachment", "platform_attachment", "ticket_attachment",
                       "token_revoke", "command_mark_delivered", "command_run_again",
                       "order_simulate", "subscription_simulate", "email_preview"}, skipped
    assert len(visited) >= 2 * 40
