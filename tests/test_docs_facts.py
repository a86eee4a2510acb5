"""Facts the docs state that are not curl examples, checked against the code."""

from __future__ import annotations

import re
from pathlib import Path

from django.conf import settings

DOCS = Path(__file__).resolve().parent.parent / "docs"


def _all_docs() -> str:
    return "\n".join(p.read_text() for p in sorted(DOCS.rglob("*.md")))


def test_the_agent_rate_limit_default_is_the_one_documented():
    text = (DOCS / "agent-api.md").read_text()
    match = re.search(r"default (\d+) requests a minute, `SHOPKEEP_AGENT_RATE_LIMIT`", text)
    assert match is not None
    assert int(match.group(1)) == settings.SHOPKEEP_AGENT_RATE_LIMIT == 600


def test_the_docs_name_the_dispute_events_shopkeep_emits():
    from shopkeep.events.catalogue import EVENT_TYPES

    assert "dispute.resolved" in EVENT_TYPES and "dispute.closed" not in EVENT_TYPES
    # Stripe's own "charge.dispute.closed" is fine; Shopkeep's event is dispute.resolved.
    assert re.findall(r"(?<![.\w])dispute\.closed", _all_docs()) == []
