"""Run the benchmark sections side by side on this machine and write docs/benchmarks.md.

`python -m bench` runs every section; `python -m bench --only telemetry` runs one and replaces only
that section's block in docs/benchmarks.md (blocks are delimited by `<!-- section:NAME -->` …
`<!-- /section:NAME -->`, so sections measured at different times can live in one file).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import platform
import re
import subprocess
import sys
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime

from bench.harness import ROOT, have_wrk

DOC = ROOT / "docs" / "benchmarks.md"


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


def identity_section() -> str:
    if not have_wrk():
        raise SystemExit("the identity section needs wrk (scripts/install-system-deps.sh installs it)")
    from bench import identity
    from tests import _services

    with contextlib.ExitStack() as stack:
        pg = stack.enter_context(_services.postgres())
        redis_url = stack.enter_context(_services.redis_server())
        data_dir = stack.enter_context(tempfile.TemporaryDirectory(prefix="xinex-bench-"))
        res = identity.run(pg.app_url, redis_url, data_dir)
        print(res)
        return identity.report(res)


def telemetry_section() -> str:
    from bench import telemetry

    return telemetry.report(telemetry.run())


def _pg_redis_section(module: str) -> str:
    """A section measured on PostgreSQL + Redis (production shape) and on the embedded default."""
    if not have_wrk():
        raise SystemExit(f"the {module} section needs wrk (scripts/install-system-deps.sh installs it)")
    import importlib

    from tests import _services

    mod = importlib.import_module(f"bench.{module}")
    with contextlib.ExitStack() as stack:
        pg = stack.enter_context(_services.postgres())
        redis_url = stack.enter_context(_services.redis_server())
        data_dir = stack.enter_context(tempfile.TemporaryDirectory(prefix="xinex-bench-"))
        return mod.report(mod.run(pg.app_url, redis_url, data_dir))


def billing_section() -> str:
    from bench import billing
    from tests import _services

    with contextlib.ExitStack() as stack:
        pg = stack.enter_context(_services.postgres())
        redis_url = stack.enter_context(_services.redis_server())
        data_dir = stack.enter_context(tempfile.TemporaryDirectory(prefix="xinex-bench-"))
        return billing.report(billing.run(pg.app_url, redis_url, data_dir))


def push_section() -> str:
    from bench import push
    from tests import _services

    with _services.postgres() as pg:
        return push.report(push.run(pg.app_url))


# name → function returning the section's markdown; run in this order.
SECTIONS: dict[str, Callable[[], str]] = {
    "identity": identity_section,
    "telemetry": telemetry_section,
    "heartbeats": lambda: _pg_redis_section("heartbeats"),
    "incidents": lambda: _pg_redis_section("incidents"),
    "integrations": lambda: _pg_redis_section("integrations"),
    "monitors": lambda: __import__("bench.monitors", fromlist=["section"]).section(),
    "webapp": lambda: __import__("bench.webapp", fromlist=["section"]).section(),
    "billing": billing_section,
    "status_pages": lambda: _pg_redis_section("status_pages"),
    "push": push_section,
}
_BLOCK = re.compile(r"<!-- section:(?P<name>[\w-]+) -->\n(?P<body>.*?)<!-- /section:(?P=name) -->\n?", re.S)


def _header() -> str:
    return "\n".join([
        "# Benchmarks",
        "",
        f"Written by `make bench` (`python -m bench [--only SECTION]`) on: {machine()}.",
        "Each section says when and at which commit it was measured (sections can be re-run alone).",
        "The machines are shared and noisy: compare ratios measured side by side in one run, not absolute",
        "numbers across runs. PostgreSQL and Redis are the local servers (or throwaway ones) that",
        "`tests/_services.py` provisions; load generators are separate processes on the same machine.",
        "",
    ])


def write(results: dict[str, str]) -> None:
    """Replace the measured sections' blocks, keep the others as they are, in SECTIONS order."""
    blocks: dict[str, str] = {}
    if DOC.exists():
        blocks = {m["name"]: m["body"] for m in _BLOCK.finditer(DOC.read_text())}
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                            cwd=ROOT).stdout.strip()
    stamp = f"_Measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC at commit `{commit}`._\n\n"
    for name, markdown in results.items():
        blocks[name] = stamp + markdown.rstrip("\n") + "\n"
    order = [n for n in SECTIONS if n in blocks] + [n for n in blocks if n not in SECTIONS]
    body = "".join(f"<!-- section:{n} -->\n{blocks[n]}<!-- /section:{n} -->\n\n" for n in order)
    DOC.parent.mkdir(exist_ok=True)
    DOC.write_text(_header() + "\n" + body.rstrip("\n") + "\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=list(SECTIONS), action="append",
                        help="run only this section (repeatable); other sections in the document are kept")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    results = {}
    for name in args.only or list(SECTIONS):
        results[name] = SECTIONS[name]()
        write(results)  # after each section, so a later failure keeps what was measured
    print(DOC.read_text())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
