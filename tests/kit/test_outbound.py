"""The SSRF-safe outbound client: with the guard ON (allow_private=False) private destinations are
refused whatever their notation, through redirects and DNS rebinding; with it off, the time and
size caps still hold. Peers are real HTTP servers on loopback."""

from __future__ import annotations

import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from xinex.kit import outbound
from xinex.kit.outbound import OutboundBlocked, OutboundFailed, Timeouts, check_url
from xinex.settings import Settings


class Peer:
    def __init__(self, host: str = "127.0.0.1") -> None:
        self.hits: list[tuple[str, str, dict]] = []
        peer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_GET(self):
                peer.hits.append(("GET", self.path, dict(self.headers)))
                if self.path.startswith("/to?"):
                    self.send_response(302)
                    self.send_header("Location", self.path.split("?", 1)[1])
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                if self.path == "/loop":
                    self.send_response(302)
                    self.send_header("Location", "/loop")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                if self.path == "/slow":
                    time.sleep(1.0)
                body = b"y" * 200_000 if self.path == "/big" else b"hello from the peer"
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                try:
                    self.wfile.write(body)
                except OSError:
                    pass

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                peer.hits.append(("POST", self.path, {**dict(self.headers), "body": self.rfile.read(length)}))
                self.send_response(303)
                self.send_header("Location", "/done")
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.server = ThreadingHTTPServer((host, 0), Handler)
        self.server.daemon_threads = True
        self.host, self.port = host, self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def url(self, path: str = "/") -> str:
        return f"http://{self.host}:{self.port}{path}"


@pytest.fixture(scope="module")
def peer():
    p = Peer()
    yield p
    p.server.shutdown()


@pytest.fixture(scope="module")
def public_peer():
    """A peer standing in for a public web host: 127.0.0.2 counts as public in these tests only."""
    p = Peer("127.0.0.2")
    yield p
    p.server.shutdown()


@pytest.fixture
def guard_on():
    settings = Settings(outbound_allow_private=False)
    assert settings.outbound_allow_private is False
    return settings.outbound_allow_private


@pytest.mark.parametrize("url,reason", [
    ("http://127.0.0.1:{port}/", "loopback_address"),
    ("http://localhost:{port}/", "loopback_address"),
    ("http://169.254.169.254/latest/meta-data/", "link_local_address"),
    ("http://0177.0.0.1:{port}/", "loopback_address"),
    ("http://2130706433:{port}/", "loopback_address"),
    ("http://0x7f.1:{port}/", "loopback_address"),
    ("http://[::ffff:127.0.0.1]:{port}/", "loopback_address"),
    ("http://[::1]:{port}/", "loopback_address"),
    ("http://[fe80::1]/", "link_local_address"),
    ("http://10.1.2.3/", "private_address"),
    ("http://192.168.0.1/", "private_address"),
    ("http://172.16.5.4/", "private_address"),
    ("http://100.64.0.1/", "private_address"),
    ("http://[fd00::1]/", "private_address"),
    ("http://0.0.0.0:{port}/", "unspecified_address"),
    ("http://224.0.0.1/", "multicast_address"),
    ("http://240.0.0.1/", "reserved_address"),
    ("http://[64:ff9b::a9fe:a9fe]/", "link_local_address"),
])
async def test_private_destinations_refused(peer, guard_on, url, reason):
    before = len(peer.hits)
    with pytest.raises(OutboundBlocked) as info:
        await outbound.request("GET", url.format(port=peer.port), allow_private=guard_on,
                               timeouts=Timeouts(1, 1, 3))
    assert info.value.reason == reason
    assert len(peer.hits) == before  # nothing reached the peer


@pytest.mark.parametrize("url,reason", [
    ("ftp://example.com/", "scheme_not_allowed"), ("file:///etc/passwd", "scheme_not_allowed"),
    ("gopher://127.0.0.1/", "scheme_not_allowed"), ("http://user:pw@example.com/", "invalid_url"),
    ("not a url", "scheme_not_allowed"),
])
async def test_bad_urls_refused(guard_on, url, reason):
    with pytest.raises(OutboundBlocked) as info:
        await outbound.request("GET", url, allow_private=guard_on)
    assert info.value.reason == reason


async def test_vet_tcp_target(guard_on):
    for host in ("127.0.0.1", "0177.0.0.1", "2130706433", "::ffff:127.0.0.1", "169.254.169.254", "localhost"):
        with pytest.raises(OutboundBlocked):
            await outbound.vet_tcp_target(host, 443, allow_private=guard_on)
    with pytest.raises(OutboundBlocked) as info:
        await outbound.vet_tcp_target("example.com", 70000, allow_private=guard_on)
    assert info.value.reason == "invalid_port"
    assert await outbound.vet_tcp_target("127.0.0.1", 443, allow_private=True) == ["127.0.0.1"]
    assert await outbound.vet_tcp_target("93.184.216.34", 443, allow_private=guard_on) == ["93.184.216.34"]


@pytest.fixture
def public_127_0_0_2(monkeypatch):
    real = outbound.vet_ip

    def vet(ip_text: str, allow_private: bool, **kw):
        if ip_text == "127.0.0.2":
            import ipaddress

            return ipaddress.ip_address(ip_text)
        return real(ip_text, allow_private, **kw)

    monkeypatch.setattr(outbound, "vet_ip", vet)


async def test_redirect_from_allowed_host_to_private_refused(public_peer, peer, guard_on, public_127_0_0_2):
    ok = await outbound.request("GET", public_peer.url("/"), allow_private=guard_on)
    assert ok.status_code == 200 and ok.text == "hello from the peer"
    before = len(peer.hits)
    for target in (peer.url("/secret"), "http://169.254.169.254/latest/meta-data/", f"http://0177.0.0.1:{peer.port}/"):
        with pytest.raises(OutboundBlocked) as info:
            await outbound.request("GET", public_peer.url(f"/to?{target}"), allow_private=guard_on)
        assert info.value.reason in ("loopback_address", "link_local_address")
    assert len(peer.hits) == before
    # A redirect that stays on allowed hosts is followed, each hop re-vetted.
    resp = await outbound.request("GET", public_peer.url("/to?/final"), allow_private=guard_on)
    assert resp.status_code == 200 and resp.redirects == [public_peer.url("/final")]


async def test_dns_rebinding_cannot_reach_private(monkeypatch, peer, guard_on):
    """The name is resolved once, inside the connection step, and the vetted address is dialled:
    an answer that turns private on a later lookup is never used."""
    answers = [["93.184.216.34"], ["127.0.0.1"], ["127.0.0.1"]]
    calls: list[str] = []

    async def rebinding(host: str, port: int) -> list[str]:
        calls.append(host)
        return answers[min(len(calls) - 1, len(answers) - 1)]

    monkeypatch.setattr(outbound, "resolver", rebinding)
    before = len(peer.hits)
    with pytest.raises(OutboundFailed) as info:  # the public answer is dialled (unreachable test net)
        await outbound.request("GET", f"http://rebind.test:{peer.port}/", allow_private=guard_on,
                               timeouts=Timeouts(connect=1, read=1, total=3))
    assert info.value.reason in ("connect_failed", "connect_timeout", "timeout")
    assert calls == ["rebind.test"] and len(peer.hits) == before
    # The next lookup answers loopback: refused before any connection.
    with pytest.raises(OutboundBlocked) as info:
        await outbound.request("GET", f"http://rebind.test:{peer.port}/", allow_private=guard_on)
    assert info.value.reason == "loopback_address" and len(peer.hits) == before

    async def mixed(host: str, port: int) -> list[str]:
        return ["93.184.216.34", "127.0.0.1"]

    monkeypatch.setattr(outbound, "resolver", mixed)
    with pytest.raises(OutboundBlocked):  # one private answer among public ones refuses the name
        await outbound.request("GET", f"http://mixed.test:{peer.port}/", allow_private=guard_on)


async def test_allowed_private_when_operator_says_so(peer):
    resp = await outbound.request("GET", peer.url("/"), allow_private=True)
    assert resp.status_code == 200 and resp.text == "hello from the peer" and not resp.truncated


async def test_caps_and_redirect_budget(peer):
    resp = await outbound.request("GET", peer.url("/big"), allow_private=True, max_body=1000)
    assert resp.truncated and len(resp.content) == 1000
    with pytest.raises(OutboundBlocked) as info:
        await outbound.request("GET", peer.url("/loop"), allow_private=True, max_redirects=3)
    assert info.value.reason == "too_many_redirects"
    with pytest.raises(OutboundFailed) as info:
        await outbound.request("GET", peer.url("/slow"), allow_private=True, timeouts=Timeouts(1, 0.3, 5))
    assert info.value.reason == "read_timeout"
    with pytest.raises(OutboundFailed) as info:
        await outbound.request("GET", peer.url("/slow"), allow_private=True, timeouts=Timeouts(1, 5, 0.3))
    assert info.value.reason == "timeout"
    # A 303 after POST continues as a GET without the body.
    resp = await outbound.request("POST", peer.url("/submit"), content=b"payload", allow_private=True)
    assert resp.status_code == 200 and peer.hits[-1][:2] == ("GET", "/done")


async def test_credentials_dropped_on_cross_origin_redirect(peer, public_peer, public_127_0_0_2):
    await outbound.request("GET", public_peer.url(f"/to?{peer.url('/landing')}"), allow_private=True,
                           headers={"Authorization": "Bearer secret", "X-Other": "also dropped"})
    method, path, headers = peer.hits[-1]
    assert path == "/landing" and "Authorization" not in headers and "X-Other" not in headers


async def test_errors_never_carry_the_body(peer):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(OutboundFailed) as info:
        await outbound.request("GET", f"http://127.0.0.1:{port}/", allow_private=True)
    assert info.value.reason == "connect_failed" and "hello" not in str(info.value)


def test_default_policy_follows_settings(monkeypatch):
    from xinex import settings as settings_module

    monkeypatch.setattr(settings_module, "get_settings", lambda: Settings(outbound_allow_private=False))
    assert outbound._allow_private(None) is False
    monkeypatch.setattr(settings_module, "get_settings", lambda: Settings(outbound_allow_private=True))
    assert outbound._allow_private(None) is True


@pytest.mark.parametrize("url", ["http://example.com:99999/", "http://example.com:0/", "http://exa mple.com/",
                                 "http://%00/", "http://a%0Ab.example.com/"])
def test_urls_no_request_could_reach_are_refused(url):
    with pytest.raises(OutboundBlocked) as err:
        check_url(url, allow_private=True)
    assert err.value.reason == "invalid_url"


@pytest.mark.parametrize(("url", "host"), [("https://bücher.de/", "xn--bcher-kva.de"), ("http://[::1]:8080/", "::1"),
                                           ("http://a_b.example.com/", "a_b.example.com")])
def test_idn_ipv6_and_underscore_hosts_are_kept(url, host):
    assert check_url(url, allow_private=True).raw_host.decode() == host
