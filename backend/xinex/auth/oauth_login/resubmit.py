"""Apple's form_post callback arrives as a cross-site POST, which carries no SameSite=Lax cookie, so
the browser binding cannot be checked on it. Instead of signing in without the binding, we answer
with a page of our own that posts the same fields back to the same path: that second POST is
same-site, so the browser's binding cookie comes along and is checked like on every other callback.
A browser that never started the flow has no cookie to bring, and the re-posted callback is refused.
"""

from __future__ import annotations

import html
import secrets

from fastapi.responses import HTMLResponse

# Added to the re-posted form: a callback that already went round once and still has no cookie is
# refused instead of looping.
RESUBMITTED_FIELD = "xinex_resubmitted"
# Only what Apple sends; anything else is dropped rather than echoed.
ECHOED_FIELDS = ("code", "state", "user", "error")
MAX_FIELD_CHARS = 4096


def resubmit_page(path: str, params: dict[str, str]) -> HTMLResponse:
    nonce = secrets.token_urlsafe(16)
    # Lone surrogates cannot be encoded into the page: they become "?" (the callback refuses them anyway).
    fields = {k: params[k][:MAX_FIELD_CHARS].encode("utf-8", "replace").decode("utf-8")
              for k in ECHOED_FIELDS if k in params}
    fields[RESUBMITTED_FIELD] = "1"
    inputs = "".join(f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">'
                     for k, v in fields.items())
    page = (
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>Signing in…</title></head><body>"
        f'<form method="post" action="{html.escape(path)}">{inputs}'
        "<noscript><button type=\"submit\">Continue signing in</button></noscript></form>"
        f'<script nonce="{nonce}">document.forms[0].submit()</script></body></html>'
    )
    return HTMLResponse(page, headers={
        "Cache-Control": "no-store",
        "Referrer-Policy": "no-referrer",
        "Content-Security-Policy": (f"default-src 'none'; script-src 'nonce-{nonce}'; form-action 'self'; "
                                    "frame-ancestors 'none'; base-uri 'none'"),
    })
