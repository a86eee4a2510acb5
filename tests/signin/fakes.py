"""Local fakes of Steam's OpenID 2.0 provider (with the Web API's GetPlayerSummaries) and of
Discord's OAuth 2.0 server, each on a real socket on 127.0.0.1.

They are written from the public protocol descriptions, independently of the libraries that
talk to them (python3-openid, authlib):

Steam (OpenID 2.0, https://openid.net/specs/openid-authentication-2_0.html):
- ``GET /openid`` answers the XRDS document naming ``/openid/login`` as the OP endpoint
  (``http://specs.openid.net/auth/2.0/server``); ``GET /openid/id/<steam64>`` the claimed id's
  XRDS (``.../2.0/signon``), which the relying party re-discovers.
- ``GET /openid/login`` with ``openid.mode=checkid_setup`` "signs the user in" (the id the test
  chose) and redirects to ``openid.return_to`` with a signed ``id_res``: ``ns``, ``mode``,
  ``op_endpoint``, ``claimed_id``, ``identity``, ``return_to``, ``response_nonce``,
  ``assoc_handle``, ``signed`` and ``sig`` (HMAC-SHA256 over the key-value form of the signed
  fields, with a private association, as Steam answers relying parties that keep none).
- ``POST /openid/login`` with ``openid.mode=check_authentication`` answers ``is_valid:true``
  once per assertion (the private association is used up), ``is_valid:false`` otherwise.
- ``GET /ISteamUser/GetPlayerSummaries/v0002/?key=&steamids=`` answers
  ``{"response": {"players": [{"steamid", "personaname", ...}]}}``; a wrong key gets 403.

Discord (OAuth 2.0 with PKCE, https://discord.com/developers/docs/topics/oauth2):
- ``GET /oauth2/authorize`` checks ``client_id``, ``redirect_uri`` (registered for the app),
  ``response_type=code``, ``scope``, ``state``, ``code_challenge`` (S256) and redirects with
  ``code`` and ``state`` (or ``error=access_denied``).
- ``POST /api/v10/oauth2/token`` (form) exchanges a code once, checking the client secret, the
  redirect URI and the PKCE verifier; errors are ``{"error", "error_description"}`` with 400/401.
- ``GET /api/v10/users/@me`` with ``Authorization: Bearer`` answers the user object; without
  a valid token ``{"message": "401: Unauthorized", "code": 0}``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import json
import secrets
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlencode, urlsplit

OPENID_NS = "http://specs.openid.net/auth/2.0"
IDENTIFIER_SELECT = "http://specs.openid.net/auth/2.0/identifier_select"
_nonce_counter = itertools.count(1)


def _xrds(service_type: str, uri: str) -> bytes:
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<xrds:XRDS xmlns:xrds="xri://$xrds" '
            f'xmlns="xri://$xrd*($v*2.0)">\n<XRD>\n<Service priority="0">\n'
            f"<Type>{service_type}</Type>\n<URI>{uri}</URI>\n</Service>\n</XRD>\n"
            f"</xrds:XRDS>\n").encode()


def kv_form(pairs: list[tuple[str, str]]) -> bytes:
    return "".join(f"{k}:{v}\n" for k, v in pairs).encode()


class _Server:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.requests: list[tuple[str, str]] = []
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self):
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def handle(self, method: str, path: str, query: dict, body: bytes,
               headers: dict) -> tuple[int, dict, bytes]:  # pragma: no cover - overridden
        raise NotImplementedError

    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def _serve(self, method: str) -> None:
                parts = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                with fake.lock:
                    fake.requests.append((method, parts.path))
                status, headers, payload = fake.handle(
                    method, parts.path, dict(parse_qsl(parts.query, keep_blank_values=True)),
                    body, {k.lower(): v for k, v in self.headers.items()})
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def do_GET(self) -> None:
                self._serve("GET")

            def do_POST(self) -> None:
                self._serve("POST")

        return Handler


def _json(status: int, data) -> tuple[int, dict, bytes]:
    return status, {"Content-Type": "application/json"}, json.dumps(data).encode()


class FakeSteam(_Server):
    def __init__(self, api_key: str = "steam-test-key") -> None:
        super().__init__()
        self.api_key = api_key
        self.steam_id = "76561198000000001"  # who "signs in" at the login page
        self.cancel = False
        self.personas: dict[str, str] = {}
        self.private_assocs: dict[str, bytes] = {}  # handle -> secret, used up on check
        self.check_authentications = 0

    @property
    def openid_url(self) -> str:
        return f"{self.url}/openid"

    def claimed_id(self, steam_id: str) -> str:
        return f"{self.openid_url}/id/{steam_id}"

    def sign(self, fields: dict[str, str]) -> dict[str, str]:
        """``fields`` (without the openid. prefix) signed with a fresh private association."""
        handle = secrets.token_hex(8)
        secret = secrets.token_bytes(32)
        self.private_assocs[handle] = secret
        fields = {**fields, "assoc_handle": handle}
        order = ["op_endpoint", "claimed_id", "identity", "return_to", "response_nonce",
                 "assoc_handle"]
        fields["signed"] = "signed," + ",".join(order)
        pairs = [(k, fields[k]) for k in fields["signed"].split(",")]
        fields["sig"] = base64.b64encode(
            hmac.new(secret, kv_form(pairs), hashlib.sha256).digest()).decode()
        return {f"openid.{k}": v for k, v in fields.items()}

    def assertion(self, *, return_to: str, steam_id: str) -> dict[str, str]:
        nonce = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()) + f"{next(_nonce_counter)}"
        return self.sign({"ns": OPENID_NS, "mode": "id_res",
                          "op_endpoint": f"{self.openid_url}/login",
                          "claimed_id": self.claimed_id(steam_id),
                          "identity": self.claimed_id(steam_id), "return_to": return_to,
                          "response_nonce": nonce})

    def _check_authentication(self, form: dict[str, str]) -> bool:
        handle = form.get("openid.assoc_handle", "")
        secret = self.private_assocs.pop(handle, None)  # one check per assertion
        if secret is None:
            return False
        signed = form.get("openid.signed", "").split(",")
        pairs = []
        for key in signed:
            if key == "signed":
                pairs.append((key, form.get("openid.signed", "")))
            elif f"openid.{key}" not in form:
                return False
            else:
                pairs.append((key, form[f"openid.{key}"]))
        expected = base64.b64encode(hmac.new(secret, kv_form(pairs),
                                             hashlib.sha256).digest()).decode()
        return hmac.compare_digest(expected, form.get("openid.sig", ""))

    def handle(self, method, path, query, body, headers):
        if path == "/openid":
            return 200, {"Content-Type": "application/xrds+xml"}, _xrds(
                f"{OPENID_NS}/server", f"{self.openid_url}/login")
        if path.startswith("/openid/id/"):
            return 200, {"Content-Type": "application/xrds+xml"}, _xrds(
                f"{OPENID_NS}/signon", f"{self.openid_url}/login")
        if path == "/openid/login" and method == "POST":
            form = dict(parse_qsl(body.decode()))
            if form.get("openid.mode") != "check_authentication":
                return 400, {"Content-Type": "text/plain"}, kv_form(
                    [("ns", OPENID_NS), ("error", "unsupported mode")])
            with self.lock:
                self.check_authentications += 1
                valid = self._check_authentication(form)
            return 200, {"Content-Type": "text/plain"}, kv_form(
                [("ns", OPENID_NS), ("is_valid", "true" if valid else "false")])
        if path == "/openid/login":
            return self._checkid_setup(query)
        if path == "/ISteamUser/GetPlayerSummaries/v0002/":
            if query.get("key") != self.api_key:
                return 403, {"Content-Type": "text/html"}, b"<html><body>Forbidden</body></html>"
            players = [{"steamid": sid, "communityvisibilitystate": 3, "profilestate": 1,
                        "personaname": self.personas.get(sid, f"Player {sid[-4:]}"),
                        "profileurl": f"https://steamcommunity.com/profiles/{sid}/",
                        "avatar": "", "personastate": 1}
                       for sid in query.get("steamids", "").split(",") if sid]
            return _json(200, {"response": {"players": players}})
        return 404, {"Content-Type": "text/plain"}, b"not found"

    def _checkid_setup(self, query):
        return_to = query.get("openid.return_to", "")
        realm = query.get("openid.realm", "")
        if (query.get("openid.ns") != OPENID_NS or query.get("openid.mode") != "checkid_setup"
                or query.get("openid.claimed_id") != IDENTIFIER_SELECT
                or not return_to.startswith(realm) or not realm):
            return 400, {"Content-Type": "text/plain"}, b"Invalid OpenID request"
        joiner = "&" if "?" in return_to else "?"
        if self.cancel:
            fields = {"openid.ns": OPENID_NS, "openid.mode": "cancel"}
        else:
            fields = self.assertion(return_to=return_to, steam_id=self.steam_id)
        return 302, {"Location": return_to + joiner + urlencode(fields)}, b""


class FakeDiscord(_Server):
    def __init__(self) -> None:
        super().__init__()
        self.apps: dict[str, dict] = {}  # client_id -> {"secret", "redirect_uris"}
        self.user = {"id": "80351110224678912", "username": "nelly", "discriminator": "0",
                     "global_name": "Nelly", "avatar": None, "verified": True,
                     "email": "nelly@example.com", "mfa_enabled": False, "locale": "en-US",
                     "flags": 0, "premium_type": 0, "public_flags": 0}
        self.deny = False
        self.codes: dict[str, dict] = {}
        self.tokens: dict[str, dict] = {}
        self.token_requests: list[dict] = []

    def add_app(self, client_id: str, secret: str, redirect_uri: str) -> None:
        self.apps.setdefault(client_id, {"secret": secret, "redirect_uris": set()})
        self.apps[client_id]["redirect_uris"].add(redirect_uri)

    @property
    def authorize_url(self) -> str:
        return f"{self.url}/oauth2/authorize"

    @property
    def api_base(self) -> str:
        return f"{self.url}/api/v10"

    def handle(self, method, path, query, body, headers):
        if path == "/oauth2/authorize" and method == "GET":
            return self._authorize(query)
        if path == "/api/v10/oauth2/token" and method == "POST":
            return self._token(dict(parse_qsl(body.decode())), headers)
        if path == "/api/v10/users/@me" and method == "GET":
            token = headers.get("authorization", "").removeprefix("Bearer ")
            grant = self.tokens.get(token)
            if grant is None:
                return _json(401, {"message": "401: Unauthorized", "code": 0})
            user = dict(grant["user"])
            if "email" not in grant["scope"].split():
                user.pop("email", None)
                user.pop("verified", None)
            return _json(200, user)
        return _json(404, {"message": "404: Not Found", "code": 0})

    def _authorize(self, query):
        app = self.apps.get(query.get("client_id", ""))
        redirect_uri = query.get("redirect_uri", "")
        if app is None:
            client_id = query.get("client_id", "")
            return _json(400, {"client_id": [f'Value "{client_id}" is not snowflake.']})
        if redirect_uri not in app["redirect_uris"]:
            return _json(400, {"redirect_uri": ["Not a well formed URL."]})
        if (query.get("response_type") != "code" or not query.get("code_challenge")
                or query.get("code_challenge_method") != "S256"):
            return _json(400, {"error": "invalid_request"})
        state = query.get("state", "")
        if self.deny:
            params = {"error": "access_denied",
                      "error_description": "The resource owner or authorization server "
                                           "denied the request", "state": state}
            return 302, {"Location": f"{redirect_uri}?{urlencode(params)}"}, b""
        code = secrets.token_urlsafe(20)
        self.codes[code] = {"client_id": query["client_id"], "redirect_uri": redirect_uri,
                            "challenge": query["code_challenge"],
                            "scope": query.get("scope", ""), "user": dict(self.user)}
        return 302, {"Location": f"{redirect_uri}?{urlencode({'code': code, 'state': state})}"}, b""

    def _token(self, form, headers):
        self.token_requests.append(form)
        client_id, secret = form.get("client_id", ""), form.get("client_secret", "")
        basic = headers.get("authorization", "")
        if basic.startswith("Basic "):
            client_id, _, secret = base64.b64decode(basic[6:]).decode().partition(":")
        app = self.apps.get(client_id)
        if app is None or not hmac.compare_digest(app["secret"], secret):
            return _json(401, {"error": "invalid_client"})
        if form.get("grant_type") != "authorization_code":
            return _json(400, {"error": "unsupported_grant_type"})
        grant = self.codes.pop(form.get("code", ""), None)  # a code works once
        if grant is None or grant["client_id"] != client_id:
            return _json(400, {"error": "invalid_grant",
                               "error_description": 'Invalid "code" in request.'})
        if grant["redirect_uri"] != form.get("redirect_uri"):
            return _json(400, {"error": "invalid_grant",
                               "error_description": "Invalid \"redirect_uri\" in request."})
        verifier = form.get("code_verifier", "")
        challenge = base64.urlsafe_b64encode(
            hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")
        if not hmac.compare_digest(challenge, grant["challenge"]):
            return _json(400, {"error": "invalid_grant",
                               "error_description": "Invalid \"code_verifier\" in request."})
        token = secrets.token_urlsafe(24)
        self.tokens[token] = {"user": grant["user"], "scope": grant["scope"]}
        return _json(200, {"token_type": "Bearer", "access_token": token, "expires_in": 604800,
                           "refresh_token": secrets.token_urlsafe(24), "scope": grant["scope"]})
