"""A local server that speaks PagerDuty's REST API JSON shapes over real HTTP (classic pagination:
limit, offset, more — it pages two objects at a time whatever limit is asked, as PagerDuty caps it),
for the importer's tests."""

from __future__ import annotations

import re
from datetime import datetime

from tests.integrations.fake_api import PAGE, FakeApi


class FakePagerDuty(FakeApi):
    record_query = False
    def __init__(self, token: str, data: dict) -> None:
        self.token = token
        super().__init__(data)

    def answer(self, path, query, headers):
        if headers.get("Authorization") != f"Token token={self.token}":
            return 401, {"error": {"message": "Unauthorized", "code": 2006}}
        overrides = re.fullmatch(r"/schedules/(\w+)/overrides", path)
        if overrides:  # those overlapping [since, until], unpaged, as PagerDuty answers
            since, until = (datetime.fromisoformat(query[k][0]) for k in ("since", "until"))
            return 200, {"overrides": [o for o in self.data.get("overrides", {}).get(overrides.group(1), [])
                                       if datetime.fromisoformat(o["start"].replace("Z", "+00:00")) < until
                                       and datetime.fromisoformat(o["end"].replace("Z", "+00:00")) > since]}
        single = re.fullmatch(r"/schedules/(\w+)", path)
        if single:
            found = [s for s in self.data["schedules"] if s["id"] == single.group(1)]
            return (200, {"schedule": found[0]}) if found else (404, {})
        name = path.strip("/")
        if name not in self.data:
            return 404, {"error": {"message": "Not Found", "code": 2100}}
        items = self.data[name]
        if name == "schedules":  # the list has summaries; the layers come with GET /schedules/{id}
            items = [{"id": s["id"], "name": s["name"], "type": "schedule"} for s in items]
        offset = int(query.get("offset", ["0"])[0])
        limit = min(int(query.get("limit", ["25"])[0]), PAGE)
        page = items[offset:offset + limit]
        return 200, {name: page, "limit": limit, "offset": offset, "more": offset + limit < len(items), "total": None}
