"""OQL AST → parameterised ClickHouse SQL.

Guarantees (each enforced here, tested in tests/telemetry/test_oql_*.py):
- only allow-listed sources, fields and functions exist; everything else is an error;
- every value the user typed is a server-side parameter ({pN:Type}); the SQL text is built
  only from the schema's own fragments, generated aliases and validated numbers;
- `tenant_id = {tenant_id:UUID}` and a time bound are always in WHERE, AND-ed with the user's
  condition in parentheses, so an OR cannot escape them; output aliases are generated (_cN),
  so no user alias can shadow tenant_id or timestamp;
- the caller runs the SQL with `settings`: readonly=1 and cost limits.
"""

from xinex.telemetry.oql.compiler.expressions import (
    DEFAULT_LIMIT,
    MAX_BUCKETS,
    MAX_IN_VALUES,
    MAX_LIMIT,
    MAX_NODES,
    CompiledQuery,
    CostLimits,
)
from xinex.telemetry.oql.compiler.query import compile_oql

__all__ = ["DEFAULT_LIMIT", "MAX_BUCKETS", "MAX_IN_VALUES", "MAX_LIMIT", "MAX_NODES", "CompiledQuery", "CostLimits",
           "compile_oql"]
