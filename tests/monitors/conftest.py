"""Real peers on loopback for monitor checks: an HTTP server, a TCP listener, a stub DNS server
(dnspython builds the answers) and a TLS server with short-lived certificates (cryptography).

The test config allows private targets (XINEX_OUTBOUND_ALLOW_PRIVATE=true); SSRF tests pass
allow_private=False explicitly.
"""

from __future__ import annotations

import socket
import ssl
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import dns.message
import dns.rcode
import dns.rrset
import pytest
from sqlalchemy import update
from xinex.models.monitors import Monitor
from xinex.models.tenant import Tenant

# --- HTTP ---------------------------------------------------------------------------------------

class HttpTarget:
    """Paths: /ok, /status/<code>, /slow?ms=, /redirect?to=<url>&code=, /big?bytes=, /echo, /flip."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.hits: list[dict] = []
        self.flip_status = 200
        target = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # keep test output quiet
                pass

            def _send(self, code: int, body: bytes, headers: dict | None = None) -> None:
                self.send_response(code)
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                parts = urlsplit(self.path)
                query = {k: v[0] for k, v in parse_qs(parts.query).items()}
                target.hits.append({"method": self.command, "path": parts.path, "headers": dict(self.headers),
                                    "body": body, "host": self.headers.get("Host")})
                path = parts.path
                if path == "/ok":
                    self._send(200, b"<html>all systems operational</html>")
                elif path.startswith("/status/"):
                    self._send(int(path.rsplit("/", 1)[1]), b"SECRET-BODY-CONTENT status page")
                elif path == "/slow":
                    time.sleep(int(query.get("ms", "300")) / 1000)
                    self._send(200, b"slow but fine")
                elif path == "/redirect":
                    self._send(int(query.get("code", "302")), b"", {"Location": query["to"]})
                elif path == "/big":
                    self._send(200, b"x" * int(query.get("bytes", "100000")))
                elif path == "/echo":
                    self._send(200, body or b"empty")
                elif path == "/flip":
                    self._send(target.flip_status, b"flip")
                else:
                    self._send(404, b"not found")

            do_GET = do_POST = do_PUT = do_HEAD = do_DELETE = _handle

        self.server = ThreadingHTTPServer((host, 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.base = f"http://{host}:{self.port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str) -> str:
        return self.base + path

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="session")
def http_target():
    target = HttpTarget()
    yield target
    target.close()


# --- TCP ----------------------------------------------------------------------------------------

@pytest.fixture(scope="session")
def tcp_listener():
    """A listening socket that accepts and closes connections; yields its port."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    stop = threading.Event()

    def serve():
        sock.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = sock.accept()
                conn.close()
            except OSError:
                continue

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield sock.getsockname()[1]
    stop.set()
    thread.join(2)
    sock.close()


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- DNS ----------------------------------------------------------------------------------------

@dataclass
class StubDns:
    """UDP DNS server on 127.0.0.1: answers from `records` {(name, type): [rdata text]}, else NXDOMAIN."""

    records: dict = field(default_factory=dict)
    port: int = 0
    queries: list = field(default_factory=list)

    def start(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while not self.stop.is_set():
            try:
                data, addr = self.sock.recvfrom(4096)
            except OSError:
                continue
            query = dns.message.from_wire(data)
            question = query.question[0]
            name = question.name.to_text().rstrip(".").lower()
            rdtype = dns.rdatatype.to_text(question.rdtype)
            self.queries.append((name, rdtype))
            response = dns.message.make_response(query)
            answers = self.records.get((name, rdtype))
            if answers is None and not any(n == name for n, _ in self.records):
                response.set_rcode(dns.rcode.NXDOMAIN)
            elif answers:
                response.answer.append(dns.rrset.from_text_list(question.name, 60, "IN", rdtype, answers))
            self.sock.sendto(response.to_wire(), addr)

    def close(self) -> None:
        self.stop.set()
        self.thread.join(2)
        self.sock.close()


@pytest.fixture(scope="session")
def stub_dns():
    server = StubDns(records={
        ("www.example.test", "A"): ["192.0.2.10", "192.0.2.11"],
        ("www.example.test", "AAAA"): ["2001:db8::10"],
        ("example.test", "MX"): ["10 mail.example.test.", "20 backup.example.test."],
        ("example.test", "TXT"): ['"v=spf1 -all"'],
        ("example.test", "NS"): ["ns1.example.test."],
        ("alias.example.test", "CNAME"): ["www.example.test."],
        ("empty.example.test", "TXT"): [],
    })
    server.start()
    yield server
    server.close()


# --- TLS ----------------------------------------------------------------------------------------

def _cert_pair(subject_cn: str, issuer_key, issuer_name, not_before: datetime, not_after: datetime, *,
               ca: bool = False):
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject_cn)])
    builder = (x509.CertificateBuilder().subject_name(name).issuer_name(issuer_name or name)
               .public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(not_before).not_valid_after(not_after))
    if ca:
        builder = builder.add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True) \
            .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                         content_commitment=False, key_encipherment=False, data_encipherment=False,
                                         key_agreement=False, encipher_only=False, decipher_only=False), critical=True)
    else:
        builder = builder.add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False) \
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
    cert = builder.sign(issuer_key or key, hashes.SHA256())
    return key, cert, name


def _pem(key, cert) -> tuple[bytes, bytes]:
    from cryptography.hazmat.primitives import serialization

    return (key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                              serialization.NoEncryption()),
            cert.public_bytes(serialization.Encoding.PEM))


class TlsServer:
    """Serves TLS handshakes on 127.0.0.1 with one certificate (then closes each connection)."""

    def __init__(self, key_pem: bytes, chain_pem: bytes) -> None:
        tmp = Path(tempfile.mkdtemp())
        (tmp / "key.pem").write_bytes(key_pem)
        (tmp / "cert.pem").write_bytes(chain_pem)
        self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.ctx.load_cert_chain(tmp / "cert.pem", tmp / "key.pem")
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            try:
                conn.settimeout(2)
                tls = self.ctx.wrap_socket(conn, server_side=True)
                tls.recv(1)
                tls.close()
            except (OSError, ssl.SSLError):
                conn.close()

    def close(self) -> None:
        self.stop.set()
        self.thread.join(2)
        self.sock.close()


@dataclass
class TlsPeers:
    ca_pem: str
    valid: TlsServer  # 90 days left
    expiring: TlsServer  # 5 days left
    expired: TlsServer  # expired yesterday
    self_signed: TlsServer  # not issued by the CA


@pytest.fixture(scope="session")
def tls_peers():
    now = datetime.now(UTC)
    ca_key, ca_cert, ca_name = _cert_pair("Xinex Test CA", None, None, now - timedelta(days=1),
                                          now + timedelta(days=365), ca=True)
    _, ca_pem = _pem(ca_key, ca_cert)
    servers = {}
    for label, start, end in (("valid", now - timedelta(days=1), now + timedelta(days=90)),
                              ("expiring", now - timedelta(days=60), now + timedelta(days=5)),
                              ("expired", now - timedelta(days=90), now - timedelta(days=1))):
        key, cert, _ = _cert_pair("localhost", ca_key, ca_name, start, end)
        key_pem, cert_pem = _pem(key, cert)
        servers[label] = TlsServer(key_pem, cert_pem + ca_pem)
    key, cert, _ = _cert_pair("localhost", None, None, now - timedelta(days=1), now + timedelta(days=90))
    servers["self_signed"] = TlsServer(*_pem(key, cert))
    peers = TlsPeers(ca_pem=ca_pem.decode(), **servers)
    yield peers
    for server in servers.values():
        server.close()


# --- helpers ------------------------------------------------------------------------------------

async def set_tier(db, tenant_id: str, tier: str) -> None:
    async with db.session(system="test") as session:
        await session.execute(update(Tenant).where(Tenant.id == uuid.UUID(tenant_id)).values(tier=tier))


async def unschedule(db, monitor: dict) -> None:
    """Take a monitor out of the app's own scheduler so a test drives its checks by hand."""
    async with db.session(system="test") as session:
        await session.execute(update(Monitor).where(Monitor.id == uuid.UUID(monitor["id"]))
                              .values(next_check_at=None))


@pytest.fixture
def make_monitor(client, alice, db):
    """Create through the API (paused, so the app's scheduler leaves it alone), then un-pause it
    in the database without scheduling it: the test runs its checks."""

    async def _make(account=None, *, scheduled: bool = False, **body) -> dict:
        account = account or alice
        body.setdefault("name", f"mon {uuid.uuid4().hex[:8]}")
        body.setdefault("interval", 300)
        body.setdefault("paused", not scheduled)
        r = await client.post("/api/v1/monitors", json=body, headers=account.bearer)
        assert r.status_code == 201, r.text
        data = r.json()
        if not scheduled:
            async with db.session(system="test") as session:
                await session.execute(update(Monitor).where(Monitor.id == uuid.UUID(data["id"]))
                                      .values(status="pending", next_check_at=None))
            data["status"] = "pending"
        return data

    return _make
