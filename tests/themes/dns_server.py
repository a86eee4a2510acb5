"""A real DNS server on 127.0.0.1 (dnslib), answering from a dict the test fills in, so the
verification runs dnspython over UDP exactly as against a registrar's DNS."""

from __future__ import annotations

from contextlib import contextmanager

from dnslib import AAAA, CNAME, QTYPE, RR, TXT, A
from dnslib.server import BaseResolver, DNSLogger, DNSServer

KINDS = {"A": (A, QTYPE.A), "AAAA": (AAAA, QTYPE.AAAA), "CNAME": (CNAME, QTYPE.CNAME),
         "TXT": (TXT, QTYPE.TXT)}


class ZoneResolver(BaseResolver):
    def __init__(self) -> None:
        self.records: dict[tuple[str, str], list[str]] = {}
        self.queries: list[tuple[str, str]] = []

    def add(self, name: str, kind: str, value: str) -> None:
        self.records.setdefault((name.lower().rstrip("."), kind), []).append(value)

    def resolve(self, request, handler):
        reply = request.reply()
        name = str(request.q.qname).rstrip(".").lower()
        kind = QTYPE[request.q.qtype]
        self.queries.append((name, kind))
        for value in self.records.get((name, kind), []):
            cls, qtype = KINDS[kind]
            reply.add_answer(RR(request.q.qname, qtype, rdata=cls(value), ttl=60))
        return reply


@contextmanager
def dns_server():
    zone = ZoneResolver()
    server = DNSServer(zone, address="127.0.0.1", port=0,
                       logger=DNSLogger(log="-request,-reply,-truncated,-error", prefix=False))
    server.start_thread()
    try:
        zone.port = server.server.server_address[1]
        yield zone
    finally:
        server.stop()
        server.server.server_close()
