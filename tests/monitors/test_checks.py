"""The four check types against real peers on loopback (private targets allowed in this config)."""

from __future__ import annotations

from xinex.monitors.checks import run_check

from tests.monitors.conftest import closed_port


def http(url: str, **config) -> dict:
    timeout = config.pop("timeout", 5)
    threshold = config.pop("latency_threshold_ms", None)
    return {"type": "http", "config": {"url": url, **config}, "timeout": timeout, "latency_threshold_ms": threshold}


async def test_http_up_and_expected_status(http_target):
    r = await run_check(http(http_target.url("/ok")))
    assert (r.status, r.status_code, r.reason) == ("up", 200, "ok") and r.latency_ms > 0
    r = await run_check(http(http_target.url("/status/503")))
    assert (r.status, r.status_code, r.reason) == ("down", 503, "status_mismatch")
    assert "SECRET-BODY" not in r.error  # a response body is never echoed
    # Ranges, classes and exact codes.
    for expected in (["500-599"], ["5xx"], [503], [200, 503]):
        r = await run_check(http(http_target.url("/status/503"), expected_status=expected))
        assert r.status == "up", expected
    r = await run_check(http(http_target.url("/status/404"), expected_status=["2xx", 301]))
    assert r.status == "down"


async def test_http_method_headers_body(http_target):
    before = len(http_target.hits)
    r = await run_check(http(http_target.url("/echo"), method="POST", headers={"X-Probe": "yes"},
                             body='{"ping": 1}', keyword='"ping"'))
    assert r.status == "up"
    hit = http_target.hits[before]
    assert hit["method"] == "POST" and hit["headers"]["X-Probe"] == "yes" and hit["body"] == b'{"ping": 1}'


async def test_http_degraded_by_latency_and_keyword(http_target):
    r = await run_check(http(http_target.url("/slow?ms=250"), latency_threshold_ms=100))
    assert (r.status, r.reason) == ("degraded", "slow") and r.latency_ms >= 250
    r = await run_check(http(http_target.url("/slow?ms=10"), latency_threshold_ms=5000))
    assert r.status == "up"
    r = await run_check(http(http_target.url("/ok"), keyword="operational"))
    assert r.status == "up"
    r = await run_check(http(http_target.url("/ok"), keyword="outage"))
    assert (r.status, r.reason) == ("degraded", "keyword_missing")
    r = await run_check(http(http_target.url("/ok"), keyword="operational", keyword_absent=True))
    assert (r.status, r.reason) == ("degraded", "keyword_present")
    r = await run_check(http(http_target.url("/ok"), keyword="outage", keyword_absent=True))
    assert r.status == "up"


async def test_http_timeout_and_refused(http_target):
    r = await run_check(http(http_target.url("/slow?ms=1500"), timeout=0.5))
    assert r.status == "down" and r.reason in ("timeout", "read_timeout")
    r = await run_check(http(f"http://127.0.0.1:{closed_port()}/"))
    assert (r.status, r.reason) == ("down", "connect_failed")


async def test_http_redirects(http_target):
    url = http_target.url("/redirect?to=/ok")
    r = await run_check(http(url))
    assert r.status == "up" and r.details["final_url"].endswith("/ok")
    r = await run_check(http(url, follow_redirects=False))
    assert (r.status, r.status_code) == ("down", 302)
    r = await run_check(http(url, follow_redirects=False, expected_status=["3xx"]))
    assert r.status == "up"


async def test_tcp(tcp_listener):
    r = await run_check({"type": "tcp", "config": {"host": "127.0.0.1", "port": tcp_listener}, "timeout": 2})
    assert r.status == "up" and r.latency_ms > 0
    r = await run_check({"type": "tcp", "config": {"host": "localhost", "port": tcp_listener}, "timeout": 2})
    assert r.status == "up"
    r = await run_check({"type": "tcp", "config": {"host": "127.0.0.1", "port": closed_port()}, "timeout": 2})
    assert (r.status, r.reason) == ("down", "connect_failed")


def dns_spec(stub, hostname: str, record_type: str, expected: str | None = None) -> dict:
    return {"type": "dns", "timeout": 2, "config": {"hostname": hostname, "record_type": record_type,
                                                    "expected_value": expected, "nameserver": "127.0.0.1",
                                                    "nameserver_port": stub.port}}


async def test_dns_records_and_expected_values(stub_dns):
    r = await run_check(dns_spec(stub_dns, "www.example.test", "A", "192.0.2.11"))
    assert r.status == "up" and "192.0.2.10" in r.details["answers"]
    assert ("www.example.test", "A") in stub_dns.queries  # the answer came from our server
    assert (await run_check(dns_spec(stub_dns, "www.example.test", "AAAA", "2001:db8::10"))).status == "up"
    assert (await run_check(dns_spec(stub_dns, "example.test", "MX", "mail.example.test"))).status == "up"
    assert (await run_check(dns_spec(stub_dns, "example.test", "MX", "20 backup.example.test."))).status == "up"
    assert (await run_check(dns_spec(stub_dns, "example.test", "TXT", "v=spf1 -all"))).status == "up"
    assert (await run_check(dns_spec(stub_dns, "example.test", "NS", "ns1.example.test"))).status == "up"
    assert (await run_check(dns_spec(stub_dns, "alias.example.test", "CNAME", "WWW.example.test."))).status == "up"
    r = await run_check(dns_spec(stub_dns, "www.example.test", "A", "192.0.2.99"))
    assert (r.status, r.reason) == ("down", "value_mismatch")
    r = await run_check(dns_spec(stub_dns, "missing.example.test", "A"))
    assert (r.status, r.reason) == ("down", "nxdomain")
    r = await run_check(dns_spec(stub_dns, "empty.example.test", "TXT"))
    assert (r.status, r.reason) == ("down", "no_records")


async def test_dns_unanswered_times_out():
    import socket

    silent = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)  # bound, never answers
    silent.bind(("127.0.0.1", 0))
    try:
        spec = {"type": "dns", "timeout": 0.5, "config": {"hostname": "www.example.test", "record_type": "A",
                                                          "nameserver": "127.0.0.1",
                                                          "nameserver_port": silent.getsockname()[1]}}
        r = await run_check(spec)
        assert (r.status, r.reason) == ("down", "timeout")
    finally:
        silent.close()


def tls_spec(server, ca_pem: str | None, warn_days: int = 14) -> dict:
    return {"type": "tls", "timeout": 3, "config": {"host": "localhost", "port": server.port, "warn_days": warn_days,
                                                    "ca_pem": ca_pem}}


async def test_tls_certificates(tls_peers):
    r = await run_check(tls_spec(tls_peers.valid, tls_peers.ca_pem))
    assert r.status == "up" and 88 < float(r.details["days_left"]) < 91
    r = await run_check(tls_spec(tls_peers.expiring, tls_peers.ca_pem))
    assert (r.status, r.reason) == ("degraded", "certificate_expiring")
    assert (await run_check(tls_spec(tls_peers.expiring, tls_peers.ca_pem, warn_days=3))).status == "up"
    r = await run_check(tls_spec(tls_peers.valid, tls_peers.ca_pem, warn_days=120))
    assert r.status == "degraded"
    r = await run_check(tls_spec(tls_peers.expired, tls_peers.ca_pem))
    assert (r.status, r.reason) == ("down", "certificate_expired")
    r = await run_check(tls_spec(tls_peers.self_signed, tls_peers.ca_pem))
    assert (r.status, r.reason) == ("down", "certificate_invalid")
    # Without the private CA the system store does not trust the chain.
    r = await run_check(tls_spec(tls_peers.valid, None))
    assert (r.status, r.reason) == ("down", "certificate_invalid")
    r = await run_check({"type": "tls", "timeout": 2, "config": {"host": "localhost", "port": closed_port()}})
    assert (r.status, r.reason) == ("down", "connect_failed")


async def test_http_redirect_to_another_origin_drops_every_header_the_user_set(http_target):
    """Two real servers on 127.0.0.1, different ports: a different port is a different origin."""
    from tests.monitors.conftest import HttpTarget

    other = HttpTarget()
    try:
        secrets = {"Authorization": "Bearer s3cr3t", "Cookie": "session=abc", "Proxy-Authorization": "Basic eA==",
                   "X-Api-Key": "key-123", "X-Custom-Token": "tok"}
        before = len(other.hits)
        r = await run_check(http(http_target.url(f"/redirect?to={other.url('/ok')}"), headers=secrets))
        assert r.status == "up" and r.details["final_url"] == other.url("/ok")
        landed = other.hits[before]["headers"]
        assert not {k.lower() for k in secrets} & {k.lower() for k in landed}, landed
        # The first hop got them, and a redirect within the same origin keeps them.
        start = len(http_target.hits)
        r = await run_check(http(http_target.url("/redirect?to=/ok"), headers=secrets))
        assert r.status == "up"
        assert http_target.hits[start]["headers"]["X-Api-Key"] == "key-123"
        assert http_target.hits[start + 1]["path"] == "/ok" and http_target.hits[start + 1]["headers"]["X-Api-Key"] \
            == "key-123" and http_target.hits[start + 1]["headers"]["Authorization"] == "Bearer s3cr3t"
        # And back to the first origin after a hop elsewhere: still nothing (dropped for good).
        url = other.url(f"/redirect?to={http_target.url('/ok')}")
        r = await run_check(http(url, headers=secrets))
        assert r.status == "up" and "X-Api-Key" not in http_target.hits[-1]["headers"]
    finally:
        other.close()
