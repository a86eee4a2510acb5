"""Every curl example in docs/ runs against a live server, so the docs cannot drift.

The convention (also in docs/README.md):
- A fenced block tagged ``sh``, ``bash`` or ``shell`` that contains a line starting with
  ``curl`` is an example, in any file under docs/ (new files are picked up automatically).
  The whole block is run by ``bash -u`` (so keep other commands out of it).
- ``https://your-shop.example`` and ``$SHOP`` are the live server; the other placeholders are
  ``PLACEHOLDERS`` below (``$ORDER_ID``, ``$KEY``, ...), filled in as text (inside quoted
  JSON too) from a fresh store built for each file. An unknown ``$NAME`` fails the test.
- Every curl must answer 2xx, unless the line before it says ``# expect: 409`` (any status).
- Blocks of one file run in order against the same store (a refund then lists it).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parent.parent / "docs"
FENCE = re.compile(r"^```(sh|bash|shell)[^\n]*\n(.*?)^```", re.M | re.S)
EXPECT = re.compile(r"#\s*expect:\s*(\d{3})")
PUBLIC_BASE = "https://your-shop.example"
PLACEHOLDER_REF = re.compile(r"\$\{?([A-Z][A-Z0-9_]*)\}?")
PLACEHOLDER = re.compile(r"\$\{?([A-Z][A-Z0-9_]*)")

# What each placeholder is; tests/test_docs_curl.py::_world fills every one.
PLACEHOLDERS = {
    "SHOP": "the live server's base URL (also written https://your-shop.example)",
    "KEY": "an API token of the store with every scope",
    "PRODUCT_ID": "a product (one-time, with a purchase command)",
    "ORDER_ID": "a paid order of that product",
    "ORDER_NUMBER": "that order's number",
    "CUSTOMER_ID": "the order's customer",
    "SUBSCRIPTION_ID": "an active subscription",
    "DISPUTE_ID": "an open dispute on another paid order",
    "SERVER_ID": "a game server",
    "STORE_SECRET": "the store secret (agent API)",
    "SERVER_SECRET": "the game server's secret (agent API)",
    "COMMAND_ID": "a pending delivery command of the server",
    "GIFT_CARD_ID": "a gift card of 25.00",
    "HIGHER_PRODUCT_ID": "a second one-time product (a higher tier than PRODUCT_ID)",
}


def examples(text: str) -> list[tuple[str, list[int | None]]]:
    """(script, expected status per curl) for every curl block of a Markdown text."""
    found = []
    for match in FENCE.finditer(text):
        script = match.group(2)
        lines = script.splitlines()
        if not any(line.lstrip().startswith("curl ") for line in lines):
            continue
        expected: list[int | None] = []
        for index, line in enumerate(lines):
            if line.lstrip().startswith("curl "):
                before = lines[index - 1] if index else ""
                hit = EXPECT.search(before)
                expected.append(int(hit.group(1)) if hit else None)
        found.append((script, expected))
    return found


def _doc_files() -> list[Path]:
    return sorted(p for p in DOCS.rglob("*.md") if examples(p.read_text()))


# The bash wrapper: each curl writes its status and body to numbered files.
WRAPPER = r"""
__n=$DOCS_START
curl() {
  __n=$((__n + 1))
  command curl --silent --show-error --max-time 20 --output "$DOCS_OUT/$__n.body" \
    --write-out '%{http_code}' "$@" > "$DOCS_OUT/$__n.status"
}
"""


def _world(base: str, capture) -> dict[str, str]:
    from shopkeep.delivery.models import DeliveryCommand
    from shopkeep.delivery.services import server_create
    from shopkeep.disputes.models import Dispute
    from shopkeep.payments.gateways.sandbox import SandboxGateway
    from shopkeep.promotions.giftcards import gift_card_issue
    from shopkeep.stores.audit import Actor
    from shopkeep.stores.permissions import SCOPES
    from shopkeep.subscriptions.models import Subscription
    from tests.commerce import make_product, make_shop, paid_order
    from tests.factories import make_token, owner_of

    store = make_shop(slug="docs-shop")
    actor = Actor.for_user(owner_of(store))
    _token, key = make_token(store, list(SCOPES), name="docs examples")
    server, server_secret, store_secret = server_create(store=store, actor=actor, name="Survival")
    product = make_product(store)
    order = paid_order(store, product, capture=capture)
    disputed = paid_order(store, product, capture=capture, email="other@example.com")
    with capture(execute=True):
        gateway_id = SandboxGateway().simulate_dispute(payment_id=disputed.gateway_payment_id)
    dispute = Dispute.objects.get(gateway_dispute_id=gateway_id)
    monthly = make_product(store, name="VIP Monthly", price="9.99", type="subscription",
                           billing_interval="month")
    paid_order(store, monthly, capture=capture, email="subscriber@example.com")
    subscription = Subscription.objects.get(store=store)
    command = DeliveryCommand.objects.filter(order=order).order_by("id").first()
    card = gift_card_issue(store=store, actor=actor, amount="25.00")
    higher = make_product(store, name="MVP Rank", price="49.99")
    values = {
        "SHOP": base, "KEY": key, "PRODUCT_ID": product.pk, "ORDER_ID": order.pk,
        "ORDER_NUMBER": order.order_number, "CUSTOMER_ID": order.customer_id,
        "SUBSCRIPTION_ID": subscription.pk, "DISPUTE_ID": dispute.pk, "SERVER_ID": server.pk,
        "STORE_SECRET": store_secret, "SERVER_SECRET": server_secret,
        "COMMAND_ID": command.pk if command else 0, "GIFT_CARD_ID": card.pk,
        "HIGHER_PRODUCT_ID": higher.pk,
    }
    assert set(values) == set(PLACEHOLDERS)
    return {name: str(value) for name, value in values.items()}


def test_the_examples_are_found_in_every_file_that_has_them():
    files = {p.name for p in _doc_files()}
    assert {"api.md", "api-commerce.md"} <= files
    assert sum(len(examples(p.read_text())) for p in _doc_files()) >= 8
    text = "```sh\n# expect: 409\ncurl -X POST x \\\n  -d '{\n}'\ncurl y\n```\n"
    assert examples(text) == [("# expect: 409\ncurl -X POST x \\\n  -d '{\n}'\ncurl y\n",
                               [409, None])]
    assert examples("```json\ncurl x\n```\n") == []


@pytest.mark.skipif(shutil.which("curl") is None, reason="needs curl")
@pytest.mark.parametrize("doc", _doc_files(), ids=lambda p: p.name)
def test_every_curl_example_of_the_file_answers_as_documented(doc, live_server,
                                                              django_capture_on_commit_callbacks,
                                                              tmp_path):
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "DOCS_OUT": str(tmp_path),
           **_world(live_server.url, django_capture_on_commit_callbacks)}
    failures = []
    done = 0
    for number, (script, expected) in enumerate(examples(doc.read_text()), 1):
        unknown = sorted(set(PLACEHOLDER.findall(script)) - set(PLACEHOLDERS))
        if unknown:
            failures.append(f"block {number}: unknown placeholders {unknown}; add them to "
                            "PLACEHOLDERS and _world in tests/test_docs_curl.py")
            continue
        # Textual, so a placeholder inside a single-quoted JSON body is filled in too.
        runnable = PLACEHOLDER_REF.sub(lambda m: env[m.group(1)],
                                       script.replace(PUBLIC_BASE, "$SHOP"))
        result = subprocess.run(["bash", "-u", "-c", WRAPPER + runnable],
                                env={**env, "DOCS_START": str(done)},
                                capture_output=True, text=True, timeout=120)
        if result.returncode != 0:
            failures.append(f"block {number}: bash exited {result.returncode}: "
                            f"{result.stderr.strip()[:300]}")
        calls = sorted(tmp_path.glob("*.status"), key=lambda p: int(p.stem))[done:]
        if len(calls) != len(expected):
            failures.append(f"block {number}: {len(expected)} curl lines, {len(calls)} ran")
        for status_file, want in zip(calls, expected, strict=False):
            status = int(status_file.read_text() or 0)
            body = (tmp_path / f"{status_file.stem}.body").read_bytes()[:300]
            ok = status == want if want else 200 <= status < 300
            if not ok:
                failures.append(f"block {number}: answered {status} (expected "
                                f"{want or '2xx'}): {body!r}")
        done += len(calls)
    assert failures == [], f"{doc.name}:\n" + "\n".join(failures)
