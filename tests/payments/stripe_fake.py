"""A local fake of the few Stripe API endpoints Shopkeep calls, on a real socket.

It speaks Stripe's wire format: form-encoded requests with bracketed keys, Bearer keys, JSON
objects with ``object`` and ``id``, lists as ``{"object": "list", "data": [...]}``, errors as
``{"error": {"type", "code", "message"}}``, and ``Idempotency-Key`` replays. The stripe library
is pointed at it through ``SHOPKEEP_STRIPE_API_BASE`` (``settings.STRIPE_API_BASE``).

Methods named after what happens at Stripe (``complete_session``, ``renew``,
``refund_in_dashboard``, ``dispute``) change its books and return the webhook events Stripe
would send; ``sign`` signs them with Stripe's scheme (``t=<unix>,v1=<hex HMAC-SHA256 of
"t.body">``), written here independently of the library that verifies them.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

API_VERSION = "2026-10-28.endive"
_counter = itertools.count(1)


def new_id(prefix: str) -> str:
    return f"{prefix}_fake{next(_counter):06d}"


def decode_form(pairs: list[tuple[str, str]]) -> dict:
    """``a[b][0][c]=v`` -> {"a": {"b": [{"c": "v"}]}} (Stripe's encoding)."""
    root: dict = {}
    for key, value in pairs:
        parts = re.findall(r"[^\[\]]+", key)
        node = root
        for i, part in enumerate(parts):
            last = i == len(parts) - 1
            nxt = None if last else parts[i + 1]
            if isinstance(node, list):
                index = int(part)
                while len(node) <= index:
                    node.append({})
                if last:
                    node[index] = value
                else:
                    if not node[index]:
                        node[index] = [] if nxt.isdigit() else {}
                    node = node[index]
            else:
                if last:
                    node[part] = value
                else:
                    node = node.setdefault(part, [] if nxt.isdigit() else {})
    return root


def sign(body: bytes, secret: str, timestamp: int | None = None) -> str:
    timestamp = int(time.time()) if timestamp is None else timestamp
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


class FakeStripe:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.accounts: dict[str, dict] = {}  # secret key -> account
        self.endpoints: dict[str, list[dict]] = {}  # account id -> webhook endpoints
        self.objects: dict[str, dict] = {}  # every object by id
        self.idempotent: dict[tuple[str, str], dict] = {}
        self.requests: list[dict] = []
        self.fail_next: dict | None = None
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def start(self) -> FakeStripe:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    # -- Stripe's side: accounts and what happens in Stripe's dashboard ----------------------

    def add_account(self, key: str, *, charges_enabled: bool = True, name: str = "Block Shop",
                    webhook_url: str | None = None, events: list[str] | None = None,
                    endpoint_status: str = "enabled") -> dict:
        account = {"id": new_id("acct"), "object": "account", "charges_enabled": charges_enabled,
                   "details_submitted": charges_enabled, "business_profile": {"name": name},
                   "settings": {"dashboard": {"display_name": name}}, "email": "o@example.com"}
        self.accounts[key] = account
        self.endpoints[account["id"]] = []
        if webhook_url:
            self.add_endpoint(account["id"], webhook_url, events or [], status=endpoint_status)
        return account

    def add_endpoint(self, account_id: str, url: str, events: list[str], *,
                     status: str = "enabled") -> None:
        self.endpoints[account_id].append({
            "id": new_id("we"), "object": "webhook_endpoint", "url": url,
            "enabled_events": events, "status": status, "api_version": API_VERSION})

    def event(self, kind: str, obj: dict, *, livemode: bool = False,
              previous: dict | None = None) -> dict:
        data = {"object": json.loads(json.dumps(obj))}
        if previous:
            data["previous_attributes"] = previous
        return {"id": new_id("evt"), "object": "event", "api_version": API_VERSION,
                "created": int(time.time()), "livemode": livemode, "type": kind,
                "data": data, "pending_webhooks": 1, "request": {"id": None}}

    def complete_session(self, session_id: str) -> list[dict]:
        """The buyer paid on Stripe's page."""
        session = self.objects[session_id]
        session["status"], session["payment_status"] = "complete", "paid"
        amount = int(session["_amount"])
        if session["mode"] == "payment":
            intent = self._intent(amount, session["currency"],
                                  session.get("_intent_metadata", {}))
            session["payment_intent"] = intent["id"]
            session["amount_total"] = amount
            return [self.event("checkout.session.completed", self._public(session)),
                    self.event("payment_intent.succeeded", intent)]
        now = int(time.time())
        trial_days = int(session.get("_trial_days") or 0)
        end = now + (trial_days * 86400 if trial_days else 30 * 86400)
        sub = {"id": new_id("sub"), "object": "subscription", "status":
               "trialing" if trial_days else "active",
               "customer": session.get("customer") or new_id("cus"),
               "cancel_at_period_end": False, "metadata": session["_sub_metadata"],
               "_amount": amount, "currency": session["currency"],
               "items": {"object": "list", "data": [{
                   "id": new_id("si"), "object": "subscription_item",
                   "price": session["_params"].get("_price") or {"id": new_id("price")},
                   "current_period_start": now,
                   "current_period_end": end}]}}
        self.objects[sub["id"]] = sub
        session["subscription"] = sub["id"]
        # A "once" coupon comes off the first invoice only; renewals bill ``_amount``.
        off = sum(int(self.objects[d["coupon"]]["amount_off"])
                  for d in session["_params"].get("discounts", []))
        invoice = self._invoice(sub, "subscription_create",
                                0 if trial_days else max(amount - off, 0), now, end, paid=True)
        sub["latest_invoice"] = invoice["id"]
        events = [self.event("checkout.session.completed", self._public(session)),
                  self.event("invoice.paid", self._public(invoice))]
        if session["_params"].get("_price"):  # Billing also announces the subscription
            events.insert(1, self.event("customer.subscription.created", self._public(sub)))
        return events

    def change_plan_in_portal(self, sub_id: str, price_id: str) -> list[dict]:
        """The owner switched plans in the customer portal; Stripe prorates (the fake
        bills the difference for the rest of the period as one invoice)."""
        sub = self.objects[sub_id]
        item = sub["items"]["data"][0]
        old, new = item["price"], self._get(price_id, "price")
        item["price"] = new
        sub["_amount"] = new["unit_amount"]
        now = int(time.time())
        share = (item["current_period_end"] - now) / max(
            1, item["current_period_end"] - item["current_period_start"])
        diff = max(0, round((new["unit_amount"] - old.get("unit_amount", 0)) * share))
        invoice = self._invoice(sub, "subscription_update", diff, now,
                                item["current_period_end"], paid=True)
        return [self.event("customer.subscription.updated", self._public(sub),
                           previous={"items": {"data": [{"price": old}]}}),
                self.event("invoice.paid", self._public(invoice))]

    def renew(self, sub_id: str, *, paid: bool = True) -> list[dict]:
        """The billing cycle came round. Like Stripe, the period moves on either way."""
        sub = self.objects[sub_id]
        item = sub["items"]["data"][0]
        start = item["current_period_end"]
        end = start + 30 * 86400
        item["current_period_start"], item["current_period_end"] = start, end
        sub["status"] = "active" if paid else "past_due"
        invoice = self._invoice(sub, "subscription_cycle", sub["_amount"], start, end, paid=paid)
        sub["latest_invoice"] = invoice["id"]
        kind = "invoice.paid" if paid else "invoice.payment_failed"
        return [self.event(kind, self._public(invoice)),
                self.event("customer.subscription.updated", self._public(sub))]

    def cancel_in_dashboard(self, sub_id: str, *, at_period_end: bool = False) -> list[dict]:
        sub = self.objects[sub_id]
        if at_period_end:
            sub["cancel_at_period_end"] = True
            return [self.event("customer.subscription.updated", self._public(sub))]
        sub["status"] = "canceled"
        return [self.event("customer.subscription.deleted", self._public(sub))]

    def refund_in_dashboard(self, charge_id: str, amount: int) -> list[dict]:
        charge = self.objects[charge_id]
        self._refund(charge, amount, metadata={})
        return [self.event("charge.refunded", self._public(charge))]

    def charge_refunded_event(self, charge_id: str) -> dict:
        return self.event("charge.refunded", self._public(self.objects[charge_id]))

    def dispute(self, charge_id: str, *, status: str = "needs_response",
                dispute_id: str | None = None, reason: str = "fraudulent") -> dict:
        charge = self.objects[charge_id]
        dispute = {"id": dispute_id or new_id("dp"), "object": "dispute",
                   "amount": charge["amount"] - charge["amount_refunded"],
                   "currency": charge["currency"], "charge": charge["id"],
                   "payment_intent": charge["payment_intent"], "reason": reason,
                   "status": status, "created": int(time.time()),
                   "evidence_details": {"due_by": int(time.time()) + 10 * 86400}}
        kind = "charge.dispute.created" if status == "needs_response" else "charge.dispute.closed"
        return self.event(kind, dispute)

    def charge_of(self, intent_id: str) -> dict:
        return self.objects[self.objects[intent_id]["latest_charge"]]

    # -- the books ---------------------------------------------------------------------------

    @staticmethod
    def _public(obj: dict) -> dict:
        return {k: v for k, v in obj.items() if not k.startswith("_")}

    def _intent(self, amount: int, currency: str, metadata: dict) -> dict:
        intent = {"id": new_id("pi"), "object": "payment_intent", "amount": amount,
                  "amount_received": amount, "currency": currency, "status": "succeeded",
                  "metadata": metadata, "customer": None}
        charge = {"id": new_id("ch"), "object": "charge", "amount": amount,
                  "amount_refunded": 0, "currency": currency, "payment_intent": intent["id"],
                  "refunded": False, "metadata": {}, "status": "succeeded"}
        intent["latest_charge"] = charge["id"]
        self.objects[intent["id"]] = intent
        self.objects[charge["id"]] = charge
        return intent

    def _invoice(self, sub: dict, reason: str, amount: int, start: int, end: int, *,
                 paid: bool) -> dict:
        number = f"SK-{len(self._of_type('invoice')) + 1:04d}"
        invoice = {"id": new_id("in"), "object": "invoice", "billing_reason": reason,
                   "number": number, "created": int(time.time()),
                   "hosted_invoice_url": f"https://invoice.stripe.com/i/{number}",
                   "invoice_pdf": f"https://pay.stripe.com/invoice/{number}/pdf",
                   "customer": sub["customer"], "currency": sub["currency"],
                   "amount_paid": amount if paid else 0, "amount_due": amount,
                   "status": "paid" if paid else "open", "attempt_count": 1,
                   "parent": {"type": "subscription_details", "subscription_details": {
                       "subscription": sub["id"], "metadata": sub["metadata"]}},
                   "lines": {"object": "list", "data": [{
                       "id": new_id("il"), "object": "line_item", "amount": amount,
                       "period": {"start": start, "end": end},
                       "pricing": {"price_details": {
                           "price": sub["items"]["data"][0]["price"]["id"]}},
                       "metadata": sub["metadata"]}]}}
        self.objects[invoice["id"]] = invoice
        if paid and amount:
            intent = self._intent(amount, sub["currency"], {})
            self._pay_invoice(invoice, intent)
        return invoice

    def _pay_invoice(self, invoice: dict, intent: dict) -> None:
        payment = {"id": new_id("inpay"), "object": "invoice_payment",
                   "invoice": invoice["id"], "status": "paid",
                   "amount_paid": intent["amount"],
                   "payment": {"type": "payment_intent", "payment_intent": intent["id"]}}
        self.objects[payment["id"]] = payment

    def _refund(self, charge: dict, amount: int, *, metadata: dict) -> dict:
        if amount <= 0 or charge["amount_refunded"] + amount > charge["amount"]:
            raise _StripeError(400, "invalid_request_error", "amount_too_large",
                               f"Refund amount ({amount}) is greater than unrefunded amount.")
        charge["amount_refunded"] += amount
        charge["refunded"] = charge["amount_refunded"] == charge["amount"]
        refund = {"id": new_id("re"), "object": "refund", "amount": amount,
                  "charge": charge["id"], "payment_intent": charge["payment_intent"],
                  "currency": charge["currency"], "status": "succeeded",
                  "metadata": metadata, "created": int(time.time())}
        self.objects[refund["id"]] = refund
        return refund

    # -- the API -----------------------------------------------------------------------------

    def _of_type(self, kind: str) -> list[dict]:
        return [o for o in self.objects.values() if o.get("object") == kind]

    def _get(self, oid: str, kind: str) -> dict:
        obj = self.objects.get(oid)
        if obj is None or obj.get("object") != kind:
            raise _StripeError(404, "invalid_request_error", "resource_missing",
                               f"No such {kind}: '{oid}'")
        return obj

    def handle(self, method: str, path: str, params: dict, key: str) -> tuple[int, dict]:
        account = self.accounts.get(key)
        if account is None:
            masked = key[:8] + "*" * max(0, len(key) - 12) + key[-4:]
            raise _StripeError(401, "invalid_request_error", None,
                               f"Invalid API Key provided: {masked}")
        route = (method, re.sub(r"/(cs|pi|ch|sub|in|re|dp|cus)_[A-Za-z0-9]+", r"/{\1}", path))
        ids = re.findall(r"/((?:cs|pi|ch|sub|in|re|cus)_[A-Za-z0-9]+)", path)
        if route == ("GET", "/v1/account"):
            return 200, account
        if route == ("GET", "/v1/webhook_endpoints"):
            return 200, _list(self.endpoints[account["id"]])
        if route == ("POST", "/v1/coupons"):
            coupon = {"id": new_id("co"), "object": "coupon",
                      "amount_off": int(params["amount_off"]), "currency": params["currency"],
                      "duration": params["duration"], "metadata": params.get("metadata", {}),
                      "max_redemptions": int(params.get("max_redemptions") or 0) or None}
            self.objects[coupon["id"]] = coupon
            return 200, coupon
        if route == ("POST", "/v1/customers"):
            customer = {"id": new_id("cus"), "object": "customer",
                        "email": params.get("email"), "name": params.get("name"),
                        "metadata": params.get("metadata", {})}
            self.objects[customer["id"]] = customer
            return 200, customer
        if route == ("POST", "/v1/customers/{cus}"):
            customer = self._get(ids[0], "customer")
            customer.update({k: v for k, v in params.items() if k in ("email", "name")})
            return 200, customer
        if route == ("POST", "/v1/billing_portal/sessions"):
            customer = self._get(params["customer"], "customer")
            portal = {"id": new_id("bps"), "object": "billing_portal.session",
                      "customer": customer["id"], "return_url": params.get("return_url"),
                      "url": f"https://billing.stripe.com/p/session/{new_id('test')}"}
            return 200, portal
        if route == ("GET", "/v1/invoices"):
            return 200, _list([i for i in self._of_type("invoice")
                               if i["customer"] == params.get("customer")])
        if route == ("POST", "/v1/checkout/sessions"):
            return 200, self._public(self._create_session(params))
        if route == ("GET", "/v1/checkout/sessions/{cs}"):
            return 200, self._public(self._get(ids[0], "checkout.session"))
        if route == ("POST", "/v1/checkout/sessions/{cs}/expire"):
            session = self._get(ids[0], "checkout.session")
            if session["status"] != "open":
                raise _StripeError(400, "invalid_request_error", "checkout_session_not_open",
                                   "Only Checkout Sessions with a status of open can be expired.")
            session["status"] = "expired"
            return 200, self._public(session)
        if route == ("POST", "/v1/refunds"):
            target = params.get("charge") or self._get(params["payment_intent"],
                                                       "payment_intent")["latest_charge"]
            refund = self._refund(self._get(target, "charge"), int(params["amount"]),
                                  metadata=params.get("metadata", {}))
            return 200, refund
        if route == ("GET", "/v1/refunds"):
            return 200, _list([r for r in self._of_type("refund")
                               if r["charge"] == params.get("charge")
                               or (params.get("payment_intent")
                                   and r["payment_intent"] == params["payment_intent"])])
        if route == ("GET", "/v1/subscriptions/{sub}"):
            return 200, self._public(self._get(ids[0], "subscription"))
        if route == ("POST", "/v1/subscriptions/{sub}"):
            sub = self._get(ids[0], "subscription")
            if "cancel_at_period_end" in params:
                sub["cancel_at_period_end"] = params["cancel_at_period_end"] == "true"
            return 200, self._public(sub)
        if route == ("DELETE", "/v1/subscriptions/{sub}"):
            sub = self._get(ids[0], "subscription")
            sub["status"] = "canceled"
            return 200, self._public(sub)
        if route == ("GET", "/v1/invoices/{in}"):
            return 200, self._public(self._get(ids[0], "invoice"))
        if route == ("POST", "/v1/invoices/{in}/pay"):
            return self._pay(self._get(ids[0], "invoice"))
        if route == ("GET", "/v1/invoice_payments"):
            wanted_invoice = params.get("invoice")
            wanted_intent = params.get("payment", {}).get("payment_intent")
            return 200, _list([p for p in self._of_type("invoice_payment")
                               if (wanted_invoice and p["invoice"] == wanted_invoice)
                               or (wanted_intent
                                   and p["payment"]["payment_intent"] == wanted_intent)])
        raise _StripeError(404, "invalid_request_error", None,
                           f"Unrecognized request URL ({method}: {path}).")

    def add_price(self, amount: int, *, currency: str = "usd", interval: str = "month",
                  product: str = "Plan") -> str:
        """A recurring Price on the platform's account (what the operator creates in
        Stripe's dashboard and pastes into a plan)."""
        price = {"id": new_id("price"), "object": "price", "unit_amount": amount,
                 "currency": currency, "recurring": {"interval": interval},
                 "product": new_id("prod"), "nickname": product, "type": "recurring"}
        self.objects[price["id"]] = price
        return price["id"]

    def _create_session(self, params: dict) -> dict:
        line = params["line_items"][0]
        if "price" in line:  # Stripe Billing: a Price id instead of inline price data
            known = self._get(line["price"], "price")
            line = {**line, "price_data": {"currency": known["currency"],
                                           "unit_amount": known["unit_amount"]}}
            params = {**params, "_price": known}
        price = line["price_data"]
        session = {"id": new_id("cs"), "object": "checkout.session", "mode": params["mode"],
                   "status": "open", "payment_status": "unpaid", "url": "",
                   "client_reference_id": params.get("client_reference_id"),
                   "customer_email": params.get("customer_email"),
                   "metadata": params.get("metadata", {}), "currency": price["currency"],
                   "success_url": params["success_url"], "payment_intent": None,
                   "subscription": None, "amount_total": int(price["unit_amount"]),
                   "_amount": int(price["unit_amount"]),
                   "_intent_metadata": params.get("payment_intent_data", {}).get("metadata", {}),
                   "_sub_metadata": params.get("subscription_data", {}).get("metadata", {}),
                   "_trial_days": params.get("subscription_data", {}).get("trial_period_days"),
                   "_params": params, "customer": params.get("customer")}
        session["url"] = f"https://checkout.stripe.com/c/pay/{session['id']}"
        self.objects[session["id"]] = session
        return session

    def _pay(self, invoice: dict) -> tuple[int, dict]:
        if invoice["status"] == "paid":
            raise _StripeError(400, "invalid_request_error", "invoice_already_paid",
                               "Invoice is already paid")
        if self.fail_next:
            error, self.fail_next = self.fail_next, None
            raise _StripeError(402, "card_error", error["code"], error["message"])
        invoice["status"], invoice["amount_paid"] = "paid", invoice["amount_due"]
        return 200, self._public(invoice)

    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def _serve(self, method: str) -> None:
                parts = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode() if length else ""
                pairs = parse_qsl(parts.query) + parse_qsl(body)
                params = decode_form(pairs)
                key = (self.headers.get("Authorization") or "").removeprefix("Bearer ")
                idem = self.headers.get("Idempotency-Key") or ""
                with fake.lock:
                    fake.requests.append({"method": method, "path": parts.path,
                                          "params": params, "idempotency_key": idem,
                                          "stripe_version": self.headers.get("Stripe-Version")})
                    cached = fake.idempotent.get((key, idem)) if idem else None
                    if cached is not None and cached["request"] != (method, parts.path, params):
                        # Stripe: a key replayed with other parameters is refused, not replayed.
                        status, payload = 400, {"error": {
                            "type": "idempotency_error",
                            "message": "Keys for idempotent requests can only be used with "
                                       "the same parameters they were first used with. Try "
                                       f"using a key other than '{idem}' if you meant to "
                                       "execute a different request."}}
                    elif cached is not None:
                        status, payload = cached["status"], cached["payload"]
                    else:
                        try:
                            status, payload = fake.handle(method, parts.path, params, key)
                        except _StripeError as exc:
                            status, payload = exc.status, exc.payload
                        if idem and status < 500:
                            fake.idempotent[(key, idem)] = {
                                "status": status, "payload": payload,
                                "request": (method, parts.path, params)}
                raw = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.send_header("Request-Id", new_id("req"))
                self.end_headers()
                self.wfile.write(raw)

            def do_GET(self) -> None:
                self._serve("GET")

            def do_POST(self) -> None:
                self._serve("POST")

            def do_DELETE(self) -> None:
                self._serve("DELETE")

        return Handler


class _StripeError(Exception):
    def __init__(self, status: int, kind: str, code: str | None, message: str) -> None:
        super().__init__(message)
        self.status = status
        error = {"type": kind, "message": message}
        if code:
            error["code"] = code
        self.payload = {"error": error}


def _list(items: list[dict]) -> dict:
    return {"object": "list", "data": [FakeStripe._public(i) for i in items],
            "has_more": False, "url": "/v1/list"}
