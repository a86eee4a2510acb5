"""A local fake of the Discord REST API routes Shopkeep calls, on a real socket.

It speaks Discord's wire format: ``Authorization: Bot <token>``; JSON objects with string
snowflake ids; errors as ``{"message", "code"}`` with Discord's codes (10004 Unknown Guild,
10007 Unknown Member, 10011 Unknown Role, 50001 Missing Access, 50013 Missing Permissions,
and a bare ``{"message": "401: Unauthorized", "code": 0}``); 204 for role changes; and the
rate-limit headers on every answer (``X-RateLimit-Limit``, ``-Remaining``, ``-Reset``,
``-Reset-After``, ``-Bucket``), with 429 bodies ``{"message", "retry_after", "global"}`` plus
``Retry-After`` and ``X-RateLimit-Scope``. Role changes are checked the way Discord checks
them: the bot needs Manage Roles and a highest role above the role it changes.

It also signs interactions like Discord does: Ed25519 over ``timestamp + body``.
"""

from __future__ import annotations

import itertools
import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

MANAGE_ROLES = 1 << 28
_ids = itertools.count(1)


def snowflake() -> str:
    return str(1100000000000000000 + next(_ids))


class FakeDiscord:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.token = "MTEwMDAwMDAwMDAwMDAwMDAwMQ.Gabcde.fake-bot-token-for-tests-0123456789"
        self.bot_id = snowflake()
        self.application_id = snowflake()
        self.private_key = Ed25519PrivateKey.generate()
        self.public_key = self.private_key.public_key().public_bytes(
            Encoding.Raw, PublicFormat.Raw).hex()
        self.interactions_endpoint_url = ""
        self.guilds: dict[str, dict] = {}
        self.requests: list[dict] = []
        # Scripted answers: the next requests matching (method, path regex) get these.
        self.script: list[tuple[str, str, int, dict, dict]] = []
        self.remaining_per_bucket = 5
        self.reset_after = 0.01
        self.buckets: dict[str, int] = {}
        self.followups: list[dict] = []  # follow-up messages to interactions
        self.commands_scope = True  # the bot was invited with applications.commands
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    # -- world building -----------------------------------------------------------------------

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/api/v10"

    def start(self) -> FakeDiscord:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def add_guild(self, *, name: str = "Steve's Server", bot_in: bool = True,
                  bot_permissions: int = MANAGE_ROLES) -> dict:
        guild_id = snowflake()
        guild = {"id": guild_id, "name": name, "members": {}, "commands": [],
                 "roles": {guild_id: {"id": guild_id, "name": "@everyone", "position": 0,
                                      "permissions": "0", "managed": False}}}
        self.guilds[guild_id] = guild
        if bot_in:
            bot_role = self.add_role(guild_id, "Shopkeep", position=10,
                                     permissions=bot_permissions, managed=True)
            guild["members"][self.bot_id] = {"user": {"id": self.bot_id}, "roles": [bot_role]}
        return guild

    def add_role(self, guild_id: str, name: str, *, position: int, permissions: int = 0,
                 managed: bool = False) -> str:
        role_id = snowflake()
        self.guilds[guild_id]["roles"][role_id] = {
            "id": role_id, "name": name, "position": position, "permissions": str(permissions),
            "managed": managed, "color": 0, "hoist": False, "mentionable": False}
        return role_id

    def join(self, guild_id: str, user_id: str) -> None:
        self.guilds[guild_id]["members"].setdefault(user_id, {"user": {"id": user_id},
                                                              "roles": []})

    def roles_of(self, guild_id: str, user_id: str) -> list[str]:
        return list(self.guilds[guild_id]["members"].get(user_id, {}).get("roles", []))

    def fail_next(self, method: str, path_pattern: str, status: int, body: dict,
                  headers: dict | None = None) -> None:
        self.script.append((method, path_pattern, status, body, headers or {}))

    # -- interactions (what Discord sends to us) ------------------------------------------------

    def sign(self, body: bytes, timestamp: str | None = None) -> dict[str, str]:
        timestamp = timestamp or str(int(time.time()))
        signature = self.private_key.sign(timestamp.encode() + body).hex()
        return {"X-Signature-Ed25519": signature, "X-Signature-Timestamp": timestamp}

    def claim_payload(self, guild_id: str, user_id: str, username: str = "steve",
                      **options: str) -> dict:
        return {"id": snowflake(), "application_id": self.application_id, "type": 2,
                "token": "interaction-token", "version": 1, "guild_id": guild_id,
                "channel_id": snowflake(),
                "member": {"user": {"id": user_id, "username": username}, "roles": [],
                           "permissions": "0"},
                "data": {"id": snowflake(), "name": "claim", "type": 1,
                         "options": [{"name": k, "type": 3, "value": v}
                                     for k, v in options.items()]}}

    # -- the HTTP side ----------------------------------------------------------------------------

    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def _do(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                path = self.path.split("?", 1)[0].removeprefix("/api/v10")
                with fake.lock:
                    fake.requests.append({"method": self.command, "path": path,
                                          "headers": dict(self.headers.items()),
                                          "body": json.loads(raw) if raw else None})
                    status, body, headers = fake._route(self.command, path, self.headers,
                                                        json.loads(raw) if raw else None)
                payload = b"" if status == 204 else json.dumps(body).encode()
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                if status != 204:
                    self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_PUT = do_DELETE = do_POST = do_PATCH = _do

        return Handler

    def _bucket_headers(self, bucket: str) -> dict[str, str]:
        left = self.buckets.get(bucket, self.remaining_per_bucket)
        left = max(left - 1, 0)
        self.buckets[bucket] = left
        return {"X-RateLimit-Limit": str(self.remaining_per_bucket),
                "X-RateLimit-Remaining": str(left),
                "X-RateLimit-Reset": f"{time.time() + self.reset_after:.3f}",
                "X-RateLimit-Reset-After": f"{self.reset_after:.3f}",
                "X-RateLimit-Bucket": bucket}

    def _route(self, method: str, path: str, headers, body) -> tuple[int, dict, dict]:
        bucket = re.sub(r"\d{15,}", "{id}", f"{method} {path}")
        bucket_hash = "b" + str(abs(hash(bucket)) % 10**8)
        for index, (m, pattern, status, answer, extra) in enumerate(self.script):
            if m == method and re.fullmatch(pattern, path):
                del self.script[index]
                return status, answer, {**extra} if status == 429 else {
                    **self._bucket_headers(bucket_hash), **extra}
        m = re.fullmatch(r"/webhooks/(\d+)/([A-Za-z0-9_.\-]+)", path)
        if m and method == "POST":
            # Interaction webhooks are authenticated by their token, not the bot's.
            if m.group(1) != self.application_id or m.group(2) != "interaction-token":
                return 404, {"message": "Unknown Webhook", "code": 10015}, {}
            self.followups.append(body)
            return 200, {"id": snowflake(), "content": body.get("content"),
                         "flags": body.get("flags", 0)}, self._bucket_headers(bucket_hash)
        if headers.get("Authorization") != f"Bot {self.token}":
            return 401, {"message": "401: Unauthorized", "code": 0}, {}
        rl = self._bucket_headers(bucket_hash)
        status, answer = self._answer(method, path, body)
        return status, answer, rl

    def _answer(self, method: str, path: str, body) -> tuple[int, dict | list]:
        if path == "/users/@me" and method == "GET":
            return 200, {"id": self.bot_id, "username": "Shopkeep", "bot": True,
                         "discriminator": "0"}
        if path == "/applications/@me" and method == "GET":
            return 200, {"id": self.application_id, "name": "Shopkeep",
                         "verify_key": self.public_key,
                         "interactions_endpoint_url": self.interactions_endpoint_url or None}
        m = re.fullmatch(r"/applications/(\d+)/guilds/(\d+)/commands", path)
        if m:
            guild = self._guild_for_bot(m.group(2))
            if guild is None or not self.commands_scope:
                return 403, {"message": "Missing Access", "code": 50001}
            if method == "GET":
                return 200, guild["commands"]
            if method == "POST":
                command = {**body, "id": snowflake(), "application_id": m.group(1),
                           "guild_id": guild["id"], "version": snowflake()}
                guild["commands"] = [c for c in guild["commands"] if c["name"] != body["name"]]
                guild["commands"].append(command)
                return 201, command
        m = re.fullmatch(r"/guilds/(\d+)(/.*)?", path)
        if m:
            guild = self._guild_for_bot(m.group(1))
            if guild is None:
                return (404, {"message": "Unknown Guild", "code": 10004}) \
                    if m.group(1) not in self.guilds else \
                    (403, {"message": "Missing Access", "code": 50001})
            return self._guild_route(guild, method, m.group(2) or "")
        return 404, {"message": "404: Not Found", "code": 0}

    def _guild_for_bot(self, guild_id: str) -> dict | None:
        guild = self.guilds.get(guild_id)
        if guild is None or self.bot_id not in guild["members"]:
            return None
        return guild

    def _guild_route(self, guild: dict, method: str, rest: str) -> tuple[int, dict | list]:
        if rest == "" and method == "GET":
            return 200, {"id": guild["id"], "name": guild["name"]}
        if rest == "/roles" and method == "GET":
            return 200, list(guild["roles"].values())
        m = re.fullmatch(r"/members/(\d+)", rest)
        if m and method == "GET":
            member = guild["members"].get(m.group(1))
            if member is None:
                return 404, {"message": "Unknown Member", "code": 10007}
            return 200, member
        m = re.fullmatch(r"/members/(\d+)/roles/(\d+)", rest)
        if m and method in ("PUT", "DELETE"):
            user_id, role_id = m.groups()
            member = guild["members"].get(user_id)
            if member is None:
                return 404, {"message": "Unknown Member", "code": 10007}
            role = guild["roles"].get(role_id)
            if role is None:
                return 404, {"message": "Unknown Role", "code": 10011}
            if not self._may_manage(guild, role):
                return 403, {"message": "Missing Permissions", "code": 50013}
            if method == "PUT" and role_id not in member["roles"]:
                member["roles"].append(role_id)
            if method == "DELETE" and role_id in member["roles"]:
                member["roles"].remove(role_id)
            return 204, {}
        return 404, {"message": "404: Not Found", "code": 0}

    def _may_manage(self, guild: dict, role: dict) -> bool:
        bot = guild["members"][self.bot_id]
        mine = [guild["roles"][r] for r in bot["roles"] if r in guild["roles"]]
        permissions = 0
        for r in [*mine, guild["roles"][guild["id"]]]:
            permissions |= int(r["permissions"])
        top = max((r["position"] for r in mine), default=0)
        return bool(permissions & (MANAGE_ROLES | 8)) and role["position"] < top \
            and not role["managed"]
