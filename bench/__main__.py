"""Run every benchmark section side by side on this machine and write docs/benchmarks.md."""

from __future__ import annotations

import contextlib
import os
import platform
import subprocess
import sys
import tempfile
from datetime import UTC, datetime

from bench import identity
from bench.harness import ROOT, have_wrk


def machine() -> str:
    cpu = "unknown CPU"
    with contextlib.suppress(OSError):
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem = ""
    with contextlib.suppress(OSError):
        mem = open("/proc/meminfo").readline().split(":")[1].strip()
    return (f"{os.cpu_count()} cores ({cpu}), {mem} RAM, {platform.system()} {platform.release()}, "
            f"Python {platform.python_version()}")


def main() -> int:
    if not have_wrk():
        print("make bench needs wrk (scripts/install-system-deps.sh installs it)", file=sys.stderr)
        return 2
    sys.path.insert(0, str(ROOT))
    from tests import _services

    sections = []
    with contextlib.ExitStack() as stack:
        pg = stack.enter_context(_services.postgres())
        redis_url = stack.enter_context(_services.redis_server())
        data_dir = stack.enter_context(tempfile.TemporaryDirectory(prefix="xinex-bench-"))
        res = identity.run(pg.app_url, redis_url, data_dir)
        print(res)
        sections.append(identity.report(res))
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT).stdout.strip()
    header = "\n".join([
        "# Benchmarks",
        "",
        f"Measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC at commit `{commit}` by `make bench` on: {machine()}.",
        "The machines are shared and noisy: compare ratios measured side by side in one run, not absolute",
        "numbers across runs. PostgreSQL and Redis are the local servers (or throwaway ones) that",
        "`tests/_services.py` provisions; the load generator is wrk, a separate process on the same machine.",
        "",
    ])
    (ROOT / "docs").mkdir(exist_ok=True)
    (ROOT / "docs" / "benchmarks.md").write_text(header + "\n".join(sections))
    print((ROOT / "docs" / "benchmarks.md").read_text())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
