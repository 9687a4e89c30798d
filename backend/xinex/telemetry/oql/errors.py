"""OQL errors: plain exceptions with a machine code and a JSON-able `details` dict.

The HTTP layer maps every OQLError to 400 with {"error": str(e), "code": e.code, "details": e.details}.
"""

from __future__ import annotations

from typing import Any


class OQLError(Exception):
    code = "OQL_INVALID"

    def __init__(self, message: str, **details: Any):
        super().__init__(message)
        self.message = message
        self.details: dict[str, Any] = details


class OQLSyntaxError(OQLError):
    """details: line, column (1-based), expected (list of token descriptions), found."""

    code = "OQL_SYNTAX_ERROR"


class OQLUnknownSource(OQLError):
    """details: source, valid."""

    code = "OQL_UNKNOWN_SOURCE"


class OQLUnknownField(OQLError):
    """details: field, source, valid (the fields the source offers), line, column."""

    code = "OQL_UNKNOWN_FIELD"


class OQLUnknownFunction(OQLError):
    """details: function, valid, line, column."""

    code = "OQL_UNKNOWN_FUNCTION"


class OQLSemanticError(OQLError):
    """A well-formed query that cannot run (aggregate misuse, bad value, bad time range)."""

    code = "OQL_INVALID_QUERY"
