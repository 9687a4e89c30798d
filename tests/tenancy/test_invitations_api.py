"""Invitations by e-mail: send, list, revoke, accept; single-use, expiring, hashed at rest."""

from __future__ import annotations

import hashlib
import uuid
from datetime import timedelta

from sqlalchemy import select, update
from xinex.kit.types import utcnow
from xinex.models.tenant import Invitation

from tests.conftest import assert_error
from tests.tenancy.helpers import deliver, invite, join, mailed_token


def new_email() -> str:
    return f"invitee-{uuid.uuid4().hex[:10]}@example.com"


async def accept(client, person, token):
    return await client.post("/api/v1/invitations/accept", json={"token": token}, cookies=person.cookies,
                             headers=person.session_headers)


async def test_invite_sends_mail_and_stores_only_a_hash(app, client, smtp_server, db, alice):
    email = new_email()
    r = await client.post("/api/v1/invitations", json={"email": email, "role": "admin"}, headers=alice.bearer)
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["email"] == email and body["role"] == "admin" and body["status"] == "pending"
    assert body["tenant_id"] == alice.tenant_id and body["invited_by"] == alice.user_id
    assert body["id"] and body["created_at"].endswith("Z") and body["accepted_at"] is None
    assert "token" not in body and "token_hash" not in body
    await deliver(app)
    message = smtp_server.to(email)[-1]
    assert alice.email in message.get_content()
    raw = mailed_token(smtp_server, email)
    async with db.session(tenant_id=uuid.UUID(alice.tenant_id)) as s:
        row = (await s.execute(select(Invitation).where(Invitation.id == uuid.UUID(body["id"])))).scalar_one()
    assert row.token_hash == hashlib.sha256(raw.encode()).hexdigest()
    assert raw not in str(row.model_dump())
    assert timedelta(days=6, hours=23) < row.expires_at - utcnow() <= timedelta(days=7)


async def test_accept_creates_membership_with_the_invited_role(app, client, smtp_server, signup, alice):
    email = new_email()
    await invite(app, client, alice, email, "admin")
    invitee = await signup(email=email.upper())  # addresses compare case-insensitively
    r = await accept(client, invitee, mailed_token(smtp_server, email))
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["role"] == "admin" and body["user_id"] == invitee.user_id and body["tenant_id"] == alice.tenant_id
    assert body["tenant"]["id"] == alice.tenant_id and body["tenant"]["role"] == "admin"
    members = (await client.get("/api/v1/members", headers=alice.bearer)).json()
    assert {m["user_id"]: m["role"] for m in members["items"]}[invitee.user_id] == "admin"
    pending = (await client.get("/api/v1/invitations", headers=alice.bearer)).json()
    assert pending["total"] == 0
    mine = (await client.get("/api/v1/tenants", cookies=invitee.cookies)).json()
    assert alice.tenant_id in {t["id"] for t in mine["items"]}


async def test_token_is_single_use(app, client, smtp_server, signup, alice):
    email = new_email()
    await invite(app, client, alice, email)
    invitee = await signup(email=email)
    token = mailed_token(smtp_server, email)
    assert (await accept(client, invitee, token)).status_code == 201
    assert_error(await accept(client, invitee, token), 400, "TOKEN_INVALID")
    assert_error(await accept(client, invitee, "x" * 43), 400, "TOKEN_INVALID")


async def test_expired_invitation_is_invalid(app, client, smtp_server, signup, db, alice):
    email = new_email()
    created = await invite(app, client, alice, email)
    async with db.session(tenant_id=uuid.UUID(alice.tenant_id)) as s:
        await s.execute(update(Invitation).where(Invitation.id == uuid.UUID(created["id"]))
                        .values(expires_at=utcnow() - timedelta(seconds=1)))
    invitee = await signup(email=email)
    assert_error(await accept(client, invitee, mailed_token(smtp_server, email)), 400, "TOKEN_INVALID")
    assert (await client.get("/api/v1/invitations", headers=alice.bearer)).json()["total"] == 0


async def test_revoked_invitation_is_invalid(app, client, smtp_server, signup, alice, outsider):
    email = new_email()
    created = await invite(app, client, alice, email)
    listed = (await client.get("/api/v1/invitations", headers=alice.bearer)).json()
    assert [i["id"] for i in listed["items"]] == [created["id"]]
    assert (await client.get("/api/v1/invitations", headers=outsider.bearer)).json()["total"] == 0
    # Another tenant cannot revoke it: it answers like a missing one.
    assert_error(await client.delete(f"/api/v1/invitations/{created['id']}", headers=outsider.bearer),
                 404, "NOT_FOUND")
    assert_error(await client.delete("/api/v1/invitations/nope", headers=alice.bearer), 422, "VALIDATION_FAILED")
    r = await client.delete(f"/api/v1/invitations/{created['id']}", headers=alice.bearer)
    assert r.status_code == 204 and r.content == b""
    assert_error(await client.delete(f"/api/v1/invitations/{created['id']}", headers=alice.bearer), 404, "NOT_FOUND")
    invitee = await signup(email=email)
    assert_error(await accept(client, invitee, mailed_token(smtp_server, email)), 400, "TOKEN_INVALID")
    actions = [e["action"] for e in (await client.get("/api/v1/audit-log?action=invitation",
                                                      headers=alice.bearer)).json()["items"]]
    assert actions[:2] == ["invitation.revoked", "invitation.created"]


async def test_only_the_invited_address_may_accept(app, client, smtp_server, signup, alice, outsider):
    email = new_email()
    await invite(app, client, alice, email)
    token = mailed_token(smtp_server, email)
    assert_error(await accept(client, outsider, token), 403, "FORBIDDEN")
    # The wrong taker did not burn it.
    invitee = await signup(email=email)
    assert (await accept(client, invitee, token)).status_code == 201


async def test_accept_needs_a_signed_in_person(app, client, smtp_server, signup, alice):
    email = new_email()
    await invite(app, client, alice, email)
    token = mailed_token(smtp_server, email)
    invitee = await signup(email=email)
    assert_error(await client.post("/api/v1/invitations/accept", json={"token": token}), 401, "UNAUTHENTICATED")
    assert_error(await client.post("/api/v1/invitations/accept", json={"token": token}, headers=invitee.bearer),
                 403, "FORBIDDEN")
    assert_error(await client.post("/api/v1/invitations/accept", json={"token": token}, cookies=invitee.cookies),
                 403, "FORBIDDEN")  # cookie without the CSRF header
    assert_error(await accept(client, invitee, "short"), 422, "VALIDATION_FAILED")
    assert_error(await client.post("/api/v1/invitations/accept", json={}, cookies=invitee.cookies,
                                   headers=invitee.session_headers), 422, "VALIDATION_FAILED")
    assert (await accept(client, invitee, token)).status_code == 201
    # Accepting again into a tenant one already belongs to: already used.
    assert_error(await accept(client, invitee, token), 400, "TOKEN_INVALID")


async def test_invite_rules_and_bad_input(app, client, smtp_server, signup, alice):
    admin = await join(app, client, smtp_server, signup, alice, "admin")
    member = await join(app, client, smtp_server, signup, alice, "member")
    assert_error(await client.post("/api/v1/invitations", json={"email": new_email()}, headers=member.bearer),
                 403, "FORBIDDEN")
    assert_error(await client.get("/api/v1/invitations", headers=member.bearer), 403, "FORBIDDEN")
    assert_error(await client.post("/api/v1/invitations", json={"email": new_email(), "role": "owner"},
                                   headers=admin.bearer), 403, "FORBIDDEN")
    body = assert_error(await client.post("/api/v1/invitations", json={"email": "nope", "role": "king"},
                                          headers=alice.bearer), 422, "VALIDATION_FAILED")
    assert set(body["details"]["fields"]) == {"email", "role"}
    assert_error(await client.post("/api/v1/invitations", json={"email": member.email.upper()},
                                   headers=alice.bearer), 409, "CONFLICT")
    assert_error(await client.post("/api/v1/invitations", json={"email": new_email()}, headers=admin.bearer),
                 403, "TIER_LIMIT_EXCEEDED")  # free plan: 3 seats, all taken
    assert_error(await client.post("/api/v1/invitations"), 401, "UNAUTHENTICATED")


async def test_duplicate_pending_invitation_conflicts(app, client, alice):
    email = new_email()
    await invite(app, client, alice, email)
    assert_error(await client.post("/api/v1/invitations", json={"email": email.upper()}, headers=alice.bearer),
                 409, "CONFLICT")


async def test_owner_invitation_by_owner(app, client, smtp_server, signup, alice):
    owner2 = await join(app, client, smtp_server, signup, alice, "owner")
    members = (await client.get("/api/v1/members?role=owner", headers=alice.bearer)).json()
    assert {m["user_id"] for m in members["items"]} == {alice.user_id, owner2.user_id}
