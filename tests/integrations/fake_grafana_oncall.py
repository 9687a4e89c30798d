"""A local server that speaks Grafana OnCall's public API JSON shapes over real HTTP (`Authorization:
<token>`; every list paged two at a time as {count, next, previous, results, page_size,
current_page_number, total_pages}), for the importer's tests."""

from __future__ import annotations

import math

from tests.integrations.fake_api import PAGE, FakeApi


class FakeGrafanaOnCall(FakeApi):
    def __init__(self, token: str, data: dict) -> None:
        self.token = token
        super().__init__(data)

    def answer(self, path, query, headers):
        if headers.get("Authorization") != self.token:
            return 401, {"detail": "Invalid token."}
        name = path.removeprefix("/api/v1/").strip("/")
        if name not in self.data:
            return 404, {"detail": "Not found."}
        items = self.data[name]
        number = int(query.get("page", ["1"])[0])
        pages = max(1, math.ceil(len(items) / PAGE))
        link = f"{self.url}/api/v1/{name}/?page="
        return 200, {"count": len(items), "next": f"{link}{number + 1}" if number < pages else None,
                     "previous": f"{link}{number - 1}" if number > 1 else None,
                     "results": items[(number - 1) * PAGE:number * PAGE], "page_size": PAGE,
                     "current_page_number": number, "total_pages": pages}
