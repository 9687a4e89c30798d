"""A real, small OpenID provider (and a GitHub-like OAuth API) on 127.0.0.1, run in a thread.

Issuers live under path prefixes (/google, /microsoft, /apple), each with its discovery document,
JWKS, /authorize (signs in `provider.user` at once and redirects back, or auto-posts a form for
response_mode=form_post), /token (checks client secret, redirect_uri and PKCE S256, returns an
RS256 id_token carrying the nonce) and /userinfo. `provider.tweak(...)` alters the next id_token
so tests can present a bad one through the real flow.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import secrets
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlsplit

from joserfc import jwt
from joserfc.jwk import RSAKey

OIDC_ISSUERS = ("google", "microsoft", "apple")
MS_TENANT = "9188040d-6c67-4c5b-b112-36a304b66dad"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class LocalProvider:
    def __init__(self) -> None:
        self.key = RSAKey.generate_key(2048, parameters={"kid": "test-key-1", "use": "sig", "alg": "RS256"})
        # Same kid, never published: a token signed with it must fail the signature check.
        self.rogue_key = RSAKey.generate_key(2048, parameters={"kid": "test-key-1", "use": "sig", "alg": "RS256"})
        self.clients: dict[str, str] = {}
        self.user: dict = {}
        self.github_user: dict = {}
        self.github_emails: list = []
        self.apple_first_user: dict | None = None
        self._tweaks: dict = {}
        self.codes: dict[str, dict] = {}
        self.access_tokens: dict[str, dict] = {}
        self.issued: list[str] = []  # every code, access token and id_token handed out
        self.authorize_requests: list[dict] = []
        self.token_requests: list[dict] = []
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.base_url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    # -- control -------------------------------------------------------------------------------
    def start(self) -> LocalProvider:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def issuer(self, name: str) -> str:
        return f"{self.base_url}/{name}"

    def metadata_url(self, name: str) -> str:
        return f"{self.issuer(name)}/.well-known/openid-configuration"

    def tweak(self, **changes) -> None:
        """Alter the next id_token: aud=, nonce=, iss=, exp_in=, tamper=True, rogue=True, drop_nonce=True."""
        self._tweaks = changes

    def jwks(self) -> dict:
        return {"keys": [self.key.as_dict(private=False)]}

    def id_token(self, issuer: str, audience, claims: dict, *, exp_in: int = 300, rogue: bool = False,
                 tamper: bool = False) -> str:
        now = int(time.time())
        payload = {"iss": issuer, "aud": audience, "iat": now, "exp": now + exp_in, **claims}
        payload = {k: v for k, v in payload.items() if v is not None}
        token = jwt.encode({"alg": "RS256", "kid": "test-key-1"}, payload,
                           self.rogue_key if rogue else self.key)
        if tamper:
            head, _body, sig = token.split(".")
            token = ".".join([head, b64url(json.dumps({**payload, "sub": "someone-else"}).encode()), sig])
        with self.lock:
            self.issued.append(token)
        return token

    # -- HTTP ------------------------------------------------------------------------------------
    def _handler(self):
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:  # quiet
                return

            def _send(self, status: int, body: bytes = b"", ctype: str = "application/json", headers=None):
                self.send_response(status)
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def _json(self, status: int, data) -> None:
                self._send(status, json.dumps(data).encode())

            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                query = {k: v[0] for k, v in parse_qs(parts.query).items()}
                provider._get(self, parts.path, query)

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
                provider._post(self, urlsplit(self.path).path, form)

        return Handler

    def _get(self, h, path: str, q: dict) -> None:
        segs = path.strip("/").split("/")
        if segs[0] in OIDC_ISSUERS:
            name, rest = segs[0], "/".join(segs[1:])
            iss = self.issuer(name)
            if rest == ".well-known/openid-configuration":
                # Microsoft's multi-tenant endpoint publishes an issuer template filled from `tid`.
                return h._json(200, {
                    "issuer": f"{iss}/{{tenantid}}/v2.0" if name == "microsoft" else iss, "authorization_endpoint": f"{iss}/authorize", "token_endpoint": f"{iss}/token",
                    "userinfo_endpoint": f"{iss}/userinfo", "jwks_uri": f"{iss}/jwks",
                    "response_types_supported": ["code"], "subject_types_supported": ["public"],
                    "id_token_signing_alg_values_supported": ["RS256"],
                    "code_challenge_methods_supported": ["S256"],
                    "response_modes_supported": ["query", "form_post"],
                })
            if rest == "jwks":
                return h._json(200, self.jwks())
            if rest == "authorize":
                return self._authorize(h, q, issuer=iss, provider=name)
            if rest == "userinfo":
                grant = self.access_tokens.get((h.headers.get("Authorization") or "").removeprefix("Bearer "))
                return h._json(200, grant["user"]) if grant else h._json(401, {"error": "invalid_token"})
        if path == "/login/oauth/authorize":
            return self._authorize(h, q, issuer=None, provider="github")
        if path in ("/user", "/user/emails"):
            grant = self.access_tokens.get((h.headers.get("Authorization") or "").removeprefix("Bearer "))
            if not grant or grant.get("provider") != "github":
                return h._json(401, {"message": "Bad credentials"})
            return h._json(200, self.github_user if path == "/user" else self.github_emails)
        h._json(404, {"error": "not_found"})

    def _authorize(self, h, q: dict, *, issuer: str | None, provider: str) -> None:
        with self.lock:
            self.authorize_requests.append(dict(q))
        if q.get("client_id") not in self.clients or q.get("response_type") != "code" or not q.get("redirect_uri"):
            return h._json(400, {"error": "invalid_request"})
        code = secrets.token_urlsafe(24)
        with self.lock:
            self.codes[code] = {"client_id": q["client_id"], "redirect_uri": q["redirect_uri"], "issuer": issuer,
                                "nonce": q.get("nonce"), "challenge": q.get("code_challenge"),
                                "method": q.get("code_challenge_method"), "provider": provider,
                                "user": dict(self.github_user if provider == "github" else self.user)}
            self.issued.append(code)
        answer = {"code": code, "state": q.get("state", "")}
        if q.get("response_mode") == "form_post":
            if provider == "apple" and self.apple_first_user is not None:
                answer["user"] = json.dumps(self.apple_first_user)
            fields = "".join(f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">'
                             for k, v in answer.items())
            page = (f'<html><body onload="document.forms[0].submit()"><form method="post" '
                    f'action="{html.escape(q["redirect_uri"])}">{fields}</form></body></html>')
            return h._send(200, page.encode(), "text/html")
        h._send(302, headers={"Location": f"{q['redirect_uri']}?{urlencode(answer)}"})

    def _post(self, h, path: str, form: dict) -> None:
        with self.lock:
            self.token_requests.append({k: v for k, v in form.items()})
        segs = path.strip("/").split("/")
        github = path == "/login/oauth/access_token"
        if not github and not (len(segs) == 2 and segs[0] in OIDC_ISSUERS and segs[1] == "token"):
            return h._json(404, {"error": "not_found"})
        with self.lock:
            grant = self.codes.pop(form.get("code", ""), None)  # single use
        cid = form.get("client_id")
        if grant is None or (not github and form.get("grant_type") != "authorization_code"):
            return h._json(400, {"error": "invalid_grant"})
        if cid != grant["client_id"] or self.clients.get(cid) != form.get("client_secret"):
            return h._json(401, {"error": "invalid_client"})
        if form.get("redirect_uri") != grant["redirect_uri"]:
            return h._json(400, {"error": "invalid_grant", "error_description": "redirect_uri mismatch"})
        if grant["challenge"]:
            verifier = form.get("code_verifier", "")
            if grant["method"] != "S256" or b64url(hashlib.sha256(verifier.encode()).digest()) != grant["challenge"]:
                return h._json(400, {"error": "invalid_grant", "error_description": "PKCE verification failed"})
        access = secrets.token_urlsafe(24)
        with self.lock:
            self.access_tokens[access] = {"provider": grant["provider"], "user": grant["user"]}
            self.issued.append(access)
        if github:
            return h._json(200, {"access_token": access, "token_type": "bearer", "scope": "read:user,user:email"})
        t, self._tweaks = self._tweaks, {}
        claims = {**grant["user"], "nonce": t.get("nonce", grant["nonce"])}
        issuer = grant["issuer"]
        if grant["provider"] == "microsoft":
            claims["tid"] = claims.get("tid") or MS_TENANT
            issuer = f"{issuer}/{t.get('iss_tid', claims['tid'])}/v2.0"
        if t.get("drop_nonce"):
            claims["nonce"] = None
        token = self.id_token(t.get("iss", issuer), t.get("aud", cid), claims,
                              exp_in=t.get("exp_in", 300), rogue=t.get("rogue", False), tamper=t.get("tamper", False))
        h._json(200, {"access_token": access, "token_type": "Bearer", "expires_in": 3600, "id_token": token})
