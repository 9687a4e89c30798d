"""Stored responses for Idempotency-Key replays (24 h): the table belongs to the kit middleware that
uses it (kit imports no model); listed here so that importing xinex.models registers it."""

from xinex.kit.http.idempotency import IdempotencyRecord

__all__ = ["IdempotencyRecord"]
