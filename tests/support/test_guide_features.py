"""Built-in help guides describe only what exists (support/features.py)."""

from __future__ import annotations

import pytest

from shopkeep.support.features import FEATURES, GUIDE_FEATURES, guide_problems
from shopkeep.support.models import Guide

pytestmark = pytest.mark.django_db


def _text(guide: Guide) -> str:
    return f"{guide.title}\n{guide.problem}\n{guide.solutions}\n{guide.keywords}"


def test_every_published_guide_names_only_installed_features():
    guides = list(Guide.objects.filter(is_published=True))
    assert {g.slug for g in guides} == set(GUIDE_FEATURES)
    problems = [p for g in guides for p in guide_problems(slug=g.slug, text=_text(g))]
    assert problems == []


def test_a_guide_mentioning_a_missing_feature_is_caught():
    assert not FEATURES["paypal"].exists()  # if PayPal lands, pick another absent feature
    problems = guide_problems(slug="payment-gateway-not-working",
                              text="Unable to connect Stripe or PayPal")
    assert problems == ["payment-gateway-not-working: mentions 'paypal' (paypal) without "
                        "naming it"]


def test_a_guide_naming_a_missing_feature_is_caught(monkeypatch):
    monkeypatch.setitem(GUIDE_FEATURES, "discord-roles-not-assigning", ("discord_roles",))
    problems = guide_problems(slug="discord-roles-not-assigning",
                              text="Use /claim in your Discord server")
    assert problems == ["discord-roles-not-assigning: names 'discord_roles', which is not "
                        "installed"]


def test_the_discord_guide_is_unpublished_but_kept():
    guide = Guide.objects.get(slug="discord-roles-not-assigning")
    assert guide.is_published is False


def test_features_that_exist_are_found():
    for key in ("stripe", "agent", "retry_delivery", "webhooks", "webhook_test", "api_tokens",
                "password_reset", "two_factor"):
        assert FEATURES[key].exists(), key
