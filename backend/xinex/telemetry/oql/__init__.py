"""OQL, the telemetry query language (DESIGN §6): grammar, parser, compiler to ClickHouse SQL."""

from xinex.telemetry.oql.compiler import CompiledQuery, CostLimits, compile_oql
from xinex.telemetry.oql.errors import (
    OQLError,
    OQLSemanticError,
    OQLSyntaxError,
    OQLUnknownField,
    OQLUnknownFunction,
    OQLUnknownSource,
)
from xinex.telemetry.oql.execute import run_oql

__all__ = [
    "CompiledQuery",
    "CostLimits",
    "OQLError",
    "OQLSemanticError",
    "OQLSyntaxError",
    "OQLUnknownField",
    "OQLUnknownFunction",
    "OQLUnknownSource",
    "compile_oql",
    "run_oql",
]
