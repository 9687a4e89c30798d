"""Config validation and masking helpers shared by the channel kinds."""

from __future__ import annotations

from urllib.parse import urlsplit

from xinex.kit.errors import AppError

MASK = "****"


def invalid(field: str, message: str) -> AppError:
    return AppError("VALIDATION_FAILED", "The request did not validate",
                    details={"fields": {f"config.{field}": message}})


def require_url(config: dict, field: str) -> str:
    value = config.get(field)
    if not isinstance(value, str) or not value.strip():
        raise invalid(field, "required")
    value = value.strip()
    if len(value) > 2000:
        raise invalid(field, "too long")
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError for a port out of range
    except ValueError:  # e.g. "http://[::1" (unbalanced bracket)
        raise invalid(field, "must be an http(s) URL") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise invalid(field, "must be an http(s) URL")
    if parts.username or parts.password:
        raise invalid(field, "must not carry credentials")
    return value


def only_keys(config: dict, allowed: set[str]) -> None:
    extra = sorted(set(config) - allowed)
    if extra:
        raise invalid(extra[0], "unknown setting")


def mask_url(url: str) -> str:
    """Keep scheme, host and port (so users recognise it), hide the path: it is the credential."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:  # an IPv6 literal keeps its brackets
        host = f"[{host}]"
    try:
        port = f":{parts.port}" if parts.port is not None else ""
    except ValueError:  # stored before ports were checked: show none rather than fail the listing
        port = ""
    tail = url[-4:] if len(url) > 12 else ""
    return f"{parts.scheme}://{host}{port}/{MASK}{tail}"


def keep_secret(new: str | None, old: str | None, masked_old: str | None) -> str | None:
    """A PUT that sends back the masked value keeps the stored secret."""
    if new is not None and old is not None and new == masked_old:
        return old
    return new


def webhook_url_kind(allowed_extra: set[str]):
    """validate/mask/merge for the kinds whose whole secret is one incoming-webhook URL."""

    def validate(config: dict) -> dict:
        only_keys(config, {"webhook_url", *allowed_extra})
        out = {k: v for k, v in config.items() if k in allowed_extra}
        for key, value in out.items():
            if not isinstance(value, str) or len(value) > 200:
                raise invalid(key, "must be a string of at most 200 characters")
        out["webhook_url"] = require_url(config, "webhook_url")
        return out

    def mask(config: dict) -> dict:
        return {**config, "webhook_url": mask_url(config.get("webhook_url", ""))}

    def merge(new: dict, old: dict) -> dict:
        old_url = old.get("webhook_url")
        url = keep_secret(new.get("webhook_url"), old_url, mask_url(old_url) if old_url else None)
        return {**new, "webhook_url": url} if url is not None else new

    return validate, mask, merge
