"""The one outbound HTTP client: address checks against SSRF, fixed timeouts, no redirects.

A URL a store owner types can point anywhere, including the platform's own network. The
check runs twice: when the URL is saved (``check_url``), and again at connect time
(``GuardedBackend``) on the addresses DNS returns *then*, connecting to the address that was
checked, so a name re-pointed at 127.0.0.1 after it was saved (DNS rebinding) is refused too.
``allow_private`` switches both checks off for development and tests.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import typing
from urllib.parse import urlsplit

import httpcore
import httpx

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

CONNECT_TIMEOUT = 5.0
TOTAL_TIMEOUT = 15.0
MAX_URL_LENGTH = 2000

_CGNAT = ipaddress.ip_network("100.64.0.0/10")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


class UnsafeURL(ValueError):
    """A URL that may not be called: its message is written for the person who typed it."""


class BlockedAddress(httpcore.ConnectError):
    """Raised while connecting: the name resolved to an address in a refused class."""


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    # IPv6 forms that carry an IPv4 address reach that IPv4 host: judge them by it.
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def address_class(ip: IPAddress) -> str | None:
    """The refused class ``ip`` belongs to (``"loopback"``, ``"private"``, ...), or None when
    it is a public unicast address."""
    if isinstance(ip, ipaddress.IPv6Address):
        inner = _embedded_ipv4(ip)
        if inner is not None:
            return address_class(inner)
    checks = (
        ("unspecified", ip.is_unspecified),
        ("loopback", ip.is_loopback),
        ("link-local", ip.is_link_local),
        ("multicast", ip.is_multicast),
        ("CGNAT", isinstance(ip, ipaddress.IPv4Address) and ip in _CGNAT),
        # Before "private": Python counts 240.0.0.0/4 as private too.
        ("reserved", ip.is_reserved),
        ("private", ip.is_private),
        # Anything else IANA does not list as globally reachable (documentation ranges,
        # benchmarking, 6to4 relays, ...).
        ("reserved", not ip.is_global),
    )
    for name, hit in checks:
        if hit:
            return name
    return None


def _parse_ip(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host.strip("[]").split("%", 1)[0])
    except ValueError:
        return None


def resolve(host: str, port: int) -> list[IPAddress]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise UnsafeURL(f"The host {host!r} could not be resolved.") from exc
    return [ipaddress.ip_address(info[4][0].split("%", 1)[0]) for info in infos]


def refused_addresses(addresses: typing.Iterable[IPAddress]) -> list[tuple[IPAddress, str]]:
    return [(ip, kind) for ip in addresses if (kind := address_class(ip)) is not None]


def check_url(url: str, *, allow_private: bool, require_https: bool) -> str:
    """Return the URL stripped of surrounding blanks, or raise ``UnsafeURL``.

    With ``allow_private`` no address is checked and no name is resolved. Otherwise every
    address the host resolves to must be public: one private answer is enough to refuse,
    since the connection could use it.
    """
    url = (url or "").strip()
    if not url:
        raise UnsafeURL("Enter a URL.")
    if len(url) > MAX_URL_LENGTH:
        raise UnsafeURL(f"The URL is longer than {MAX_URL_LENGTH} characters.")
    if any(ord(ch) < 33 or ord(ch) == 127 for ch in url):
        raise UnsafeURL("The URL contains spaces or control characters.")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise UnsafeURL("The URL is not valid.") from exc
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise UnsafeURL("The URL must start with https:// (or http://).")
    if require_https and scheme != "https":
        raise UnsafeURL("The URL must use https://.")
    host = parts.hostname
    if not host:
        raise UnsafeURL("The URL has no host name.")
    if allow_private:
        return url
    port = port or (443 if scheme == "https" else 80)
    literal = _parse_ip(host)
    addresses = [literal] if literal is not None else resolve(host, port)
    refused = refused_addresses(addresses)
    if refused:
        ip, kind = refused[0]
        raise UnsafeURL(f"The URL points to a {kind} address ({ip}); webhooks may only be sent "
                        "to public addresses.")
    return url


class GuardedBackend(httpcore.AsyncNetworkBackend):
    """Resolves, checks every answer, then connects to a checked address by number."""

    def __init__(self, *, allow_private: bool) -> None:
        self.allow_private = allow_private
        self._inner = httpcore.AnyIOBackend()

    async def _addresses(self, host: str, port: int) -> list[str]:
        literal = _parse_ip(host)
        if literal is not None:
            return [str(literal)]
        loop = asyncio.get_running_loop()
        try:
            infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except socket.gaierror as exc:
            raise httpcore.ConnectError(f"could not resolve {host}: {exc}") from exc
        seen: list[str] = []
        for info in infos:
            address = str(info[4][0]).split("%", 1)[0]
            if address not in seen:
                seen.append(address)
        return seen

    async def connect_tcp(self, host: str, port: int, timeout: float | None = None,
                          local_address: str | None = None,
                          socket_options: typing.Iterable[typing.Any] | None = None,
                          ) -> httpcore.AsyncNetworkStream:
        addresses = await self._addresses(host, port)
        if not self.allow_private:
            refused = refused_addresses(ipaddress.ip_address(a) for a in addresses)
            if refused:
                ip, kind = refused[0]
                raise BlockedAddress(f"blocked: {host} resolves to a {kind} address ({ip})")
        last: Exception | None = None
        for address in addresses:
            try:
                return await self._inner.connect_tcp(
                    address, port, timeout=timeout, local_address=local_address,
                    socket_options=socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                last = exc
        raise last or httpcore.ConnectError(f"no address for {host}")

    async def connect_unix_socket(self, path: str, timeout: float | None = None,
                                  socket_options: typing.Iterable[typing.Any] | None = None,
                                  ) -> httpcore.AsyncNetworkStream:
        raise httpcore.ConnectError("unix sockets are not allowed")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


class GuardedTransport(httpx.AsyncHTTPTransport):
    def __init__(self, *, allow_private: bool, max_connections: int) -> None:
        super().__init__(trust_env=False)
        # httpx has no public switch for the network backend; its pool is rebuilt with the
        # guarded one (same defaults otherwise, no proxies from the environment).
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=httpx.create_ssl_context(trust_env=False),
            max_connections=max_connections,
            max_keepalive_connections=max_connections,
            keepalive_expiry=30.0,
            network_backend=GuardedBackend(allow_private=allow_private),
        )


def safe_async_client(*, allow_private: bool, user_agent: str,
                      max_connections: int = 1000) -> httpx.AsyncClient:
    """An ``httpx.AsyncClient`` that refuses internal addresses, never follows redirects and
    gives up connecting after 5 s. The caller bounds the whole exchange (15 s) itself, since
    httpx's timeouts are per read, not per request."""
    return httpx.AsyncClient(
        transport=GuardedTransport(allow_private=allow_private, max_connections=max_connections),
        timeout=httpx.Timeout(TOTAL_TIMEOUT, connect=CONNECT_TIMEOUT),
        follow_redirects=False,
        trust_env=False,
        # The response body is kept as sent (raw), so ask for it uncompressed.
        headers={"User-Agent": user_agent, "Accept-Encoding": "identity"},
    )


def is_blocked_error(exc: BaseException) -> bool:
    """httpx re-raises httpcore errors as its own type; the message survives."""
    return str(exc).startswith("blocked:")
