"""What the built-in help guides may talk about: each guide names the features it relies
on, and a feature counts as existing only when its code is installed. A test fails when a
guide names a feature that is not there, or mentions one by its words without naming it,
so the help never sends an owner looking for a button Shopkeep lacks."""

from __future__ import annotations

import importlib.util
import re
from dataclasses import dataclass

from django.urls import NoReverseMatch, reverse


@dataclass(frozen=True)
class Feature:
    key: str
    words: tuple[str, ...]  # lower-case phrases that mean this feature in a guide's text
    module: str = ""  # importable when the feature exists
    url_name: str = ""  # resolvable (with a store slug when it is a dashboard page)

    def exists(self) -> bool:
        if self.module and not _importable(self.module):
            return False
        if self.url_name:
            return _resolvable(self.url_name)
        return True


def _importable(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:  # a parent package is missing
        return False


def _resolvable(name: str) -> bool:
    # Dashboard routes take a store slug and maybe an id; try the shapes they come in.
    for args in ((), ("x",), ("x", 1)):
        try:
            reverse(name, args=args)
        except NoReverseMatch:
            continue
        return True
    return False


FEATURES: dict[str, Feature] = {f.key: f for f in (
    Feature("stripe", ("stripe",), module="shopkeep.payments.stripe_connect",
            url_name="dashboard:payments"),
    Feature("paypal", ("paypal",), module="shopkeep.payments.gateways.paypal"),
    Feature("discord_roles", ("discord", "/claim"), module="shopkeep.discord.deliver",
            url_name="dashboard:discord"),
    Feature("custom_domains", ("custom domain", "dns"), module="shopkeep.themes.domains"),
    Feature("status_page", ("status page",), module="shopkeep.platform.status"),
    Feature("platform_billing", ("subscription plan", "active subscription"),
            module="shopkeep.platform.billing"),
    Feature("agent", ("shopkeep-agent", "agent"), url_name="dashboard:servers"),
    Feature("retry_delivery", ("retry delivery",), url_name="dashboard:order_retry_delivery"),
    Feature("webhooks", ("webhook",), url_name="dashboard:webhooks"),
    Feature("webhook_test", ("send a test",), url_name="dashboard:webhook_test"),
    Feature("api_tokens", ("api token", "bearer"), url_name="dashboard:tokens"),
    Feature("password_reset", ("forgot your password",), url_name="account_reset_password"),
    Feature("two_factor", ("two-factor",), url_name="mfa_index"),
)}

# The built-in guides (support/migrations/0003) and the features each one names.
GUIDE_FEATURES: dict[str, tuple[str, ...]] = {
    "payment-gateway-not-working": ("stripe", "webhooks"),
    "products-not-delivering": ("agent", "retry_delivery"),
    "store-not-loading": (),
    "cant-log-in": ("password_reset", "two_factor"),
    "webhook-not-receiving-events": ("webhooks", "webhook_test"),
    "api-authentication-failing": ("api_tokens",),
    "discord-roles-not-assigning": ("discord_roles", "retry_delivery"),
}


def _mentions(text: str, word: str) -> bool:
    return re.search(r"(?<![a-z0-9])" + re.escape(word), text.lower()) is not None


def guide_problems(*, slug: str, text: str) -> list[str]:
    """Why a built-in guide is wrong about Shopkeep: a named feature missing, or a feature
    mentioned that the guide does not name (and so nobody checked exists)."""
    named = GUIDE_FEATURES.get(slug)
    if named is None:
        return [f"{slug}: not listed in GUIDE_FEATURES"]
    problems = [f"{slug}: names {key!r}, which is not installed" for key in named
                if key not in FEATURES or not FEATURES[key].exists()]
    for feature in FEATURES.values():
        if feature.key not in named and any(_mentions(text, w) for w in feature.words):
            problems.append(f"{slug}: mentions {feature.key!r} ({', '.join(feature.words)}) "
                            "without naming it")
    return problems
