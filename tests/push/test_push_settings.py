"""Push settings as an operator meets them: a TTL below its minimum stops `xinex run` with one clear line
(no traceback), and the start-up banner says whether APNs and FCM are configured and where they send."""

from __future__ import annotations

import os
import subprocess
import sys

from xinex.settings import Settings
from xinex.startup import describe


def test_an_action_ttl_below_its_minimum_is_a_clear_settings_error(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("XINEX_")}
    env.update({"XINEX_PUSH_ACTION_TTL_S": "20", "XINEX_DATA_DIR": str(tmp_path)})
    done = subprocess.run([sys.executable, "-m", "xinex.cli", "run"], env=env, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 2
    assert "XINEX_PUSH_ACTION_TTL_S" in done.stderr and "greater than or equal to 60" in done.stderr
    assert "Traceback" not in done.stderr and not (tmp_path / "xinex.db").exists()


def test_the_banner_says_whether_push_is_configured(tmp_path):
    bare = Settings(data_dir=tmp_path, smtp_url="smtp://127.0.0.1:25")
    [line] = [x for x in describe(bare, embedded_jobs=True) if x.startswith("push")]
    assert "APNs not configured (XINEX_APNS_KEY_ID" in line and "FCM not configured" in line
    configured = Settings(data_dir=tmp_path, apns_key_id="ABC123DEFG", apns_team_id="TEAM123456",
                          apns_topic="com.example.xinex", apns_private_key="-----BEGIN PRIVATE KEY-----",
                          fcm_service_account='{"project_id": "p"}', fcm_url="https://127.0.0.1:18111")
    [line] = [x for x in describe(configured, embedded_jobs=True) if x.startswith("push")]
    assert line == ("push      APNs api.push.apple.com (sandbox api.sandbox.push.apple.com); "
                    "FCM 127.0.0.1:18111")
    assert "TEAM123456" not in line and "ABC123DEFG" not in line
