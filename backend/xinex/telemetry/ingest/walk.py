"""The one walk over an OTLP export request: resource → scope → items (spans, log records, metrics).

`otlp_scopes` yields each scope with its resource; `ScopeColumns` is the walk of the columnar
mappers (spans, logs): it keeps one attribute map per resource and one row per scope (name,
version, service, resource index), and which scope each item row came from.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from xinex.telemetry.ingest.arrow import AttributeMaps
from xinex.telemetry.ingest.common import SERVICE_NAME, lookup


def otlp_scopes(resources: Iterable[Any], scopes_field: str, items_field: str) -> Iterator[tuple[int, Any, Any, Any]]:
    """(resource index, resource, scope, items) for every scope of every resource, in order."""
    for index, r in enumerate(resources):
        resource = r.resource
        for s in getattr(r, scopes_field):
            yield index, resource, s.scope, getattr(s, items_field)


class ScopeColumns:
    """Resource and scope columns of a columnar batch, filled while walking it."""

    __slots__ = ("res", "row_scope", "scope_names", "scope_resource", "scope_versions", "services")

    def __init__(self) -> None:
        self.res = AttributeMaps()  # one attribute map per resource
        self.scope_names: list[str] = []
        self.scope_versions: list[str] = []
        self.services: list[str] = []  # per scope: its resource's service.name
        self.scope_resource: list[int] = []  # per scope: its resource's index
        self.row_scope: list[int] = []  # per item row kept: its scope's index

    def walk(self, resources: Iterable[Any], scopes_field: str, items_field: str, rows: list[Any]) -> Iterator[Any]:
        """Each scope's items; the caller appends one entry to `rows` per item it keeps, and the
        rows appended while a scope's items are handled are counted as that scope's."""
        res, row_scope = self.res, self.row_scope
        last, service, resource_index = -1, "", -1
        for index, resource, scope, items in otlp_scopes(resources, scopes_field, items_field):
            if index != last:
                last = index
                first = len(res.keys)
                res.add(resource.attributes)
                service = lookup(res.keys, res.values, first, SERVICE_NAME)
                resource_index = len(res.offsets) - 2
            position = len(self.scope_names)
            self.scope_names.append(scope.name)
            self.scope_versions.append(scope.version)
            self.services.append(service)
            self.scope_resource.append(resource_index)
            n0 = len(rows)
            yield items
            row_scope += [position] * (len(rows) - n0)
