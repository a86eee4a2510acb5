"""PayPal's REST API over httpx: OAuth client-credentials tokens, JSON calls, PayPal's errors.

PayPal's own Python SDKs are deprecated, so Shopkeep speaks the wire format itself:
- ``POST /v1/oauth2/token`` with HTTP Basic (client id : secret) and
  ``grant_type=client_credentials`` answers ``{"access_token", "expires_in", "scope", ...}``;
  the token is cached per app until a minute before it expires (PayPal asks integrations not
  to fetch one per call), and dropped when PayPal answers 401 to it.
- Errors come in two shapes: the OAuth endpoint's ``{"error", "error_description"}`` and the
  REST APIs' ``{"name", "message", "debug_id", "details": [{"issue", "description"}]}``; both
  become a ``GatewayError`` whose code is the first ``issue`` (``ORDER_ALREADY_CAPTURED``...)
  or the error name, lower-cased, and whose message keeps PayPal's ``debug_id`` for support.
- ``PayPal-Request-Id`` makes a POST idempotent at PayPal: the same id answers the first
  call's result instead of doing the work again.

The hosts are fixed (PayPal's, or the configured fake), so these calls do not go through the
SSRF guard of ``core.http``, which exists for addresses that owners type.
"""

from __future__ import annotations

import hashlib
import threading
import time
from typing import Any

import httpx
from django.conf import settings

from shopkeep.payments.gateways.base import GatewayError

_TOKENS: dict[tuple[str, str, str], tuple[str, float, str]] = {}
_TOKENS_LOCK = threading.Lock()
TOKEN_MARGIN_SECONDS = 60
# PayPal's answer for work it did not do, or may not have done: the caller can ask again.
UNCERTAIN_STATUSES = {500: "api_error", 502: "api_error", 503: "api_error", 504: "api_error",
                      429: "rate_limited"}


def api_base(mode: str) -> str:
    if settings.PAYPAL_API_BASE:
        return settings.PAYPAL_API_BASE
    return settings.PAYPAL_LIVE_API_BASE if mode == "live" else settings.PAYPAL_SANDBOX_API_BASE


def approve_origin(mode: str) -> str:
    """Where PayPal's approval pages live (the buyer's browser goes there, not to the API)."""
    if settings.PAYPAL_API_BASE:
        return settings.PAYPAL_API_BASE  # the local fake serves both
    return "https://www.paypal.com" if mode == "live" else "https://www.sandbox.paypal.com"


def _error_from(response: httpx.Response) -> GatewayError:
    try:
        body = response.json()
    except ValueError:
        body = {}
    if not isinstance(body, dict):
        body = {}
    if "error" in body and isinstance(body.get("error"), str):
        code = body["error"]
        message = str(body.get("error_description") or code)
    else:
        details = body.get("details") if isinstance(body.get("details"), list) else []
        first = details[0] if details and isinstance(details[0], dict) else {}
        code = str(first.get("issue") or body.get("name") or "")
        message = str(first.get("description") or body.get("message") or "")
        if body.get("debug_id"):
            message = f"{message} (PayPal debug id {body['debug_id']})"
    code = code.lower() or UNCERTAIN_STATUSES.get(response.status_code, "paypal_error")
    if response.status_code in UNCERTAIN_STATUSES:
        code = UNCERTAIN_STATUSES[response.status_code]
    return GatewayError(code, message or f"PayPal answered HTTP {response.status_code}.")


class PayPalAPI:
    """One REST app's calls. Outbound HTTP: never inside a database transaction."""

    def __init__(self, *, client_id: str, client_secret: str, mode: str,
                 transport: httpx.BaseTransport | None = None) -> None:
        self.client_id = client_id
        self.client_secret = client_secret
        self.mode = mode
        self.base = api_base(mode)
        self._transport = transport

    def _client(self) -> httpx.Client:
        return httpx.Client(base_url=self.base, timeout=settings.PAYPAL_TIMEOUT_SECONDS,
                            transport=self._transport,
                            headers={"User-Agent": "Shopkeep-PayPal/1.0"})

    def _cache_key(self) -> tuple[str, str, str]:
        digest = hashlib.sha256(self.client_secret.encode()).hexdigest()
        return (self.base, self.client_id, digest)

    def token(self) -> tuple[str, str]:
        """(access token, granted scopes), from the cache while it is fresh."""
        key = self._cache_key()
        with _TOKENS_LOCK:
            cached = _TOKENS.get(key)
        if cached and cached[1] > time.monotonic():
            return cached[0], cached[2]
        try:
            with self._client() as client:
                response = client.post("/v1/oauth2/token",
                                       auth=(self.client_id, self.client_secret),
                                       data={"grant_type": "client_credentials"},
                                       headers={"Accept": "application/json"})
        except httpx.HTTPError:
            raise GatewayError("gateway_unreachable",
                               "PayPal could not be reached; try again in a minute.") from None
        if response.status_code != 200:
            raise _error_from(response)
        body = response.json()
        token, scope = str(body.get("access_token") or ""), str(body.get("scope") or "")
        if not token:
            raise GatewayError("paypal_error", "PayPal answered without an access token.")
        lifetime = max(int(body.get("expires_in") or 0) - TOKEN_MARGIN_SECONDS, 0)
        with _TOKENS_LOCK:
            _TOKENS[key] = (token, time.monotonic() + lifetime, scope)
        return token, scope

    def forget_token(self) -> None:
        with _TOKENS_LOCK:
            _TOKENS.pop(self._cache_key(), None)

    def call(self, method: str, path: str, *, json: Any = None, params: dict | None = None,
             request_id: str = "", content: bytes | None = None) -> dict:
        """One REST call; returns the JSON body ({} for 204). Raises GatewayError."""
        for attempt in (1, 2):
            token, _ = self.token()
            headers = {"Authorization": f"Bearer {token}", "Accept": "application/json",
                       "Prefer": "return=representation"}
            if request_id:
                headers["PayPal-Request-Id"] = request_id[:108]
            if content is not None:
                headers["Content-Type"] = "application/json"
            try:
                with self._client() as client:
                    response = client.request(method, path, json=json, params=params,
                                              content=content, headers=headers)
            except httpx.HTTPError:
                raise GatewayError("gateway_unreachable",
                                   "PayPal could not be reached; try again in a minute."
                                   ) from None
            if response.status_code == 401 and attempt == 1:
                # The cached token was revoked or expired early: fetch a new one, once.
                self.forget_token()
                continue
            if response.status_code >= 400:
                raise _error_from(response)
            if response.status_code == 204 or not response.content:
                return {}
            try:
                body = response.json()
            except ValueError:
                raise GatewayError("api_error", "PayPal answered with something that is not "
                                   "JSON.") from None
            return body if isinstance(body, dict) else {"items": body}
        raise GatewayError("authentication_failed", "PayPal refused the access token.")


def link(obj: dict, rel: str) -> str:
    """The HATEOAS link with this ``rel`` (PayPal returns next steps as links)."""
    for item in obj.get("links") or []:
        if isinstance(item, dict) and item.get("rel") == rel:
            return str(item.get("href") or "")
    return ""
