"""docs/quickstart.md, executed as written: its shell blocks, in order, in one bash, against a real `xinex run`."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from tests.conftest import free_port
from tests.embedded import embedded_server

QUICKSTART = Path(__file__).resolve().parents[1] / "docs" / "quickstart.md"


def quickstart_script() -> str:
    blocks = re.findall(r"^```sh\n(.*?)^```", QUICKSTART.read_text(), flags=re.S | re.M)
    assert len(blocks) >= 5, "the quickstart's steps are ```sh blocks"
    return "\n".join(blocks)


def test_quickstart_commands_work_verbatim(tmp_path):
    script = quickstart_script()
    receiver_port = free_port()
    # After the document's commands: wait for the receiver to print the page, then stop it.
    epilogue = """
for _ in $(seq 200); do grep -q 'ALERT RECEIVED' out.log && break; sleep 0.1; done
kill $(jobs -p) 2>/dev/null || true
"""
    with embedded_server(tmp_path) as server:
        (tmp_path / "quickstart.sh").write_text("set -euo pipefail\nexec > >(tee -a out.log) 2>&1\n"
                                                + script + epilogue)
        run = subprocess.run(["bash", "quickstart.sh"], cwd=tmp_path, capture_output=True, text=True, timeout=120,
                             env={"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": str(tmp_path),
                                  "XINEX_URL": server.base, "RECEIVER_PORT": str(receiver_port)})
        out = (tmp_path / "out.log").read_text()
        assert run.returncode == 0, out + run.stderr + "\n--- server ---\n" + server.log()
    assert '"tenant_id"' in out and "token: xinex_" in out
    assert '"default": true' in out  # the new channel is on the default route
    assert re.search(r"crontab line: 0 3 \* \* \* /usr/local/bin/backup.sh && curl -fsS -m 10 --retry 5 "
                     rf"-o /dev/null {re.escape(server.base)}/ping/[0-9a-f-]{{36}}\n", out), out
    assert re.search(r'"title": "nightly backup[^"]*"', out), out
    alert = next(line for line in out.splitlines() if line.startswith("ALERT RECEIVED:"))
    assert '"incident.triggered"' in alert and "nightly backup" in alert
