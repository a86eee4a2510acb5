"""Settings > Discord and the product role picker in Chromium at phone and desktop widths:
save the bot, watch the check's findings arrive (htmx), fix nothing and see each problem in
words, pick a role."""

from __future__ import annotations

import pytest

from shopkeep.catalog.models import DeliveryAction
from shopkeep.discord.check import run_check
from tests.commerce import make_product, make_shop
from tests.discord.conftest import fake  # noqa: F401  (fixture)
from tests.factories import PASSWORD, owner_of

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SIZES = [(390, 844), (1280, 800)]


def _fits(page) -> None:
    """No sideways page scroll, and nothing in the Discord cards overflows its box."""
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    overflowing = page.evaluate("""() => [...document.querySelectorAll(
        'main .card, main .secret, main [data-testid=discord-problems] li, main .choices li')]
        .filter(e => e.scrollWidth > e.clientWidth + 1 && getComputedStyle(e).overflowX
                 !== 'auto').map(e => e.outerHTML.slice(0, 80))""")
    assert overflowing == []


@pytest.mark.parametrize("size", SIZES, ids=["phone", "desktop"])
def test_owner_connects_a_bot_reads_the_check_and_picks_a_role(live_server, page, size,
                                                               screenshot_dir,
                                                               fake):  # noqa: F811
    page.set_viewport_size({"width": size[0], "height": size[1]})
    base, tag = live_server.url, f"{size[0]}x{size[1]}"
    store = make_shop(slug="shop", name="Block Party")
    guild = fake.add_guild(name="Block Party Discord")
    vip = fake.add_role(guild["id"], "VIP", position=5)
    fake.add_role(guild["id"], "Legend", position=20)  # above the bot: not assignable
    product = make_product(store, name="Discord VIP", purchase_command=None)

    page.goto(f"{base}/accounts/login/")
    page.fill("input[name=login]", owner_of(store).email)
    page.fill("input[name=password]", PASSWORD)
    page.click("main form button[type=submit]")

    page.goto(f"{base}/dashboard/shop/settings/discord/")
    assert "Not set up" in page.inner_text("[data-testid=discord-status]")
    page.fill("input[name=bot_token]", fake.token)
    page.fill("input[name=guild_id]", guild["id"])
    page.click("[data-testid=discord-form] button[type=submit]")
    assert page.is_visible("[data-testid=check-running]")
    assert fake.token not in page.content()
    page.screenshot(path=str(screenshot_dir / f"discord-settings-checking-{tag}.png"),
                    full_page=True)
    run_check(store_id=store.pk)  # the worker asks Discord
    problems = page.wait_for_selector("[data-testid=discord-problems]")  # htmx swapped it in
    text = problems.inner_text()
    assert "Interactions Endpoint URL" in text
    assert page.inner_text("[data-testid=token-hint]") == f"…{fake.token[-4:]}"
    _fits(page)
    page.screenshot(path=str(screenshot_dir / f"discord-settings-{tag}.png"), full_page=True)

    page.goto(f"{base}/dashboard/shop/products/{product.pk}/discord-roles/")
    picker = page.inner_text("[data-testid=role-picker]")
    assert "VIP" in picker and "above the bot's role" in picker
    page.check(f"input[name=role_ids][value='{vip}']")
    page.uncheck("input[name=remove_on][value=subscription_cancel]")
    page.click("[data-testid=role-picker] button[type=submit]")
    assert "Discord VIP now gives VIP on purchase." in page.inner_text("main")
    _fits(page)
    page.screenshot(path=str(screenshot_dir / f"discord-role-picker-{tag}.png"), full_page=True)
    triggers = set(DeliveryAction.objects.filter(product=product, kind="discord_role")
                   .values_list("trigger", flat=True))
    assert triggers == {"purchase", "refund", "chargeback"}
    assert page.csp_violations == []
