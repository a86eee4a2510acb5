"""Built-in help guides describe only what exists (support/features.py)."""

from __future__ import annotations

import pytest

from shopkeep.support.features import FEATURES, GUIDE_FEATURES, Feature, guide_problems
from shopkeep.support.models import Guide

pytestmark = pytest.mark.django_db


def _text(guide: Guide) -> str:
    return f"{guide.title}\n{guide.problem}\n{guide.solutions}\n{guide.keywords}"


def test_every_published_guide_names_only_installed_features():
    guides = list(Guide.objects.filter(is_published=True))
    assert {g.slug for g in guides} == set(GUIDE_FEATURES)
    problems = [p for g in guides for p in guide_problems(slug=g.slug, text=_text(g))]
    assert problems == []


# A feature that never exists, so these checks do not depend on what has landed yet.
ABSENT = Feature("teleporter", ("teleporter",), module="shopkeep.no_such_module")


def test_a_guide_mentioning_a_missing_feature_is_caught(monkeypatch):
    monkeypatch.setitem(FEATURES, ABSENT.key, ABSENT)
    problems = guide_problems(slug="store-not-loading", text="Use the teleporter")
    assert problems == ["store-not-loading: mentions 'teleporter' (teleporter) without "
                        "naming it"]


def test_a_guide_naming_a_missing_feature_is_caught(monkeypatch):
    monkeypatch.setitem(FEATURES, ABSENT.key, ABSENT)
    monkeypatch.setitem(GUIDE_FEATURES, "store-not-loading", ("teleporter",))
    problems = guide_problems(slug="store-not-loading", text="Use the teleporter")
    assert problems == ["store-not-loading: names 'teleporter', which is not installed"]


def test_the_discord_guide_is_back_and_sends_owners_to_real_pages():
    guide = Guide.objects.get(slug="discord-roles-not-assigning")
    assert guide.is_published is True
    assert "Settings > Discord" in guide.solutions and "/claim" in guide.solutions
    assert FEATURES["discord_roles"].exists()


def test_features_that_exist_are_found():
    for key in ("stripe", "agent", "retry_delivery", "webhooks", "webhook_test", "api_tokens",
                "password_reset", "two_factor"):
        assert FEATURES[key].exists(), key
