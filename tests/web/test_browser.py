"""The web app in a real browser: each frontend/e2e/*.e2e.mjs (Node's test runner + playwright-core driving
Debian's Chromium) against one shared `xinex run` with a real SMTP sink. Forms are found by their labels and
roles, and every main page passes an axe-core scan with no serious violation."""

from __future__ import annotations

import os
import subprocess

import pytest

from tests.web.node import CHROMIUM, FRONTEND, require_node

SPECS = sorted(p.name for p in (FRONTEND / "e2e").glob("*.e2e.mjs"))


@pytest.mark.parametrize("spec", SPECS)
def test_browser_journey(spec, webapp, tmp_path):
    require_node()
    env = {**os.environ, "BASE_URL": webapp.server.base, "MAILBOX_URL": webapp.mailbox_url, "CHROMIUM": CHROMIUM,
           "OTLP_URL": webapp.otlp_url,
           "ARTIFACTS_DIR": os.environ.get("XINEX_WEB_SCREENSHOTS", str(tmp_path / "screenshots")), "NO_COLOR": "1"}
    run = subprocess.run(["node", "--test", "--test-reporter=spec", f"e2e/{spec}"], cwd=FRONTEND, env=env,
                         capture_output=True, text=True, timeout=240)
    assert run.returncode == 0, (f"{spec} failed:\n{run.stdout}\n{run.stderr}\n--- server log (tail) ---\n"
                                 + webapp.server.log()[-6000:])


def test_there_are_browser_journeys():
    assert "signup-heartbeat-incident.e2e.mjs" in SPECS
