"""DNS proof for a custom domain, with dnspython: a TXT record carrying the store's token at
``_shopkeep-challenge.<host>``, and the host pointing at the platform (a CNAME to
SHOPKEEP_CNAME_TARGET, or, for an apex flattened by the DNS host, the same A/AAAA records).
Runs in the worker only: a DNS query is outbound traffic."""

from __future__ import annotations

from dataclasses import dataclass

import dns.exception
import dns.name
import dns.resolver
from django.conf import settings

TIMEOUT_SECONDS = 5.0


@dataclass(frozen=True)
class DnsResult:
    ok: bool
    error: str = ""


def resolver() -> dns.resolver.Resolver:
    configured = settings.SHOPKEEP_DNS_NAMESERVERS
    if not configured:
        res = dns.resolver.Resolver()
    else:
        res = dns.resolver.Resolver(configure=False)
        hosts, ports = [], set()
        for entry in configured:
            host, _, port = entry.rpartition(":") if entry.count(":") == 1 else (entry, "", "")
            hosts.append(host or entry)
            ports.add(int(port) if port else 53)
        res.nameservers = hosts
        res.port = ports.pop() if len(ports) == 1 else 53
    res.timeout = res.lifetime = TIMEOUT_SECONDS
    res.cache = None  # an owner fixing a record expects the next check to see it
    return res


def _answers(res: dns.resolver.Resolver, name: str, kind: str) -> list:
    try:
        return list(res.resolve(name, kind))
    except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
        return []


def _addresses(res: dns.resolver.Resolver, name: str) -> set[str]:
    return {r.to_text() for kind in ("A", "AAAA") for r in _answers(res, name, kind)}


def check_domain(hostname: str, token: str) -> DnsResult:
    res = resolver()
    target = settings.SHOPKEEP_CNAME_TARGET
    try:
        texts = {b"".join(r.strings).decode("utf-8", "replace")
                 for r in _answers(res, f"_shopkeep-challenge.{hostname}", "TXT")}
        if token not in texts:
            return DnsResult(False, f"No TXT record _shopkeep-challenge.{hostname} with the "
                             "value shown yet.")
        cnames = {r.target.to_text().rstrip(".").lower()
                  for r in _answers(res, hostname, "CNAME")}
        if target in cnames:
            return DnsResult(True)
        if cnames:
            return DnsResult(False, f"{hostname} points at {', '.join(sorted(cnames))}, "
                             f"not {target}.")
        mine, theirs = _addresses(res, target), _addresses(res, hostname)
        if mine and theirs and theirs <= mine:
            return DnsResult(True)  # an apex flattened (ALIAS/ANAME) to our addresses
        return DnsResult(False, f"No CNAME from {hostname} to {target} yet.")
    except (dns.exception.Timeout, dns.resolver.NoNameservers) as exc:
        return DnsResult(False, f"The DNS servers did not answer ({type(exc).__name__}); "
                         "we try again when you press Check.")
    except dns.exception.DNSException as exc:
        return DnsResult(False, f"DNS lookup failed: {type(exc).__name__}.")
