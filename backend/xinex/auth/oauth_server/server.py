"""Authlib's authorization server, adapted to Starlette and to an async database.

Authlib's grants are synchronous and call back into storage (query the code, save the token...).
The async service (service.py) therefore loads what a request refers to *before* running the grant
(`GrantContext`), and the callbacks below only read that context and stage writes with
`session.add` / attribute changes, which are synchronous and flushed by the request's commit.
Protocol checks (client, redirect_uri, response_type, PKCE, scope, grant type) are Authlib's.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from authlib.oauth2.rfc6749 import (
    AuthorizationCodeGrant,
    AuthorizationServer,
    ClientMixin,
    InvalidRequestError,
    OAuth2Payload,
    OAuth2Request,
    RefreshTokenGrant,
)
from authlib.oauth2.rfc7009 import RevocationEndpoint
from authlib.oauth2.rfc7636 import CodeChallenge
from joserfc.jwk import ECKey
from sqlalchemy.ext.asyncio import AsyncSession

from xinex.identity.access_jwt import issue_access_token
from xinex.identity.principal import valid_scope
from xinex.identity.secrets import new_opaque_token, sha256_hex
from xinex.kit.types import utcnow
from xinex.models.oauth_server import OAuthAuthorizationCode, OAuthRefreshToken, OAuthTokenFamily
from xinex.settings import Settings

CODE_TTL = timedelta(minutes=10)


class MobileClient(ClientMixin):
    """The mobile app: a public client (no secret), PKCE required, exact redirect URIs."""

    def __init__(self, client_id: str, redirect_uris: list[str]) -> None:
        self.client_id = client_id
        self.redirect_uris = list(redirect_uris)

    def get_client_id(self):
        return self.client_id

    def get_default_redirect_uri(self):
        return None  # redirect_uri is always required: no guessing

    def get_allowed_scope(self, scope):
        if not scope:
            return ""  # no scope asked: everything the member's role allows
        items = scope.split()
        if not all(valid_scope(s) for s in items):
            return None
        return " ".join(sorted(set(items)))

    def check_redirect_uri(self, redirect_uri):
        return redirect_uri in self.redirect_uris  # exact string match, no prefix or normalisation

    def check_client_secret(self, client_secret):
        return False

    def check_endpoint_auth_method(self, method, endpoint):
        return method == "none"

    def check_response_type(self, response_type):
        return response_type == "code"

    def check_grant_type(self, grant_type):
        return grant_type in ("authorization_code", "refresh_token")


class _Payload(OAuth2Payload):
    def __init__(self, items: list[tuple[str, str]]) -> None:
        self._data = {}
        self._datalist: defaultdict[str, list] = defaultdict(list)
        for key, value in items:
            self._data.setdefault(key, value)
            self._datalist[key].append(value)

    @property
    def data(self):
        return self._data

    @property
    def datalist(self):
        return self._datalist


class StarletteOAuth2Request(OAuth2Request):
    """Query parameters (authorization endpoint) or form fields (token/revocation) as Authlib sees them."""

    def __init__(self, method: str, uri: str, headers: dict, items: list[tuple[str, str]]) -> None:
        super().__init__(method=method, uri=uri, headers=headers)
        self.payload = _Payload(items)

    @property
    def args(self):
        return self.payload.data

    @property
    def form(self):
        return self.payload.data


@dataclass
class GrantUser:
    user_id: uuid.UUID
    tenant_id: uuid.UUID
    family_id: uuid.UUID | None = None


class CodeView:
    """An authorization code row as Authlib's AuthorizationCodeMixin."""

    def __init__(self, row: OAuthAuthorizationCode) -> None:
        self.row = row
        self.code_challenge = row.code_challenge
        self.code_challenge_method = row.code_challenge_method

    def get_redirect_uri(self):
        return self.row.redirect_uri

    def get_scope(self):
        return self.row.scope


class FamilyTokenView:
    """A refresh token (or, for revocation, any token) of a family, as Authlib's TokenMixin."""

    def __init__(self, family: OAuthTokenFamily, refresh: OAuthRefreshToken | None = None) -> None:
        self.family = family
        self.refresh = refresh

    def check_client(self, client):
        return client.get_client_id() == self.family.client_id

    def get_scope(self):
        return self.family.scope


@dataclass
class GrantContext:
    """What the async service loaded before running Authlib's synchronous grant."""

    settings: Settings
    session: AsyncSession
    signing_key: ECKey | None = None
    user: GrantUser | None = None
    code: CodeView | None = None
    token: FamilyTokenView | None = None


class S256CodeChallenge(CodeChallenge):
    """PKCE with S256 only: a missing challenge or the `plain` method is refused."""

    SUPPORTED_CODE_CHALLENGE_METHOD = ["S256"]
    DEFAULT_CODE_CHALLENGE_METHOD = "S256"

    def validate_code_challenge(self, grant, redirect_uri):
        data = grant.request.payload.data
        if not data.get("code_challenge"):
            raise InvalidRequestError("PKCE is required: missing 'code_challenge'")
        if data.get("code_challenge_method") != "S256":
            raise InvalidRequestError("Only code_challenge_method=S256 is supported")
        super().validate_code_challenge(grant, redirect_uri)


class XinexCodeGrant(AuthorizationCodeGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = ["none"]

    @staticmethod
    def validate_authorization_redirect_uri(request, client):
        if not request.payload.redirect_uri:
            raise InvalidRequestError("Missing 'redirect_uri' in request.")
        return AuthorizationCodeGrant.validate_authorization_redirect_uri(request, client)

    @property
    def ctx(self) -> GrantContext:
        return self.server.ctx

    def save_authorization_code(self, code, request):
        user: GrantUser = request.user
        now = utcnow()
        family = OAuthTokenFamily(tenant_id=user.tenant_id, user_id=user.user_id, client_id=request.client.client_id,
                                  scope=request.scope or "")
        # The family exists from the start so a reused code can always revoke what it issued.
        self.ctx.session.add(family)
        self.ctx.session.add(OAuthAuthorizationCode(
            tenant_id=user.tenant_id, code_hash=sha256_hex(code), user_id=user.user_id,
            client_id=request.client.client_id, redirect_uri=request.payload.redirect_uri, scope=request.scope or "",
            code_challenge=request.payload.data["code_challenge"],
            code_challenge_method=request.payload.data["code_challenge_method"],
            family_id=family.id, expires_at=now + CODE_TTL,
        ))

    def query_authorization_code(self, code, client):
        view = self.ctx.code
        if view is None or view.row.code_hash != sha256_hex(code) or view.row.client_id != client.client_id:
            return None
        return view

    def delete_authorization_code(self, authorization_code):
        """Already marked used by the service's atomic claim (single use even under concurrency)."""

    def authenticate_user(self, authorization_code):
        return self.ctx.user


class XinexRefreshGrant(RefreshTokenGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = ["none"]
    INCLUDE_NEW_REFRESH_TOKEN = True  # rotation: every refresh returns a new refresh token

    def authenticate_refresh_token(self, refresh_token):
        view = self.server.ctx.token
        if view is None or view.refresh is None or view.refresh.token_hash != sha256_hex(refresh_token):
            return None
        return view

    def authenticate_user(self, refresh_token):
        return self.server.ctx.user

    def revoke_old_credential(self, refresh_token):
        """Already marked used by the service's atomic claim."""


class XinexRevocation(RevocationEndpoint):
    CLIENT_AUTH_METHODS = ["none"]

    def query_token(self, token_string, token_type_hint):
        return self.server.ctx.token

    def revoke_token(self, token, request):
        if token.family.revoked_at is None:
            token.family.revoked_at = utcnow()
            token.family.revoked_reason = "revoked_by_client"


class XinexAuthorizationServer(AuthorizationServer):
    """One per request: it carries that request's GrantContext."""

    def __init__(self, ctx: GrantContext) -> None:
        super().__init__()
        self.ctx = ctx
        settings = ctx.settings
        self.client = MobileClient(settings.mobile_client_id, settings.mobile_redirect_uris)
        self.register_grant(XinexCodeGrant, [S256CodeChallenge(required=True)])
        self.register_grant(XinexRefreshGrant)
        self.register_endpoint(XinexRevocation)
        self.register_token_generator("default", self._generate_token)

    def query_client(self, client_id):
        return self.client if client_id == self.client.client_id else None

    def _generate_token(self, grant_type, client, user=None, scope=None, expires_in=None,
                        include_refresh_token=True):
        settings = self.ctx.settings
        assert self.ctx.signing_key is not None and user is not None and user.family_id is not None
        ttl = settings.jwt_access_ttl_s
        token = {
            "token_type": "Bearer",
            "access_token": issue_access_token(
                self.ctx.signing_key, issuer=settings.public_url, user_id=user.user_id, tenant_id=user.tenant_id,
                family_id=user.family_id, scope=scope or "", client_id=client.client_id, ttl_s=ttl,
            ),
            "expires_in": ttl,
        }
        if scope:
            token["scope"] = scope
        if include_refresh_token:
            token["refresh_token"] = new_opaque_token()
        return token

    def save_token(self, token, request):
        raw = token.get("refresh_token")
        if not raw:
            return
        user: GrantUser = request.user
        row = OAuthRefreshToken(
            tenant_id=user.tenant_id, token_hash=sha256_hex(raw), family_id=user.family_id,
            expires_at=utcnow() + timedelta(seconds=self.ctx.settings.refresh_token_ttl_s),
        )
        self.ctx.session.add(row)

    def create_oauth2_request(self, request):
        return request  # the service builds StarletteOAuth2Request itself (the body is read async)

    def handle_response(self, status, body, headers):
        return status, body, headers

    def send_signal(self, name, *args, **kwargs):
        """No signal bus; the service audits what happened."""


def expired(moment: datetime) -> bool:
    return moment <= utcnow()
