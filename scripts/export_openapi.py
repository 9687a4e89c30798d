"""`python scripts/export_openapi.py [FILE]`: the app's OpenAPI document, as `/openapi.json` serves it with
the default settings, written to FILE (or stdout) in a stable form.

The web app's API types (`frontend/src/api/schema.d.ts`) are generated from `frontend/openapi.json`, which
this writes (`make api-types`); `tests/web/test_api_types.py` fails when either drifts from the server.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any


def current_spec() -> dict[str, Any]:
    # The defaults, not this shell's configuration: the document must not depend on who generated it.
    for key in [k for k in os.environ if k.startswith("XINEX_")]:
        del os.environ[key]
    from xinex.app import create_app
    from xinex.settings import Settings

    return create_app(Settings()).openapi()


def render(spec: dict[str, Any]) -> str:
    return json.dumps(spec, indent=1, ensure_ascii=False) + "\n"


def main(argv: list[str]) -> int:
    text = render(current_spec())
    if len(argv) > 1:
        with open(argv[1], "w", encoding="utf-8") as out:
            out.write(text)
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
