"""The web app's API types cannot drift from the server: `frontend/openapi.json` is what the app serves at
/openapi.json, and `frontend/src/api/schema.d.ts` is what openapi-typescript makes of it. After an API change,
`make api-types` regenerates both (and `make install` rebuilds the app, whose type check then shows every page
the change breaks)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.web.node import FRONTEND, npx

FIX = "run `make api-types` and commit frontend/openapi.json and frontend/src/api/schema.d.ts"


def test_the_committed_openapi_document_is_the_servers():
    script = FRONTEND.parent / "scripts" / "export_openapi.py"
    current = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120,
                             check=True).stdout
    committed = (FRONTEND / "openapi.json").read_text(encoding="utf-8")
    assert current == committed, f"the API changed since the web app's types were generated: {FIX}"


def test_the_generated_types_match_the_committed_document(tmp_path: Path):
    out = tmp_path / "schema.d.ts"
    npx("openapi-typescript", str(FRONTEND / "openapi.json"), "-o", str(out))
    assert out.read_text(encoding="utf-8") == (FRONTEND / "src" / "api" / "schema.d.ts").read_text(encoding="utf-8"), \
        f"frontend/src/api/schema.d.ts is not what openapi-typescript makes of frontend/openapi.json: {FIX}"
