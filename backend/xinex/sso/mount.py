"""What the SSO domain mounts: /sso/*, or, when its SAML modules cannot even be imported (python-xmlsec
refusing to load), a router that answers 503 on every /sso/* path while the rest of the product runs."""

from fastapi import APIRouter

from xinex.sso.selftest import unavailable_router


def _sso_router() -> APIRouter:
    try:
        from xinex.sso.router import router
    except Exception as exc:  # e.g. python-xmlsec refusing to import: the product runs, SSO answers 503
        return unavailable_router(exc)
    return router


API_ROUTERS = [_sso_router()]  # under /api/v1
