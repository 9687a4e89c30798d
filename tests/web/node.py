"""Running the web app's Node.js tools from the tests (installed by `make install` into frontend/node_modules)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

FRONTEND = Path(__file__).resolve().parents[2] / "frontend"
CHROMIUM = os.environ.get("XINEX_TEST_CHROMIUM", "/usr/bin/chromium")


def require_node() -> None:
    assert shutil.which("node"), "Node.js 20+ is needed for the web app's tests (it is on every project machine)"
    assert (FRONTEND / "node_modules" / ".bin").is_dir(), "frontend/node_modules is missing: run `make install`"


def npx(*args: str, timeout: float = 300, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """A tool from frontend/node_modules/.bin; its output is shown when it fails."""
    require_node()
    run = subprocess.run([str(FRONTEND / "node_modules" / ".bin" / args[0]), *args[1:]], cwd=FRONTEND,
                         capture_output=True, text=True, timeout=timeout, env={**os.environ, **(env or {})})
    assert run.returncode == 0, f"{' '.join(args)} exited {run.returncode}:\n{run.stdout}\n{run.stderr}"
    return run
