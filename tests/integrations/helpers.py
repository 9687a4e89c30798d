"""Helpers of the inbound tests: integrations made through the API, their outbox events consumed by
the real incident engine, the app on a real uvicorn server for clients that speak HTTP themselves."""

from __future__ import annotations

import asyncio
import contextlib
import uuid

from sqlalchemy import select
from xinex.models.incidents import Incident
from xinex.models.outbox import OutboxEvent

from tests.conftest import free_port
from tests.incidents.helpers import settle


async def make_integration(client, account, kind: str, **body) -> dict:
    body.setdefault("name", f"{kind} {uuid.uuid4().hex[:6]}")
    r = await client.post("/api/v1/integrations", json={"kind": kind, **body}, headers=account.bearer)
    assert r.status_code == 201, r.text
    return r.json()


async def settle_integration(db, account, integration: dict) -> None:
    """Let the engine apply every outbox event this integration's requests wrote."""
    async with db.session(tenant_id=uuid.UUID(account.tenant_id)) as s:
        ids = (await s.execute(select(OutboxEvent.id).where(
            OutboxEvent.source_id == uuid.UUID(integration["id"])))).scalars().all()
    await settle(db, *ids)


async def incidents_of(db, account, integration: dict) -> list[Incident]:
    async with db.session(tenant_id=uuid.UUID(account.tenant_id)) as s:
        rows = await s.execute(select(Incident).where(Incident.source_id == uuid.UUID(integration["id"]))
                               .order_by(Incident.opened_at, Incident.created_at))
        return list(rows.scalars().all())


async def one_incident(db, account, integration: dict, sender_key: str) -> Incident:
    found = [i for i in await incidents_of(db, account, integration)
             if i.dedup_key == f"integration:{integration['id']}:{sender_key}"]
    assert len(found) == 1, [(i.dedup_key, i.status) for i in found]
    return found[0]


async def assert_on_call(client, account, schedule_id: str, expected: dict[str, str]) -> None:
    """The imported schedule answers "who is on call at T?" as the source does, for each instant
    (the importers' tests pick instants on both sides of a DST change: CET -> CEST on 2026-03-29)."""
    for at, who in expected.items():
        r = await client.get(f"/api/v1/schedules/{schedule_id}/oncall", params={"at": at}, headers=account.bearer)
        assert r.status_code == 200 and r.json()["user_id"] == who, (at, r.json())


def self_signed(directory) -> tuple[str, str]:
    """A certificate for localhost / 127.0.0.1 and its key, as PEM files in `directory`."""
    import ipaddress
    from datetime import UTC, datetime, timedelta

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.now(UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - timedelta(hours=1))
            .not_valid_after(now + timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost"),
                                                        x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return str(cert_path), str(key_path)


@contextlib.asynccontextmanager
async def serve(app, tls_dir=None):
    """The (already started) app on a real uvicorn server on 127.0.0.1 (HTTPS with a self-signed
    certificate when `tls_dir` is given: yields (base URL, certificate path))."""
    import uvicorn

    port = free_port()
    tls: dict = {}
    cert = None
    if tls_dir is not None:
        cert, key = self_signed(tls_dir)
        tls = {"ssl_certfile": cert, "ssl_keyfile": key}
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, lifespan="off", log_level="warning",
                                           **tls))
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.02)
    try:
        yield (f"https://127.0.0.1:{port}", cert) if tls_dir is not None else f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task
