"""The web app in a real browser: each frontend/e2e/*.e2e.mjs (Node's test runner + playwright-core driving
Debian's Chromium) against one shared `xinex run` with a real SMTP sink. Forms are found by their labels and
roles, and every main page passes an axe-core scan with no serious violation. The billing journey
(e2e/stripe/) runs against a second server with Stripe billing on, talking to the Stripe-compatible fake."""

from __future__ import annotations

import os
import subprocess

import pytest

from tests.web.node import CHROMIUM, FRONTEND, require_node

SPECS = sorted(p.name for p in (FRONTEND / "e2e").glob("*.e2e.mjs"))


def _run_spec(spec: str, webapp, tmp_path, **extra_env: str) -> None:
    require_node()
    env = {**os.environ, "BASE_URL": webapp.server.base, "MAILBOX_URL": webapp.mailbox_url, "CHROMIUM": CHROMIUM,
           "OTLP_URL": webapp.otlp_url,
           "ARTIFACTS_DIR": os.environ.get("XINEX_WEB_SCREENSHOTS", str(tmp_path / "screenshots")), "NO_COLOR": "1",
           **extra_env}
    run = subprocess.run(["node", "--test", "--test-reporter=spec", f"e2e/{spec}"], cwd=FRONTEND, env=env,
                         capture_output=True, text=True, timeout=240)
    assert run.returncode == 0, (f"{spec} failed:\n{run.stdout}\n{run.stderr}\n--- server log (tail) ---\n"
                                 + webapp.server.log()[-6000:])


@pytest.mark.parametrize("spec", SPECS)
def test_browser_journey(spec, webapp, tmp_path):
    _run_spec(spec, webapp, tmp_path)


def test_billing_journey(billing_webapp, tmp_path):
    _run_spec("stripe/billing.e2e.mjs", billing_webapp.app, tmp_path, STRIPE_CONTROL_URL=billing_webapp.control_url)


def test_there_are_browser_journeys():
    assert "signup-heartbeat-incident.e2e.mjs" in SPECS
    assert (FRONTEND / "e2e" / "stripe" / "billing.e2e.mjs").is_file()
