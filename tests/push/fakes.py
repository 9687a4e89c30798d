"""Local stand-ins for APNs and FCM: real HTTP/2 over TLS (a throwaway test CA), checking what the real
services check — the APNs provider JWT (ES256, kid, iss, age), the FCM OAuth 2 JWT bearer grant and
access token — and recording every request. Each runs in its own thread and event loop, so a worker
process, a test and a benchmark all talk to it over the network.

Behaviour per device token is scripted: a list of answers taken one per request ("ok", "429",
"500", "unregistered", "bad_token", "stall"), then "ok" forever. "stall" holds the request unanswered
until `release()`; a stalled request whose connection dies is recorded as unanswered.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import ipaddress
import json
import ssl
import threading
import time
import uuid
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import h2.config
import h2.connection
import h2.events
import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

# --- a test CA and a server certificate for 127.0.0.1 / localhost -------------------------------

def make_ca(directory: Path) -> tuple[Path, Path, Path]:
    """(ca.pem, server.pem, server.key) under `directory`."""
    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Xinex test CA")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
          .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(hours=1))
          .not_valid_after(now + dt.timedelta(days=2))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                       content_commitment=False, key_encipherment=False, data_encipherment=False,
                                       key_agreement=False, encipher_only=False, decipher_only=False), critical=True)
          .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
            .issuer_name(ca_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(hours=1)).not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost"),
                                                        x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256()))
    directory.mkdir(parents=True, exist_ok=True)
    paths = directory / "ca.pem", directory / "server.pem", directory / "server.key"
    paths[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return paths


def ec_key_pem() -> tuple[str, Any]:
    """An APNs-style .p8 key (PKCS#8 P-256) and its public key."""
    key = ec.generate_private_key(ec.SECP256R1())
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption()).decode()
    return pem, key.public_key()


def service_account(project_id: str, token_uri: str) -> tuple[dict, Any]:
    """A Google service-account key file (the fields FCM's OAuth grant uses) and its public key."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption()).decode()
    return {"type": "service_account", "project_id": project_id, "private_key_id": uuid.uuid4().hex,
            "private_key": pem, "client_email": f"xinex-push@{project_id}.iam.gserviceaccount.com",
            "client_id": "1234567890", "token_uri": token_uri}, key.public_key()


# --- a small HTTP/2 server --------------------------------------------------------------------

@dataclass
class H2Request:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    received_at: float = field(default_factory=time.monotonic)
    answered_at: float | None = None  # time.monotonic(), for tests in this process
    answered_wall: float | None = None  # time.time(), for a benchmark in another process
    answered: bool = False
    status: int | None = None

    def json(self) -> Any:
        return json.loads(self.body)


class H2Server(ABC):
    """HTTP/2 over TLS (ALPN h2 only) on 127.0.0.1; `handle(request) -> (status, headers, body)` may await."""

    def __init__(self, cert: Path, key: Path) -> None:
        self.context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self.context.load_cert_chain(str(cert), str(key))
        self.context.set_alpn_protocols(["h2"])
        self.requests: list[H2Request] = []
        self.connections = 0  # TLS connections accepted so far (a pooled client opens few)
        self.loop = asyncio.new_event_loop()
        self.port = 0
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self._server: asyncio.Server | None = None

    def start(self) -> H2Server:
        self._thread.start()
        self._server = asyncio.run_coroutine_threadsafe(
            asyncio.start_server(self._connection, "127.0.0.1", 0, ssl=self.context), self.loop).result(10)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    def stop(self) -> None:
        async def close() -> None:
            assert self._server is not None
            self._server.close()
            for task in asyncio.all_tasks():
                if task is not asyncio.current_task():
                    task.cancel()

        asyncio.run_coroutine_threadsafe(close(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(10)

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    @abstractmethod
    async def handle(self, request: H2Request) -> tuple[int, dict[str, str], bytes]:
        """(status, headers, body) of one request: FakeAPNs and FakeFCM speak their provider's API here."""

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        conn = h2.connection.H2Connection(config=h2.config.H2Configuration(client_side=False,
                                                                          header_encoding="utf-8"))
        conn.local_settings.max_concurrent_streams = 1000
        conn.initiate_connection()
        writer.write(conn.data_to_send())
        streams: dict[int, H2Request] = {}
        try:
            while True:
                data = await reader.read(65536)
                if not data:
                    break
                for event in conn.receive_data(data):
                    if isinstance(event, h2.events.RequestReceived):
                        headers = dict(event.headers)
                        streams[event.stream_id] = H2Request(headers.get(":method", ""), headers.get(":path", ""),
                                                             headers, b"")
                    elif isinstance(event, h2.events.DataReceived):
                        streams[event.stream_id].body += event.data
                        conn.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
                    elif isinstance(event, h2.events.StreamEnded):
                        request = streams.pop(event.stream_id)
                        self.requests.append(request)
                        asyncio.ensure_future(self._respond(conn, writer, event.stream_id, request))
                    elif isinstance(event, h2.events.ConnectionTerminated):
                        return
                writer.write(conn.data_to_send())
                await writer.drain()
        except (ConnectionError, ssl.SSLError, asyncio.IncompleteReadError, asyncio.CancelledError):
            pass  # the client went away, or the fake is stopping
        finally:
            writer.close()

    async def _respond(self, conn: h2.connection.H2Connection, writer: asyncio.StreamWriter, stream_id: int,
                       request: H2Request) -> None:
        status, headers, body = await self.handle(request)
        if writer.is_closing():
            return  # the client is gone (killed mid-request): nothing was answered
        try:
            conn.send_headers(stream_id, [(":status", str(status)), ("content-length", str(len(body))),
                                          *headers.items()])
            conn.send_data(stream_id, body, end_stream=True)
            writer.write(conn.data_to_send())
            await writer.drain()
        except Exception:  # noqa: BLE001 - a reset stream or a dead connection: not answered
            return
        request.answered, request.status = True, status
        request.answered_at, request.answered_wall = time.monotonic(), time.time()


class Scripted(H2Server):
    """Answers per device token from a script; `stall` waits for `release()`."""

    def __init__(self, cert: Path, key: Path) -> None:
        super().__init__(cert, key)
        self.scripts: dict[str, list[str]] = {}
        self._released: asyncio.Event | None = None
        self.stalled = threading.Event()

    def script(self, token: str, *answers: str) -> None:
        self.scripts[token] = list(answers)

    def rearm(self) -> None:
        """Make the next `stall` wait again (a released gate stays open)."""
        async def go() -> None:
            self._released = None

        asyncio.run_coroutine_threadsafe(go(), self.loop).result(10)
        self.stalled.clear()

    def release(self) -> None:
        async def go() -> None:
            self._gate().set()

        asyncio.run_coroutine_threadsafe(go(), self.loop).result(10)

    def _gate(self) -> asyncio.Event:
        if self._released is None:
            self._released = asyncio.Event()
        return self._released

    async def next_answer(self, token: str) -> str:
        answers = self.scripts.get(token) or []
        answer = answers.pop(0) if answers else "ok"
        if answer == "stall":
            self.stalled.set()
            await self._gate().wait()
            return "ok"
        return answer


class FakeAPNs(Scripted):
    """POST /3/device/<token>: checks the provider JWT and the headers APNs requires."""

    def __init__(self, cert: Path, key: Path, *, public_key: Any, key_id: str, team_id: str, topic: str) -> None:
        super().__init__(cert, key)
        self.public_key, self.key_id, self.team_id, self.topic = public_key, key_id, team_id, topic
        self.provider_tokens: set[str] = set()

    def delivered(self, token: str | None = None) -> list[H2Request]:
        return [r for r in self.requests if r.answered and r.status == 200
                and (token is None or r.path.endswith(f"/3/device/{token}"))]

    @staticmethod
    def environment(request: H2Request) -> str:
        """The sandbox base URL of the tests ends in /sandbox (APNs tells them apart by host)."""
        return "sandbox" if request.path.startswith("/sandbox/") else "production"

    async def handle(self, request: H2Request) -> tuple[int, dict[str, str], bytes]:
        apns_id = request.headers.get("apns-id") or str(uuid.uuid4())
        problem = self._check(request)
        if problem:
            return 403 if "ProviderToken" in problem else 400, {"apns-id": apns_id}, json.dumps({"reason": problem}).encode()
        token = request.path.removeprefix("/sandbox").removeprefix("/3/device/")
        answer = await self.next_answer(token)
        if answer == "ok":
            return 200, {"apns-id": apns_id}, b""
        if answer == "unregistered":
            return 410, {"apns-id": apns_id}, json.dumps({"reason": "Unregistered",
                                                          "timestamp": int(time.time() * 1000)}).encode()
        if answer == "bad_token":
            return 400, {"apns-id": apns_id}, b'{"reason":"BadDeviceToken"}'
        if answer == "429":
            return 429, {"apns-id": apns_id}, b'{"reason":"TooManyRequests"}'
        if answer == "expired_provider_token":
            return 403, {"apns-id": apns_id}, b'{"reason":"ExpiredProviderToken"}'
        return int(answer), {"apns-id": apns_id}, b'{"reason":"InternalServerError"}'

    def _check(self, request: H2Request) -> str | None:
        if request.method != "POST" or not request.path.removeprefix("/sandbox").startswith("/3/device/"):
            return "BadPath"
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme != "bearer" or not token:
            return "MissingProviderToken"
        try:
            header = jwt.get_unverified_header(token)
            claims = jwt.decode(token, self.public_key, algorithms=["ES256"], options={"verify_aud": False})
        except jwt.PyJWTError:
            return "InvalidProviderToken"
        if header.get("kid") != self.key_id or claims.get("iss") != self.team_id:
            return "InvalidProviderToken"
        if time.time() - int(claims.get("iat", 0)) > 3600:
            return "ExpiredProviderToken"
        self.provider_tokens.add(token)
        if request.headers.get("apns-topic") != self.topic:
            return "BadTopic"
        if request.headers.get("apns-push-type") not in ("alert", "background"):
            return "InvalidPushType"
        if request.headers.get("apns-priority") not in ("5", "10"):
            return "BadPriority"
        try:
            uuid.UUID(request.headers.get("apns-id", ""))
            int(request.headers.get("apns-expiration", ""))
            payload = request.json()
        except ValueError:
            return "BadMessageId"
        if "aps" not in payload:
            return "PayloadEmpty"
        if len(request.body) > 4096:
            return "PayloadTooLarge"
        return None


class FakeFCM(Scripted):
    """POST /token (the OAuth 2 JWT bearer grant) and POST /v1/projects/<id>/messages:send."""

    def __init__(self, cert: Path, key: Path, *, public_key: Any, client_email: str, project_id: str) -> None:
        super().__init__(cert, key)
        self.public_key, self.client_email, self.project_id = public_key, client_email, project_id
        self.access_tokens: set[str] = set()
        self.grants = 0

    @property
    def token_url(self) -> str:
        return f"{self.url}/token"

    def delivered(self, token: str | None = None) -> list[H2Request]:
        return [r for r in self.requests if r.answered and r.status == 200 and r.path.endswith(":send")
                and (token is None or r.json()["message"]["token"] == token)]

    async def handle(self, request: H2Request) -> tuple[int, dict[str, str], bytes]:
        if request.path == "/token":
            return self._grant(request)
        if request.path != f"/v1/projects/{self.project_id}/messages:send":
            return _fcm_error(404, "NOT_FOUND", None)
        bearer = request.headers.get("authorization", "").removeprefix("Bearer ")
        if bearer not in self.access_tokens:
            return _fcm_error(401, "UNAUTHENTICATED", None)
        message = request.json().get("message") or {}
        answer = await self.next_answer(str(message.get("token")))
        if answer == "ok":
            return 200, {"content-type": "application/json"}, json.dumps(
                {"name": f"projects/{self.project_id}/messages/{uuid.uuid4().int % 10**16}"}).encode()
        if answer == "unregistered":
            return _fcm_error(404, "NOT_FOUND", "UNREGISTERED")
        if answer == "bad_token":  # as FCM answers a malformed registration token
            return _fcm_error(400, "INVALID_ARGUMENT", "INVALID_ARGUMENT", field="message.token")
        if answer == "bad_payload":  # as FCM answers a message it refuses (here its ttl)
            return _fcm_error(400, "INVALID_ARGUMENT", "INVALID_ARGUMENT", field="message.android.ttl")
        if answer == "429":
            return _fcm_error(429, "RESOURCE_EXHAUSTED", "QUOTA_EXCEEDED")
        if answer == "unauthenticated":  # the access token was revoked or expired early
            self.access_tokens.discard(bearer)
            return _fcm_error(401, "UNAUTHENTICATED", None)
        return _fcm_error(int(answer), "UNAVAILABLE", "UNAVAILABLE")

    def _grant(self, request: H2Request) -> tuple[int, dict[str, str], bytes]:
        from urllib.parse import parse_qs

        form = {k: v[0] for k, v in parse_qs(request.body.decode()).items()}
        if form.get("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer":
            return 400, {"content-type": "application/json"}, b'{"error":"unsupported_grant_type"}'
        try:
            claims = jwt.decode(form.get("assertion", ""), self.public_key, algorithms=["RS256"],
                                audience=self.token_url)
        except jwt.PyJWTError:
            return 400, {"content-type": "application/json"}, b'{"error":"invalid_grant"}'
        if claims.get("iss") != self.client_email or "firebase.messaging" not in claims.get("scope", ""):
            return 400, {"content-type": "application/json"}, b'{"error":"invalid_scope"}'
        self.grants += 1
        token = "ya29.test-" + uuid.uuid4().hex
        self.access_tokens.add(token)
        return 200, {"content-type": "application/json"}, json.dumps(
            {"access_token": token, "expires_in": 3599, "token_type": "Bearer"}).encode()


def _fcm_error(code: int, status: str, error_code: str | None, *,
               field: str | None = None) -> tuple[int, dict[str, str], bytes]:
    details: list[dict] = [{"@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError", "errorCode": error_code}] \
        if error_code else []
    if field:
        details.append({"@type": "type.googleapis.com/google.rpc.BadRequest",
                        "fieldViolations": [{"field": field, "description": f"invalid {field}"}]})
    return code, {"content-type": "application/json"}, json.dumps(
        {"error": {"code": code, "message": status.lower(), "status": status, "details": details}}).encode()


@dataclass
class Providers:
    apns: FakeAPNs
    fcm: FakeFCM
    ca_file: Path
    env: dict[str, str]

    def stop(self) -> None:
        self.apns.stop()
        self.fcm.stop()


def start_providers(directory: Path) -> Providers:
    """Both fakes on a fresh test CA, and the XINEX_* settings that point Xinex at them."""
    ca, cert, key = make_ca(directory)
    apns_pem, apns_public = ec_key_pem()
    apns = FakeAPNs(cert, key, public_key=apns_public, key_id="ABC123DEFG", team_id="TEAM123456",
                    topic="com.example.xinex").start()
    fcm = FakeFCM(cert, key, public_key=None, client_email="", project_id="xinex-test").start()
    account, fcm_public = service_account("xinex-test", fcm.token_url)
    fcm.public_key, fcm.client_email = fcm_public, account["client_email"]
    env = {
        "XINEX_APNS_KEY_ID": apns.key_id, "XINEX_APNS_TEAM_ID": apns.team_id, "XINEX_APNS_TOPIC": apns.topic,
        "XINEX_APNS_PRIVATE_KEY": apns_pem, "XINEX_APNS_URL_PRODUCTION": apns.url, "XINEX_APNS_URL_SANDBOX": apns.url + "/sandbox",
        "XINEX_FCM_SERVICE_ACCOUNT": json.dumps(account), "XINEX_FCM_URL": fcm.url,
        "XINEX_PUSH_CA_FILE": str(ca),
    }
    return Providers(apns, fcm, ca, env)


def serve() -> None:
    """`python -m tests.push.fakes DIR`: both fakes in a process of their own (the benchmark: the providers
    are other machines, they must not share this process's CPU). Prints the settings as one JSON line, then
    answers commands on stdin, one per line: `clear`, `delivered` (a JSON list of the wall-clock times of
    the 200s sent since `clear`), `quit`."""
    import sys

    providers = start_providers(Path(sys.argv[1]))
    print(json.dumps(providers.env), flush=True)
    for line in sys.stdin:
        command = line.strip()
        if command == "clear":
            providers.apns.requests.clear()
            providers.fcm.requests.clear()
            print("ok", flush=True)
        elif command == "delivered":
            done = providers.apns.delivered() + providers.fcm.delivered()
            print(json.dumps([r.answered_wall for r in done]), flush=True)
        elif command == "quit":
            break
    providers.stop()


if __name__ == "__main__":
    serve()
