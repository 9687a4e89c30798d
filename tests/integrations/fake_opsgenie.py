"""A local server that speaks Opsgenie's REST API JSON shapes over real HTTP (`GenieKey` auth; users
paged two at a time with paging.next, as {data, paging, took, requestId}), for the importer's tests."""

from __future__ import annotations

from tests.integrations.fake_api import PAGE, FakeApi


class FakeOpsgenie(FakeApi):
    def __init__(self, key: str, data: dict) -> None:
        self.key = key
        super().__init__(data)

    def envelope(self, body):
        return {**body, "took": 0.01, "requestId": "9ae63dd7-ed00-4c81-86f0-c4ffd33142c9"}

    def answer(self, path, query, headers):
        if headers.get("Authorization") != f"GenieKey {self.key}":
            return 401, {"message": "Could not authenticate"}
        name = path.removeprefix("/v2/")
        if name not in self.data:
            return 404, {"message": "Not found"}
        items = self.data[name]
        if name == "schedules" and query.get("expand") != ["rotation"]:
            items = [{k: v for k, v in s.items() if k != "rotations"} for s in items]
        if name != "users":
            return 200, {"data": items}
        offset = int(query.get("offset", ["0"])[0])
        page = items[offset:offset + PAGE]
        paging = {"first": f"{self.url}/v2/users?offset=0&limit={PAGE}"}
        if offset + PAGE < len(items):
            paging["next"] = f"{self.url}/v2/users?offset={offset + PAGE}&limit={PAGE}"
        return 200, {"data": page, "paging": paging, "totalCount": len(items)}
