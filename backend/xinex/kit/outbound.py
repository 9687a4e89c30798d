"""The one SSRF-safe outbound HTTP client of the platform (webhooks, notifications, monitors, …).

The host is resolved *inside* the connection step and every resolved address is vetted there; the
socket then connects to that very address while Host and SNI keep the name. There is no second
resolution between the check and the connect, so DNS rebinding cannot slip a private address in.
Refused: loopback, private (RFC 1918, ULA), link-local (incl. 169.254.169.254), CGNAT, multicast,
unspecified, reserved, IPv4-mapped/NAT64/6to4 forms of those, unless the operator sets
XINEX_OUTBOUND_ALLOW_PRIVATE. Redirects are followed by hand, each one re-vetted. Errors carry a
machine `reason` and never the response body.
"""

from __future__ import annotations

import asyncio
import functools
import ipaddress
import re
import socket
import ssl
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin

import httpcore
import httpx

MAX_REDIRECTS = 5
MAX_BODY_BYTES = 1024 * 1024
CGNAT = ipaddress.ip_network("100.64.0.0/10")
# Addresses that are never a sensible destination, even when private targets are allowed.
ALWAYS_BLOCKED = ("unspecified_address", "multicast_address")


class OutboundError(Exception):
    """A request that did not produce a response. `reason` is a stable machine code."""

    def __init__(self, reason: str, message: str | None = None) -> None:
        self.reason = reason
        super().__init__(message or reason.replace("_", " "))


class OutboundBlocked(OutboundError):
    """The destination is not allowed (scheme, address, redirect budget)."""


class OutboundFailed(OutboundError):
    """The destination could not be reached or answered badly (DNS, connect, timeout, TLS, size)."""


@dataclass(frozen=True)
class Timeouts:
    connect: float = 5.0
    read: float = 10.0
    total: float = 30.0


@dataclass
class OutboundResponse:
    status_code: int
    headers: httpx.Headers
    content: bytes  # at most max_body bytes
    url: str  # after redirects
    elapsed_ms: float
    truncated: bool = False  # the body was longer than max_body and reading stopped
    redirects: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", "replace")


# --- address policy ---------------------------------------------------------------------------

def _embedded_v4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip in ipaddress.ip_network("64:ff9b::/96"):  # NAT64 well-known prefix
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    if ip in ipaddress.ip_network("::/96") and int(ip) > 1:  # deprecated IPv4-compatible form
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def address_problem(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str | None:
    """Why `ip` is not a public destination, or None when it is."""
    if isinstance(ip, ipaddress.IPv6Address):
        inner = _embedded_v4(ip)
        if inner is not None:
            return address_problem(inner)
    if ip.is_unspecified:
        return "unspecified_address"
    if ip.is_multicast:
        return "multicast_address"
    if ip.is_loopback:
        return "loopback_address"
    if ip.is_link_local:
        return "link_local_address"
    if isinstance(ip, ipaddress.IPv4Address) and ip in CGNAT:
        return "shared_address"
    if ip.is_reserved:
        return "reserved_address"
    if ip.is_private:
        return "private_address"
    if not ip.is_global:
        return "reserved_address"
    return None


# What an operator reads when a target is refused: the setting that would allow it.
ALLOW_HINT = "set XINEX_OUTBOUND_ALLOW_PRIVATE=true to allow private/loopback targets"


def vet_ip(ip_text: str, allow_private: bool, *, host: str | None = None) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    ip = ipaddress.ip_address(ip_text.split("%", 1)[0])
    problem = address_problem(ip)
    if problem and (not allow_private or problem in ALWAYS_BLOCKED):
        what = f"{problem.replace('_', ' ')} {ip}"
        if host and host.strip("[]") != str(ip):
            what = f"{host} resolves to {what}"
        raise OutboundBlocked(problem if problem != "shared_address" else "private_address",
                              f"{what} is never a destination" if problem in ALWAYS_BLOCKED
                              else f"{what} — {ALLOW_HINT}")
    return ip


def _allow_private(value: bool | None) -> bool:
    if value is not None:
        return value
    from xinex.settings import get_settings

    return get_settings().outbound_allow_private


# --- resolution -------------------------------------------------------------------------------

async def _resolve(host: str, port: int) -> list[str]:
    """getaddrinfo normalises every notation (0177.0.0.1, 2130706433, 0x7f.1, ::ffff:…)."""
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise OutboundFailed("dns_failure", f"cannot resolve {host}") from exc
    seen: list[str] = []
    for info in infos:
        addr = str(info[4][0])
        if addr not in seen:
            seen.append(addr)
    if not seen:
        raise OutboundFailed("dns_failure", f"cannot resolve {host}")
    return seen


# Tests replace this to simulate a name whose answer changes between lookups.
resolver: Callable[[str, int], Awaitable[list[str]]] = _resolve


async def vet_tcp_target(host: str, port: int, *, allow_private: bool | None = None) -> list[str]:
    """Resolve `host` and return its addresses when every one is allowed (TCP/TLS checks connect
    to one of these, never to the name again)."""
    if not 1 <= int(port) <= 65535:
        raise OutboundBlocked("invalid_port", "port must be 1-65535")
    host = host.strip().strip("[]")
    if not host:
        raise OutboundBlocked("invalid_url", "empty host")
    allowed = _allow_private(allow_private)
    addresses = await resolver(host, int(port))
    for addr in addresses:
        vet_ip(addr, allowed, host=host)
    return addresses


# --- at creation ------------------------------------------------------------------------------

RESOLVE_AT_CREATION_S = 2.0


async def refuse_unreachable_host(host: str, port: int, *, allow_private: bool | None = None,
                                  resolve_timeout: float = RESOLVE_AT_CREATION_S) -> None:
    """Raise OutboundBlocked when no request to host:port could ever leave under the current policy:
    an address literal that is refused, or a name that resolves (now) to a refused address — every
    request would be refused the same way, since each one vets every address the name has. A name
    that does not resolve within `resolve_timeout` is accepted: DNS may be down for a moment, or the
    name not created yet; its deliveries then fail with `dns_failure` (visible in the logs/tests)."""
    allowed = _allow_private(allow_private)
    bare = host.strip().strip("[]")
    ip = literal_ip(bare)
    if ip is not None:
        vet_ip(str(ip), allowed)
        return
    if allowed:
        return  # a name may resolve to anything but unspecified/multicast, which no DNS hands out
    try:
        addresses = await asyncio.wait_for(resolver(bare, int(port)), resolve_timeout)
    except (OutboundFailed, TimeoutError, OSError):
        return
    for addr in addresses:
        vet_ip(addr, allowed, host=bare)


async def refuse_unreachable_url(url: str, *, allow_private: bool | None = None,
                                 resolve_timeout: float = RESOLVE_AT_CREATION_S) -> None:
    """`check_url` plus `refuse_unreachable_host` for the URL's host and port."""
    parsed = check_url(url, allow_private)
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    await refuse_unreachable_host(parsed.host, port, allow_private=allow_private, resolve_timeout=resolve_timeout)


# IDNA-encoded (raw_host), a host is ASCII letters, digits, '-', '.', '_' (seen in the wild),
# or an IPv6 literal (httpx keeps its brackets out of .host).
_HOST_RE = re.compile(r"[A-Za-z0-9._-]+|[0-9A-Fa-f.]*:[0-9A-Fa-f:.]*(%[A-Za-z0-9._~-]+)?")


_LABEL = "[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
# What check_url accepts, as a JSON Schema pattern for the OpenAPI document (a subset: host names and
# IPv4 literals, ports up to 9999, unreserved path characters).
HTTP_URL_SCHEMA = (rf"^https?://{_LABEL}(\.{_LABEL})*(:[1-9][0-9]{{0,3}})?"
                   r"(/[A-Za-z0-9._~!$&'()*+,;=:@/?#-]*)?$")


def check_url(url: str, allow_private: bool | None = None) -> httpx.URL:
    """Syntax and scheme only (no resolution): http/https with a host."""
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError, ValueError) as exc:
        _refuse_legacy_ip(url, allow_private)
        raise OutboundBlocked("invalid_url", "not a valid URL") from exc
    if parsed.scheme not in ("http", "https"):
        raise OutboundBlocked("scheme_not_allowed", "only http and https URLs are allowed")
    if not parsed.host:
        raise OutboundBlocked("invalid_url", "the URL has no host")
    if parsed.port is not None and not 0 < parsed.port <= 65535:
        raise OutboundBlocked("invalid_url", "the port must be between 1 and 65535")
    if not _HOST_RE.fullmatch(parsed.raw_host.decode("ascii", "replace")):
        raise OutboundBlocked("invalid_url", "the host has characters no host name can hold")
    if parsed.userinfo:
        raise OutboundBlocked("invalid_url", "credentials in the URL are not allowed")
    return parsed


def literal_ip(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The address a numeric host stands for, in any notation inet_aton accepts (0177.0.0.1,
    2130706433, 0x7f.1) or IPv6; None for a name."""
    host = host.strip().strip("[]")
    try:
        return ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        pass
    if host and all(c in "0123456789abcdefxABCDEFX." for c in host) and any(c.isdigit() for c in host):
        try:
            return ipaddress.IPv4Address(socket.inet_aton(host))
        except OSError:
            return None
    return None


def _refuse_legacy_ip(url: str, allow_private: bool | None) -> None:
    """httpx rejects some legacy IPv4 notations outright; name the real reason when it is private."""
    from urllib.parse import urlsplit

    try:
        host = urlsplit(url).hostname or ""
    except ValueError:
        return
    ip = literal_ip(host)
    if ip is not None:
        vet_ip(str(ip), _allow_private(allow_private))


# --- transport --------------------------------------------------------------------------------

class _VettingBackend(httpcore.AsyncNetworkBackend):
    """Resolves and vets inside connect_tcp, then connects to the vetted address itself."""

    def __init__(self, allow_private: bool) -> None:
        self.allow_private = allow_private
        self.inner = httpcore.AnyIOBackend()
        self.connected: list[str] = []  # addresses actually dialled (diagnostics, tests)

    async def connect_tcp(self, host: str, port: int, timeout: float | None = None,
                          local_address: str | None = None,
                          socket_options: Iterable[Any] | None = None) -> httpcore.AsyncNetworkStream:
        try:
            addresses = await asyncio.wait_for(vet_tcp_target(host, port, allow_private=self.allow_private),
                                               timeout)
        except TimeoutError as exc:
            raise OutboundFailed("dns_failure", f"resolving {host} timed out") from exc
        last: Exception | None = None
        for addr in addresses:
            try:
                stream = await self.inner.connect_tcp(addr, port, timeout=timeout, local_address=local_address,
                                                      socket_options=socket_options)
                self.connected.append(addr)
                return stream
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                last = exc
        assert last is not None
        raise last

    async def connect_unix_socket(self, *args: Any, **kwargs: Any) -> httpcore.AsyncNetworkStream:
        raise OutboundBlocked("scheme_not_allowed", "unix sockets are not allowed")

    async def sleep(self, seconds: float) -> None:
        await self.inner.sleep(seconds)


@functools.lru_cache(maxsize=2)
def _shared_ssl_context(verify: bool) -> ssl.SSLContext:
    # Loading the CA bundle costs tens of milliseconds: build each kind of context once per process.
    return httpx.create_ssl_context(verify=verify)


class VettedTransport(httpx.AsyncHTTPTransport):
    def __init__(self, *, allow_private: bool, verify: bool | ssl.SSLContext = True) -> None:
        context = verify if isinstance(verify, ssl.SSLContext) else _shared_ssl_context(bool(verify))
        # trust_env=False: proxies from the environment would bypass the checks.
        super().__init__(trust_env=False, verify=context)
        self.backend = _VettingBackend(allow_private)
        self._pool = httpcore.AsyncConnectionPool(ssl_context=context, max_connections=10,
                                                  network_backend=self.backend)


def _redirect(method: str, status: int, location: str, base: str) -> tuple[str, str, bool]:
    """Next (method, url, keep_body) per RFC 9110: 303 (and 301/302 after POST) becomes GET."""
    target = urljoin(base, location)
    if status == 303 and method != "HEAD" or status in (301, 302) and method == "POST":
        return "GET", target, False
    return method, target, status in (307, 308)


def _origin(url: httpx.URL) -> tuple[str, str, int | None]:
    return url.scheme, url.host, url.port


async def request(method: str, url: str, *, headers: dict[str, str] | None = None, content: bytes | str | None = None,
                  json: Any = None, timeouts: Timeouts = Timeouts(), max_body: int = MAX_BODY_BYTES,
                  follow_redirects: bool = True, max_redirects: int = MAX_REDIRECTS,
                  allow_private: bool | None = None, verify: bool | ssl.SSLContext = True) -> OutboundResponse:
    """Send one request through the guard. Raises OutboundBlocked / OutboundFailed."""
    allowed = _allow_private(allow_private)
    started = time.monotonic()
    if json is not None:
        import json as jsonlib

        content = jsonlib.dumps(json, separators=(",", ":"))
        headers = {"content-type": "application/json", **(headers or {})}
    try:
        async with asyncio.timeout(timeouts.total):
            return await _send(method.upper(), url, headers or {}, content, timeouts, max_body, follow_redirects,
                               max_redirects, allowed, verify, started)
    except TimeoutError as exc:
        raise OutboundFailed("timeout", f"no complete answer within {timeouts.total:g}s") from exc


async def _send(method, url, headers, content, timeouts, max_body, follow, max_redirects, allowed, verify,
                started) -> OutboundResponse:
    transport = VettedTransport(allow_private=allowed, verify=verify)
    timeout = httpx.Timeout(timeouts.read, connect=timeouts.connect)
    redirects: list[str] = []
    current = check_url(url, allowed)
    async with httpx.AsyncClient(transport=transport, timeout=timeout, follow_redirects=False,
                                 trust_env=False) as client:
        while True:
            req = client.build_request(method, current, headers=headers, content=content)
            try:
                # The transport, not client.send: httpx would parse Location itself and choke on
                # notations we want to name precisely (e.g. 0177.0.0.1).
                resp = await transport.handle_async_request(req)
                resp.request = req
            except OutboundError:
                raise
            except httpx.ConnectTimeout as exc:
                raise OutboundFailed("connect_timeout", "connecting timed out") from exc
            except httpx.ReadTimeout as exc:
                raise OutboundFailed("read_timeout", "reading the response timed out") from exc
            except httpx.TimeoutException as exc:
                raise OutboundFailed("timeout", "the request timed out") from exc
            except httpx.ConnectError as exc:
                cause = exc.__context__ or exc.__cause__
                if isinstance(cause, OutboundError):
                    raise cause from None
                reason = "tls_error" if "SSL" in str(exc) or "certificate" in str(exc).lower() else "connect_failed"
                raise OutboundFailed(reason, "could not connect" if reason == "connect_failed"
                                     else "TLS handshake failed") from exc
            except httpx.HTTPError as exc:
                raise OutboundFailed("protocol_error", f"{type(exc).__name__}") from exc
            try:
                location = resp.headers.get("location")
                if follow and resp.status_code in (301, 302, 303, 307, 308) and location:
                    if len(redirects) >= max_redirects:
                        raise OutboundBlocked("too_many_redirects", f"more than {max_redirects} redirects")
                    method, nxt, keep = _redirect(method, resp.status_code, location, str(current))
                    target = check_url(nxt, allowed)
                    if _origin(target) != _origin(current):
                        # Credentials meant for one origin never travel to another, and any header the
                        # caller set may be one (X-Api-Key, a custom token): only the body's type goes on.
                        headers = {k: v for k, v in headers.items() if k.lower() == "content-type"}
                    if not keep:
                        content = None
                        headers = {k: v for k, v in headers.items() if k.lower() not in ("content-type",
                                                                                        "content-length")}
                    redirects.append(str(target))
                    current = target
                    continue
                body, truncated = await _read_capped(resp, max_body)
            finally:
                await resp.aclose()
            return OutboundResponse(status_code=resp.status_code, headers=resp.headers, content=body,
                                    url=str(current), elapsed_ms=(time.monotonic() - started) * 1000,
                                    truncated=truncated, redirects=redirects)


async def _read_capped(resp: httpx.Response, max_body: int) -> tuple[bytes, bool]:
    chunks: list[bytes] = []
    size = 0
    try:
        async for chunk in resp.aiter_bytes():
            chunks.append(chunk)
            size += len(chunk)
            if size > max_body:
                return b"".join(chunks)[:max_body], True
    except httpx.ReadTimeout as exc:
        raise OutboundFailed("read_timeout", "reading the response timed out") from exc
    except httpx.HTTPError as exc:
        raise OutboundFailed("protocol_error", f"{type(exc).__name__} while reading") from exc
    return b"".join(chunks), False


# The platform's own API, called by its remote agents (`xinex probe`): an address the operator
# configured, not a user-supplied destination, so it is not vetted against private addresses (a
# probe usually reaches the API on a private network) — but it is built here, so that every HTTP
# client of the code base comes from this module.
PlatformClient = httpx.AsyncClient
Transport = httpx.AsyncBaseTransport
HTTPError = httpx.HTTPError
HTTPStatusError = httpx.HTTPStatusError


def platform_client(base_url: str, token: str, *, timeout: float = 30.0,
                    transport: Transport | None = None) -> PlatformClient:
    return httpx.AsyncClient(base_url=base_url.rstrip("/"), headers={"Authorization": f"Bearer {token}"},
                             timeout=timeout, transport=transport)


# Push providers (APNs, FCM and Google's OAuth token endpoint): addresses the operator configured,
# not user-supplied, so not vetted against private addresses either. APNs speaks HTTP/2 only, and
# both providers want one long-lived connection carrying many concurrent streams rather than a
# connection per notification: one pooled client per (event loop, CA file), reused.
ProviderClient = httpx.AsyncClient
ProviderResponse = httpx.Response
_provider_clients: dict[tuple[int, str], tuple[asyncio.AbstractEventLoop, httpx.AsyncClient]] = {}
# An idle provider connection is kept this long (httpx's default is 5 s): Apple asks providers to keep their
# connections open rather than connect per notification, and treats rapid reconnects as possible abuse.
# A connection the provider closed meanwhile (GOAWAY) is replaced on the next send.
PROVIDER_KEEPALIVE_S = 3600.0


def provider_client(*, ca_file: str = "", timeout: float = 10.0) -> ProviderClient:
    """The shared HTTP/2 client of this event loop for push providers. `ca_file`: a CA to trust in
    addition to the system's (a test CA, a TLS-inspecting proxy)."""
    loop = asyncio.get_running_loop()
    key = (id(loop), ca_file)
    found = _provider_clients.get(key)
    client = found[1] if found is not None and found[0] is loop else None
    if client is None or client.is_closed:
        context = httpx.create_ssl_context(verify=True)
        if ca_file:
            context.load_verify_locations(cafile=ca_file)
        client = httpx.AsyncClient(http2=True, verify=context, trust_env=False, follow_redirects=False,
                                   timeout=httpx.Timeout(timeout, connect=min(5.0, timeout)),
                                   limits=httpx.Limits(max_connections=20, max_keepalive_connections=20,
                                                       keepalive_expiry=PROVIDER_KEEPALIVE_S))
        _provider_clients[key] = (loop, client)
    return client


async def close_provider_clients() -> None:
    """Close this loop's provider clients (the app's and the worker's shutdown, tests)."""
    loop_id = id(asyncio.get_running_loop())
    for key in [k for k in _provider_clients if k[0] == loop_id]:
        await _provider_clients.pop(key)[1].aclose()
