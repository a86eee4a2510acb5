"""A local fake of the PayPal REST API Shopkeep uses, on a real socket (127.0.0.1).

It speaks PayPal's wire format: ``/v1/oauth2/token`` with HTTP Basic and
``grant_type=client_credentials``; Bearer tokens; JSON bodies; ``PayPal-Request-Id`` replays
(the first answer again, for the same app and id); HATEOAS ``links``; errors as
``{"name", "message", "debug_id", "details": [{"issue", "description"}], "links"}`` (and the
OAuth endpoint's ``{"error", "error_description"}``). Webhook events carry the
``PAYPAL-TRANSMISSION-*`` headers, signed SHA256withRSA over
``<transmission id>|<time>|<webhook id>|<crc32 of the body>`` with the fake's own key, and
``/v1/notifications/verify-webhook-signature`` checks that signature for real.

The approval pages PayPal serves on www.paypal.com (``/checkoutnow``, the subscription
approval) are served here too, as small HTML forms a browser test can click.

Methods named after what happens at PayPal (``approve``, ``renew``, ``refund_in_dashboard``,
``dispute``, ``cancel_by_buyer``) change its books and return the webhook events PayPal would
send; ``headers_for`` signs one. ``python -m tests.payments.paypal_fake --port 22080`` runs it
for the demo, delivering those events to the webhooks the apps registered.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import contextlib
import html
import itertools
import json
import re
import threading
import time
import urllib.request
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlsplit

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

PAYMENT_SCOPE = "https://uri.paypal.com/services/payments/payment/authcapture"
BASE_SCOPES = ["https://uri.paypal.com/services/invoicing",
               "https://uri.paypal.com/services/subscriptions",
               "https://uri.paypal.com/services/disputes/read-seller",
               "https://uri.paypal.com/services/applications/webhooks", "openid"]
_counter = itertools.count(1)
INTERVAL_DAYS = {"DAY": 1, "WEEK": 7, "MONTH": 30, "YEAR": 365}


def new_id(prefix: str, width: int = 17) -> str:
    return f"{prefix}{uuid.uuid4().hex.upper()[:width - 6]}{next(_counter):06d}"


def now_iso(offset: timedelta = timedelta()) -> str:
    return (datetime.now(tz=UTC) + offset).strftime("%Y-%m-%dT%H:%M:%SZ")


class PayPalError(Exception):
    def __init__(self, status: int, name: str, issue: str, message: str,
                 description: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.payload = {
            "name": name, "message": message, "debug_id": uuid.uuid4().hex[:13],
            "details": [{"issue": issue, "description": description or message}],
            "links": [{"href": f"https://developer.paypal.com/api/rest/reference/orders/v2/"
                               f"errors/#{issue}", "rel": "information_link"}]}


def unprocessable(issue: str, description: str) -> PayPalError:
    return PayPalError(422, "UNPROCESSABLE_ENTITY", issue, "The requested action could not be "
                       "performed, semantically incorrect, or failed business validation.",
                       description)


def not_found(kind: str) -> PayPalError:
    return PayPalError(404, "RESOURCE_NOT_FOUND", "INVALID_RESOURCE_ID",
                       "The specified resource does not exist.",
                       f"Specified resource ID does not exist: {kind}.")


class FakePayPal:
    def __init__(self, *, deliver: bool = False, port: int = 0) -> None:
        self.lock = threading.RLock()
        self.deliver = deliver
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.server = ThreadingHTTPServer(("127.0.0.1", port), self._handler())
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.reset()

    def reset(self) -> None:
        with self.lock:
            self.apps: dict[str, dict] = {}
            self.tokens: dict[str, str] = {}
            self.objects: dict[str, dict] = {}
            self.idempotent: dict[tuple[str, str], tuple[int, dict]] = {}
            self.requests: list[dict] = []
            self.sent: list[dict] = []
            self.fail_next: PayPalError | None = None
            self.unreachable = False

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def start(self) -> FakePayPal:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    # -- PayPal's side: apps, webhooks and what buyers and PayPal do -------------------------

    def add_app(self, client_id: str, secret: str, *, verified: bool = True) -> dict:
        app = {"client_id": client_id, "secret": secret, "app_id": new_id("APP-"),
               "verified": verified, "webhooks": []}
        self.apps[client_id] = app
        return app

    def add_webhook(self, client_id: str, url: str, events: list[str]) -> dict:
        hook = {"id": new_id("WH-", 25), "url": url,
                "event_types": [{"name": e, "description": e} for e in events]}
        hook["links"] = self._links(f"/v1/notifications/webhooks/{hook['id']}")
        self.apps[client_id]["webhooks"].append(hook)
        return hook

    def event(self, event_type: str, resource: dict, *, resource_type: str = "") -> dict:
        return {"id": new_id("WH-", 25), "event_version": "1.0", "create_time": now_iso(),
                "resource_type": resource_type or event_type.split(".")[-2].lower(),
                "resource_version": "2.0", "event_type": event_type,
                "summary": f"{event_type} happened", "resource": self._public(resource),
                "links": [{"href": f"{self.url}/v1/notifications/webhooks-events/x",
                           "rel": "self", "method": "GET"}]}

    def headers_for(self, body: bytes, webhook_id: str, *, time_: str | None = None) -> dict:
        transmission_id = str(uuid.uuid4())
        when = time_ or now_iso()
        message = f"{transmission_id}|{when}|{webhook_id}|{binascii.crc32(body)}".encode()
        signature = self.key.sign(message, padding.PKCS1v15(), hashes.SHA256())
        return {"PAYPAL-TRANSMISSION-ID": transmission_id, "PAYPAL-TRANSMISSION-TIME": when,
                "PAYPAL-TRANSMISSION-SIG": base64.b64encode(signature).decode(),
                "PAYPAL-CERT-URL": f"{self.url}/v1/notifications/certs/CERT-360caa42-fake",
                "PAYPAL-AUTH-ALGO": "SHA256withRSA"}

    def approve(self, order_id: str) -> list[dict]:
        """The buyer approved the order on PayPal's page."""
        order = self.objects[order_id]
        order["status"] = "APPROVED"
        order["payer"] = {"payer_id": "FAKEPAYER1", "email_address": "buyer@example.com"}
        return self._send([self.event("CHECKOUT.ORDER.APPROVED", order,
                                      resource_type="checkout-order")], order["_app"])

    def approve_subscription(self, sub_id: str, *, pay: bool = True) -> list[dict]:
        sub = self.objects[sub_id]
        plan = self.objects[sub["plan_id"]]
        regular = next(c for c in plan["billing_cycles"] if c["tenure_type"] == "REGULAR")
        trial = [c for c in plan["billing_cycles"] if c["tenure_type"] == "TRIAL"]
        sub["status"] = "ACTIVE"
        sub["start_time"] = now_iso()
        sub["subscriber"] = {"payer_id": "FAKEPAYER1", "email_address": "buyer@example.com"}
        price = regular["pricing_scheme"]["fixed_price"]
        events = []
        if trial:
            days = trial[0]["frequency"]["interval_count"]
            sub["billing_info"] = {"next_billing_time": now_iso(timedelta(days=days)),
                                   "failed_payments_count": 0,
                                   "outstanding_balance": {"currency_code":
                                                           price["currency_code"],
                                                           "value": "0.00"}}
        else:
            days = INTERVAL_DAYS[regular["frequency"]["interval_unit"]]
            sub["billing_info"] = {"next_billing_time": now_iso(timedelta(days=days)),
                                   "last_payment": {"amount": dict(price), "time": now_iso()},
                                   "failed_payments_count": 0,
                                   "outstanding_balance": {"currency_code":
                                                           price["currency_code"],
                                                           "value": "0.00"}}
            if pay:
                events.append(self.event("PAYMENT.SALE.COMPLETED", self._sale(sub, price),
                                         resource_type="sale"))
        events.insert(0, self.event("BILLING.SUBSCRIPTION.ACTIVATED", sub,
                                    resource_type="subscription"))
        return self._send(events, sub["_app"])

    def renew(self, sub_id: str, *, paid: bool = True) -> list[dict]:
        """The billing cycle came round."""
        sub = self.objects[sub_id]
        plan = self.objects[sub["plan_id"]]
        regular = next(c for c in plan["billing_cycles"] if c["tenure_type"] == "REGULAR")
        price = regular["pricing_scheme"]["fixed_price"]
        info = sub["billing_info"]
        due = datetime.fromisoformat(info["next_billing_time"].replace("Z", "+00:00"))
        if not paid:
            info["failed_payments_count"] += 1
            info["last_failed_payment"] = {"amount": dict(price), "time": now_iso(),
                                           "reason_code": "PAYMENT_DENIED"}
            info["outstanding_balance"] = dict(price)
            return self._send([self.event("BILLING.SUBSCRIPTION.PAYMENT.FAILED", sub,
                                          resource_type="subscription")], sub["_app"])
        days = INTERVAL_DAYS[regular["frequency"]["interval_unit"]]
        info["last_payment"] = {"amount": dict(price), "time": info["next_billing_time"]}
        info["next_billing_time"] = (due + timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%SZ")
        return self._send([self.event("PAYMENT.SALE.COMPLETED", self._sale(sub, price),
                                      resource_type="sale")], sub["_app"])

    def cancel_by_buyer(self, sub_id: str) -> list[dict]:
        sub = self.objects[sub_id]
        sub["status"] = "CANCELLED"
        sub["billing_info"].pop("next_billing_time", None)
        return self._send([self.event("BILLING.SUBSCRIPTION.CANCELLED", sub,
                                      resource_type="subscription")], sub["_app"])

    def refund_in_dashboard(self, capture_id: str, value: str) -> list[dict]:
        capture = self.objects[capture_id]
        refund = self._refund(capture, {"amount": {"currency_code":
                                                   capture["amount"]["currency_code"],
                                                   "value": value}})
        return self._send([self.event("PAYMENT.CAPTURE.REFUNDED", refund,
                                      resource_type="refund")], capture["_app"])

    def dispute(self, capture_id: str, *, status: str = "OPEN", dispute_id: str = "",
                reason: str = "MERCHANDISE_OR_SERVICE_NOT_RECEIVED", outcome: str = "",
                stage: str = "CHARGEBACK") -> list[dict]:
        capture = self.objects[capture_id]
        if "billing_agreement_id" in capture:  # a subscription's sale: v1 money and custom
            capture = {**capture, "custom_id": capture["custom"],
                       "amount": {"currency_code": capture["amount"]["currency"],
                                  "value": capture["amount"]["total"]}}
        dispute = {"dispute_id": dispute_id or new_id("PP-D-"), "create_time": now_iso(),
                   "update_time": now_iso(), "reason": reason, "status": status,
                   "dispute_state": "REQUIRED_ACTION" if status != "RESOLVED" else
                   "RESOLVED", "dispute_amount": dict(capture["amount"]),
                   "dispute_life_cycle_stage": stage, "dispute_channel": "INTERNAL",
                   "seller_response_due_date": now_iso(timedelta(days=10)),
                   "disputed_transactions": [{
                       "seller_transaction_id": capture["id"],
                       "buyer_transaction_id": new_id("BT"),
                       "create_time": capture["create_time"], "transaction_status": "COMPLETED",
                       "gross_amount": dict(capture["amount"]),
                       "custom": capture.get("custom_id", "")}],
                   "links": self._links(f"/v1/customer/disputes/{dispute_id}")}
        if outcome:
            dispute["dispute_outcome"] = {"outcome_code": outcome}
        kind = "CUSTOMER.DISPUTE.RESOLVED" if status == "RESOLVED" else "CUSTOMER.DISPUTE.CREATED"
        return self._send([self.event(kind, dispute, resource_type="dispute")],
                          capture["_app"])

    def capture_event(self, capture_id: str) -> dict:
        capture = self.objects[capture_id]
        kind = {"COMPLETED": "PAYMENT.CAPTURE.COMPLETED", "DECLINED": "PAYMENT.CAPTURE.DECLINED",
                "PENDING": "PAYMENT.CAPTURE.PENDING"}[capture["status"]]
        return self.event(kind, capture, resource_type="capture")

    def captures_of(self, order_id: str) -> list[dict]:
        return self.objects[order_id]["purchase_units"][0]["payments"]["captures"]

    # -- the books ---------------------------------------------------------------------------

    @staticmethod
    def _public(obj: dict) -> dict:
        return json.loads(json.dumps({k: v for k, v in obj.items() if not k.startswith("_")}))

    def _links(self, path: str, *extra: tuple[str, str, str]) -> list[dict]:
        links = [{"href": f"{self.url}{path}", "rel": "self", "method": "GET"}]
        links += [{"href": href, "rel": rel, "method": method} for href, rel, method in extra]
        return links

    def _sale(self, sub: dict, price: dict) -> dict:
        sale = {"id": new_id("SALE"), "state": "completed", "billing_agreement_id": sub["id"],
                "amount": {"total": price["value"], "currency": price["currency_code"]},
                "custom": sub.get("custom_id", ""), "create_time": now_iso(),
                "update_time": now_iso(), "_app": sub["_app"]}
        self.objects[sale["id"]] = sale
        return sale

    def _capture(self, order: dict) -> dict:
        unit = order["purchase_units"][0]
        declined = order.get("_decline", False)
        capture = {"id": new_id("CAP"), "status": "DECLINED" if declined else "COMPLETED",
                   "amount": dict(unit["amount"]), "final_capture": True,
                   "custom_id": unit.get("custom_id", ""), "create_time": now_iso(),
                   "update_time": now_iso(), "_app": order["_app"], "_kind": "capture",
                   "_refunded": Decimal("0"), "_order": order["id"],
                   "supplementary_data": {"related_ids": {"order_id": order["id"]}}}
        if declined:
            capture["status_details"] = {"reason": "DECLINED_BY_RISK_FRAUD_FILTERS"}
        capture["links"] = self._links(
            f"/v2/payments/captures/{capture['id']}",
            (f"{self.url}/v2/payments/captures/{capture['id']}/refund", "refund", "POST"),
            (f"{self.url}/v2/checkout/orders/{order['id']}", "up", "GET"))
        self.objects[capture["id"]] = capture
        unit["payments"] = {"captures": [self._public(capture)], "refunds": []}
        order["status"] = "COMPLETED"
        return capture

    def _refund(self, capture: dict, body: dict) -> dict:
        total = Decimal(capture["amount"]["value"])
        left = total - capture["_refunded"]
        if left <= 0:
            raise unprocessable("CAPTURE_FULLY_REFUNDED", "The capture has already been "
                                "fully refunded.")
        amount = body.get("amount") or {"currency_code": capture["amount"]["currency_code"],
                                         "value": str(left)}
        value = Decimal(str(amount.get("value")))
        if amount.get("currency_code") != capture["amount"]["currency_code"]:
            raise unprocessable("REFUND_CURRENCY_MISMATCH", "Refund must be in the same "
                                "currency as the capture.")
        if value <= 0 or value > left:
            raise unprocessable("REFUND_AMOUNT_EXCEEDED", "The refund amount must be less "
                                "than or equal to the capture amount that has not yet been "
                                "refunded.")
        capture["_refunded"] += value
        if capture["_refunded"] == total:
            capture["status"] = "REFUNDED"
        else:
            capture["status"] = "PARTIALLY_REFUNDED"
        refund = {"id": new_id("REF"), "status": "COMPLETED", "amount": dict(amount),
                  "custom_id": body.get("custom_id", ""),
                  "note_to_payer": body.get("note_to_payer", ""), "create_time": now_iso(),
                  "update_time": now_iso(), "_app": capture["_app"], "_kind": "refund"}
        refund["links"] = self._links(
            f"/v2/payments/refunds/{refund['id']}",
            (f"{self.url}/v2/payments/captures/{capture['id']}", "up", "GET"))
        self.objects[refund["id"]] = refund
        order = self.objects[capture["_order"]]
        payments = order["purchase_units"][0]["payments"]
        payments["refunds"].append(self._public(refund))
        payments["captures"] = [self._public(capture)]
        return refund

    def _send(self, events: list[dict], client_id: str) -> list[dict]:
        if self.deliver:
            for event in events:
                threading.Thread(target=self._post, args=(event, client_id),
                                 daemon=True).start()
        return events

    def _post(self, event: dict, client_id: str) -> None:
        body = json.dumps(event).encode()
        for hook in self.apps[client_id]["webhooks"]:
            names = {t["name"] for t in hook["event_types"]}
            if event["event_type"] not in names and "*" not in names:
                continue
            request = urllib.request.Request(hook["url"], data=body, method="POST", headers={
                "Content-Type": "application/json",
                **self.headers_for(body, hook["id"])})
            time.sleep(0.2)  # after the API answer that caused it, as PayPal would
            with contextlib.suppress(OSError):
                urllib.request.urlopen(request, timeout=10).close()
            self.sent.append({"url": hook["url"], "event": event})

    # -- the API -----------------------------------------------------------------------------

    def _app_of(self, headers) -> dict:
        token = (headers.get("Authorization") or "").removeprefix("Bearer ")
        client_id = self.tokens.get(token)
        if client_id is None:
            raise _OAuthError(401, "invalid_token", "Token signature verification failed")
        return self.apps[client_id]

    def _get(self, oid: str, app: dict, kind: str) -> dict:
        obj = self.objects.get(oid)
        if obj is None or obj.get("_app") != app["client_id"] or obj.get("_kind") != kind:
            raise not_found(kind)
        return obj

    def token(self, headers, form: dict) -> tuple[int, dict]:
        raw = (headers.get("Authorization") or "").removeprefix("Basic ")
        try:
            client_id, secret = base64.b64decode(raw).decode().split(":", 1)
        except (ValueError, binascii.Error):
            client_id, secret = "", ""
        app = self.apps.get(client_id)
        if app is None or app["secret"] != secret:
            raise _OAuthError(401, "invalid_client", "Client Authentication failed")
        if form.get("grant_type") != ["client_credentials"]:
            raise _OAuthError(400, "unsupported_grant_type", "Grant Type is NULL")
        token = "A21AA" + uuid.uuid4().hex + uuid.uuid4().hex
        self.tokens[token] = client_id
        scopes = BASE_SCOPES + ([PAYMENT_SCOPE] if app["verified"] else [])
        return 200, {"scope": " ".join(scopes), "access_token": token, "token_type": "Bearer",
                     "app_id": app["app_id"], "expires_in": 32400,
                     "nonce": now_iso() + uuid.uuid4().hex[:20]}

    def handle(self, method: str, path: str, body: dict | list, app: dict
               ) -> tuple[int, dict | None]:
        route = (method, re.sub(r"/(orders|captures|subscriptions|webhooks|plans|products)/"
                                r"[A-Za-z0-9\-]+", r"/\1/{id}", path))
        ids = re.findall(r"/(?:orders|captures|subscriptions|webhooks)/([A-Za-z0-9\-]+)", path)
        if route == ("POST", "/v2/checkout/orders"):
            return 201, self._public(self._create_order(body, app))
        if route == ("GET", "/v2/checkout/orders/{id}"):
            return 200, self._public(self._get(ids[0], app, "order"))
        if route == ("POST", "/v2/checkout/orders/{id}/capture"):
            order = self._get(ids[0], app, "order")
            if order["status"] == "COMPLETED":
                raise unprocessable("ORDER_ALREADY_CAPTURED", "Order already captured. If "
                                    "'intent=CAPTURE' only one capture per order is allowed.")
            if order["status"] != "APPROVED":
                raise unprocessable("ORDER_NOT_APPROVED", "Payer has not yet approved the "
                                    "Order for payment.")
            self._capture(order)
            return 201, self._public(order)
        if route == ("GET", "/v2/payments/captures/{id}"):
            return 200, self._public(self._get(ids[0], app, "capture"))
        if route == ("POST", "/v2/payments/captures/{id}/refund"):
            capture = self._get(ids[0], app, "capture")
            if capture["status"] not in ("COMPLETED", "PARTIALLY_REFUNDED", "REFUNDED"):
                raise unprocessable("CAPTURE_STATUS_NOT_VALID", "Invalid capture status.")
            refund = self._refund(capture, body if isinstance(body, dict) else {})
            return 201, self._public(refund)
        if route == ("POST", "/v1/catalogs/products"):
            if not isinstance(body, dict) or not body.get("name") or not body.get("type"):
                raise PayPalError(400, "INVALID_REQUEST", "MISSING_REQUIRED_PARAMETER",
                                  "Request is not well-formed, syntactically incorrect, or "
                                  "violates schema.", "name and type are required.")
            product = {**body, "id": new_id("PROD-"), "create_time": now_iso(),
                       "_app": app["client_id"], "_kind": "product"}
            product["links"] = self._links(f"/v1/catalogs/products/{product['id']}")
            self.objects[product["id"]] = product
            return 201, self._public(product)
        if route == ("POST", "/v1/billing/plans"):
            return 201, self._public(self._create_plan(body, app))
        if route == ("POST", "/v1/billing/subscriptions"):
            return 201, self._public(self._create_subscription(body, app))
        if route == ("GET", "/v1/billing/subscriptions/{id}"):
            return 200, self._public(self._get(ids[0], app, "subscription"))
        if route == ("POST", "/v1/billing/subscriptions/{id}/cancel"):
            sub = self._get(ids[0], app, "subscription")
            if sub["status"] not in ("ACTIVE", "SUSPENDED", "APPROVED"):
                raise unprocessable("SUBSCRIPTION_STATUS_INVALID", "Invalid subscription "
                                    "status for cancel action; subscription status should be "
                                    "active or suspended.")
            sub["status"] = "CANCELLED"
            sub.get("billing_info", {}).pop("next_billing_time", None)
            return 204, None
        if route == ("POST", "/v1/billing/subscriptions/{id}/capture"):
            sub = self._get(ids[0], app, "subscription")
            info = sub.get("billing_info") or {}
            if Decimal(str((info.get("outstanding_balance") or {}).get("value") or 0)) <= 0:
                raise unprocessable("ZERO_OUTSTANDING_BALANCE", "Current outstanding balance "
                                    "should be greater than zero.")
            info["outstanding_balance"] = {**info["outstanding_balance"], "value": "0.00"}
            return 202, {"status": "COMPLETED", "id": new_id("TX"),
                         "amount_with_breakdown": {"gross_amount": body.get("amount")}}
        if route == ("GET", "/v1/billing/subscriptions/{id}/transactions"):
            self._get(ids[0], app, "subscription")
            sales = [o for o in self.objects.values() if o.get("billing_agreement_id") == ids[0]]
            return 200, {"transactions": [{
                "id": sale["id"], "status": "COMPLETED" if not sale.get("_refunded")
                else "PARTIALLY_REFUNDED", "time": sale["create_time"],
                "amount_with_breakdown": {"gross_amount": {
                    "currency_code": sale["amount"]["currency"],
                    "value": sale["amount"]["total"]}}} for sale in sales],
                "total_items": len(sales), "total_pages": 1}
        if route[0] == "POST" and re.fullmatch(r"/v1/payments/sale/[A-Z0-9]+/refund", path):
            sale = self.objects.get(path.split("/")[4])
            if sale is None or sale.get("_app") != app["client_id"]:
                raise not_found("sale")
            value = Decimal(str((body.get("amount") or {}).get("total") or
                                sale["amount"]["total"]))
            done = Decimal(str(sale.get("_refunded") or 0))
            if value <= 0 or done + value > Decimal(sale["amount"]["total"]):
                raise PayPalError(400, "TRANSACTION_REFUSED", "TRANSACTION_REFUSED",
                                  "The request was refused.",
                                  "The refund amount is more than the sale's remainder.")
            sale["_refunded"] = str(done + value)
            refund = {"id": new_id("SR"), "state": "completed", "sale_id": sale["id"],
                      "amount": {"total": str(value), "currency": sale["amount"]["currency"]},
                      "invoice_number": body.get("invoice_number", ""),
                      "create_time": now_iso(), "_app": app["client_id"], "_kind": "refund"}
            self.objects[refund["id"]] = refund
            return 201, self._public(refund)
        if route == ("GET", "/v1/notifications/webhooks"):
            return 200, {"webhooks": [dict(h) for h in app["webhooks"]]}
        if route == ("POST", "/v1/notifications/webhooks"):
            return 201, self._create_webhook(body, app)
        if route == ("PATCH", "/v1/notifications/webhooks/{id}"):
            hook = next((h for h in app["webhooks"] if h["id"] == ids[0]), None)
            if hook is None:
                raise not_found("webhook")
            for op in body if isinstance(body, list) else []:
                if op.get("op") == "replace" and op.get("path") == "/event_types":
                    hook["event_types"] = [{"name": t["name"], "description": t["name"]}
                                           for t in op["value"]]
            return 200, dict(hook)
        if route == ("POST", "/v1/notifications/verify-webhook-signature"):
            return 200, {"verification_status": self._verify(body, app)}
        raise not_found(f"{method} {path}")

    def _create_order(self, body: dict, app: dict) -> dict:
        units = body.get("purchase_units") if isinstance(body, dict) else None
        if body.get("intent") not in ("CAPTURE", "AUTHORIZE") or not units:
            raise PayPalError(400, "INVALID_REQUEST", "MISSING_REQUIRED_PARAMETER",
                              "Request is not well-formed, syntactically incorrect, or "
                              "violates schema.", "intent and purchase_units are required.")
        amount = units[0].get("amount") or {}
        if not re.fullmatch(r"\d{1,10}(\.\d{2})?", str(amount.get("value") or "")):
            raise unprocessable("DECIMAL_PRECISION", "If the currency supports decimals, "
                                "only two decimal place precision is supported.")
        context = ((body.get("payment_source") or {}).get("paypal") or {}).get(
            "experience_context") or {}
        order = {"id": new_id("", 17), "intent": body["intent"], "create_time": now_iso(),
                 "status": "PAYER_ACTION_REQUIRED" if context else "CREATED",
                 "purchase_units": json.loads(json.dumps(units)),
                 "_app": app["client_id"], "_kind": "order", "_context": context}
        action = f"{self.url}/checkoutnow?token={order['id']}"
        order["links"] = self._links(
            f"/v2/checkout/orders/{order['id']}",
            (action, "payer-action" if context else "approve", "GET"))
        self.objects[order["id"]] = order
        return order

    def _create_plan(self, body: dict, app: dict) -> dict:
        self._get(str(body.get("product_id")), app, "product")
        cycles = body.get("billing_cycles") or []
        if not any(c.get("tenure_type") == "REGULAR" for c in cycles):
            raise unprocessable("INVALID_BILLING_CYCLE", "A plan needs a REGULAR cycle.")
        plan = {**body, "id": new_id("P-", 26), "create_time": now_iso(),
                "_app": app["client_id"], "_kind": "plan"}
        plan["links"] = self._links(f"/v1/billing/plans/{plan['id']}")
        self.objects[plan["id"]] = plan
        return plan

    def _create_subscription(self, body: dict, app: dict) -> dict:
        plan = self._get(str(body.get("plan_id")), app, "plan")
        if plan.get("status") != "ACTIVE":
            raise unprocessable("PLAN_STATUS_INVALID", "Plan status is not active.")
        sub = {"id": new_id("I-", 14), "plan_id": plan["id"], "status": "APPROVAL_PENDING",
               "custom_id": body.get("custom_id", ""), "create_time": now_iso(),
               "status_update_time": now_iso(), "quantity": "1",
               "_app": app["client_id"], "_kind": "subscription",
               "_context": body.get("application_context") or {}}
        token = new_id("BA-", 19)
        sub["_token"] = token
        sub["links"] = self._links(
            f"/v1/billing/subscriptions/{sub['id']}",
            (f"{self.url}/webapps/billing/subscriptions?ba_token={token}", "approve", "GET"))
        self.objects[sub["id"]] = sub
        return sub

    def _create_webhook(self, body: dict, app: dict) -> dict:
        url = str(body.get("url") or "")
        if not url.startswith("https://") and not self.deliver:
            raise PayPalError(400, "INVALID_REQUEST", "INVALID_PARAMETER_SYNTAX",
                              "Request is not well-formed, syntactically incorrect, or "
                              "violates schema.", "The value of a field does not conform to "
                              "the expected format (url must be https).")
        if any(h["url"] == url for h in app["webhooks"]):
            raise PayPalError(400, "WEBHOOK_URL_ALREADY_EXISTS", "WEBHOOK_URL_ALREADY_EXISTS",
                              "Webhook URL already exists.")
        if len(app["webhooks"]) >= 10:
            raise PayPalError(400, "WEBHOOK_NUMBER_LIMIT_EXCEEDED",
                              "WEBHOOK_NUMBER_LIMIT_EXCEEDED",
                              "Maximum number of webhooks exceeded.")
        return self.add_webhook(app["client_id"], url,
                                [t["name"] for t in body.get("event_types") or []])

    def _verify(self, body: dict, app: dict) -> str:
        required = ("auth_algo", "cert_url", "transmission_id", "transmission_sig",
                    "transmission_time", "webhook_id", "webhook_event")
        if not isinstance(body, dict) or any(not body.get(k) for k in required):
            raise PayPalError(400, "VALIDATION_ERROR", "MISSING_REQUIRED_PARAMETER",
                              "Invalid request - see details.", "Missing verification field.")
        if body["webhook_id"] not in {h["id"] for h in app["webhooks"]}:
            return "FAILURE"
        if not str(body["cert_url"]).startswith(f"{self.url}/v1/notifications/certs/"):
            return "FAILURE"
        raw = json.dumps(body["webhook_event"]).encode()
        message = (f"{body['transmission_id']}|{body['transmission_time']}|"
                   f"{body['webhook_id']}|{binascii.crc32(raw)}").encode()
        try:
            self.key.public_key().verify(base64.b64decode(body["transmission_sig"]), message,
                                         padding.PKCS1v15(), hashes.SHA256())
        except (InvalidSignature, ValueError, binascii.Error):
            return "FAILURE"
        return "SUCCESS"

    # -- the approval pages (www.paypal.com) -------------------------------------------------

    def approval_page(self, method: str, path: str, query: dict, form: dict
                      ) -> tuple[int, dict, str]:
        """(status, headers, html) for the buyer's approval of an order or subscription."""
        if path == "/checkoutnow":
            obj = self.objects.get(query.get("token", [""])[0])
            if obj is None or obj.get("_kind") != "order":
                return 404, {}, "<h1>This payment link is not valid.</h1>"
            amount = obj["purchase_units"][0]["amount"]
            back = {"token": obj["id"], "PayerID": "FAKEPAYER1"}
        else:
            token = query.get("ba_token", [""])[0]
            obj = next((o for o in self.objects.values() if o.get("_token") == token), None)
            if obj is None:
                return 404, {}, "<h1>This subscription link is not valid.</h1>"
            plan = self.objects[obj["plan_id"]]
            regular = next(c for c in plan["billing_cycles"] if c["tenure_type"] == "REGULAR")
            amount = regular["pricing_scheme"]["fixed_price"]
            back = {"subscription_id": obj["id"], "ba_token": token, "token": new_id("EC-")}
        context = obj["_context"]
        if method == "POST":
            if form.get("action", [""])[0] == "cancel":
                target = _with_query(context.get("cancel_url", "/"), {"token": obj["id"]})
            else:
                if obj["_kind"] == "order":
                    self.approve(obj["id"])
                else:
                    self.approve_subscription(obj["id"])
                target = _with_query(context.get("return_url", "/"), back)
            return 302, {"Location": target}, ""
        what = "Subscribe" if obj["_kind"] == "subscription" else "Pay"
        page = f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>PayPal (fake) - {what}</title>
<style>body{{font-family:sans-serif;margin:0;background:#f5f7fa}}
main{{max-width:420px;margin:2rem auto;background:#fff;padding:1.5rem;border-radius:8px}}
button{{width:100%;padding:.8rem;margin:.4rem 0;font-size:1rem;border-radius:20px;border:0}}
.pay{{background:#ffc439}} .cancel{{background:#eee}}</style></head><body><main>
<p><strong>PayPal</strong> <small>(Shopkeep's local fake)</small></p>
<h1>{what} {html.escape(amount['value'])} {html.escape(amount['currency_code'])}</h1>
<p>Logged in as buyer@example.com</p>
<form method="post"><button class="pay" name="action" value="approve">{what} now</button>
<button class="cancel" name="action" value="cancel">Cancel and return to the store</button>
</form></main></body></html>"""
        return 200, {"Content-Type": "text/html; charset=utf-8"}, page

    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def _reply(self, status: int, payload: dict | None,
                       headers: dict | None = None, raw: bytes | None = None) -> None:
                data = raw if raw is not None else (
                    b"" if payload is None else json.dumps(payload).encode())
                self.send_response(status)
                for name, value in (headers or {"Content-Type": "application/json"}).items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.send_header("Paypal-Debug-Id", uuid.uuid4().hex[:13])
                self.end_headers()
                self.wfile.write(data)

            def _serve(self, method: str) -> None:
                parts = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                if fake.unreachable:
                    self.close_connection = True
                    return
                if parts.path in ("/checkoutnow", "/webapps/billing/subscriptions"):
                    with fake.lock:
                        status, headers, page = fake.approval_page(
                            method, parts.path, parse_qs(parts.query),
                            parse_qs(raw.decode() or ""))
                    self._reply(status, None, headers or {"Content-Type": "text/html"},
                                page.encode())
                    return
                with fake.lock:
                    try:
                        if parts.path == "/v1/oauth2/token" and method == "POST":
                            status, payload = fake.token(self.headers,
                                                         parse_qs(raw.decode()))
                        else:
                            status, payload = self._api(method, parts.path, raw)
                    except _OAuthError as exc:
                        status, payload = exc.status, exc.payload
                    except PayPalError as exc:
                        status, payload = exc.status, exc.payload
                self._reply(status, payload)

            def _api(self, method: str, path: str, raw: bytes) -> tuple[int, dict | None]:
                app = fake._app_of(self.headers)
                try:
                    body = json.loads(raw) if raw else {}
                except ValueError:
                    raise PayPalError(400, "INVALID_REQUEST", "MALFORMED_REQUEST_JSON",
                                      "Request is not well-formed, syntactically incorrect, "
                                      "or violates schema.") from None
                request_id = self.headers.get("PayPal-Request-Id") or ""
                fake.requests.append({"method": method, "path": path, "body": body,
                                      "request_id": request_id})
                key = (app["client_id"], request_id)
                if request_id and key in fake.idempotent:
                    return fake.idempotent[key]
                if fake.fail_next is not None:
                    error, fake.fail_next = fake.fail_next, None
                    raise error
                result = fake.handle(method, path, body, app)
                if request_id and method == "POST":
                    fake.idempotent[key] = result
                return result

            def do_GET(self) -> None:
                self._serve("GET")

            def do_POST(self) -> None:
                self._serve("POST")

            def do_PATCH(self) -> None:
                self._serve("PATCH")

        return Handler


class _OAuthError(Exception):
    def __init__(self, status: int, error: str, description: str) -> None:
        super().__init__(description)
        self.status = status
        self.payload = {"error": error, "error_description": description}


def _with_query(url: str, params: dict) -> str:
    return url + ("&" if "?" in url else "?") + urlencode(params)


def main() -> None:
    parser = argparse.ArgumentParser(description="A local fake PayPal for the Shopkeep demo.")
    parser.add_argument("--port", type=int, default=22080)
    parser.add_argument("--client-id", default="AfakeSandboxClientIdForTheShopkeepDemo0001")
    parser.add_argument("--secret", default="EfakeSandboxSecretForTheShopkeepDemo000001")
    args = parser.parse_args()
    fake = FakePayPal(deliver=True, port=args.port)
    fake.add_app(args.client_id, args.secret)
    print(f"fake PayPal on {fake.url}: SHOPKEEP_PAYPAL_API_BASE={fake.url}\n"
          f"client id {args.client_id}\nsecret    {args.secret}", flush=True)
    fake.server.serve_forever()


if __name__ == "__main__":
    main()
