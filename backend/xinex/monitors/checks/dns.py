"""DNS check with dnspython: the record exists (and matches the expected value when given).

A custom nameserver is an outbound destination chosen by the user, so its address goes through
the same SSRF policy as every other target.
"""

from __future__ import annotations

import time
from typing import Any

import dns.asyncresolver
import dns.exception
import dns.resolver

from xinex.kit import outbound
from xinex.monitors.checks import UP, CheckResult, down, elapsed_ms, from_outbound_error


def _norm(value: str) -> str:
    return value.strip().strip('"').rstrip(".").lower()


def answer_values(rrset: Any, record_type: str) -> list[str]:
    """Each answer as text, and for MX also the bare exchange (so either form can be expected)."""
    values: list[str] = []
    for rdata in rrset:
        if record_type == "TXT":
            values.append(b"".join(rdata.strings).decode("utf-8", "replace"))
        elif record_type == "MX":
            values.append(f"{rdata.preference} {rdata.exchange.to_text()}")
            values.append(rdata.exchange.to_text())
        else:
            values.append(rdata.to_text())
    return values


async def check(config: dict[str, Any], timeout: float, allow_private: bool | None) -> CheckResult:
    started = time.monotonic()
    record_type = config.get("record_type", "A")
    nameserver = config.get("nameserver")
    if nameserver:
        try:
            outbound.vet_ip(nameserver, outbound._allow_private(allow_private))
        except outbound.OutboundError as exc:
            return from_outbound_error(exc, started)
        resolver = dns.asyncresolver.Resolver(configure=False)
        resolver.nameservers = [nameserver]
        resolver.port = int(config.get("nameserver_port") or 53)
    else:
        resolver = dns.asyncresolver.Resolver()
    resolver.lifetime = timeout
    resolver.timeout = timeout
    try:
        answer = await resolver.resolve(config["hostname"], record_type, raise_on_no_answer=False)
    except dns.resolver.NXDOMAIN:
        return down("nxdomain", f"{config['hostname']} does not exist", elapsed_ms(started))
    except dns.resolver.LifetimeTimeout:
        return down("timeout", f"no DNS answer within {timeout:g}s", elapsed_ms(started))
    except dns.resolver.NoNameservers:
        return down("dns_failure", "no nameserver answered successfully", elapsed_ms(started))
    except dns.exception.DNSException as exc:
        return down("dns_failure", f"DNS query failed: {type(exc).__name__}", elapsed_ms(started))
    latency = elapsed_ms(started)
    values = answer_values(answer.rrset, record_type) if answer.rrset is not None else []
    if not values:
        return down("no_records", f"no {record_type} records for {config['hostname']}", latency)
    details = {"answers": ", ".join(values)[:1000]}
    expected = config.get("expected_value")
    if expected and _norm(expected) not in {_norm(v) for v in values}:
        return down("value_mismatch", f"{record_type} answer does not contain {expected!r}", latency,
                    details=details)
    return CheckResult(UP, latency, details=details)
