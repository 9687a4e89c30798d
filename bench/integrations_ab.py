"""A/B of the integrations section: the same measurement (bench/integrations.py: warm-up, wrk on
`/v2/enqueue`, probes paged through a webhook) on two backends, interleaved in one run.

    git worktree add --detach /tmp/xinex-base <REV>
    python -m bench.integrations_ab --base-tree /tmp/xinex-base [--rounds 1] [--modes embedded postgresql]

Each measurement runs in a fresh process whose `xinex` is imported from the tree measured (PYTHONPATH),
with this tree's bench code, so both sides get the same load. Besides the section's numbers it reads
the outbox afterwards: `applied_per_s` is the events the engine applied per second (applied / (last
applied - first written)), the rate a deployment can sustain, where events/s is only what it accepted.
Not part of `make bench`: it compares two versions of the code, not the product.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import subprocess
import sys
import tempfile

from bench.harness import PYTHON, ROOT


async def _applied(db_url: str) -> dict:
    from sqlalchemy import text
    from xinex.kit.db import Database

    db = Database(db_url)
    try:
        async with db.session(system="bench.ab") as s:
            n, done, first, last = (await s.execute(text(
                "SELECT count(*), count(processed_at), min(created_at), max(processed_at) FROM outbox_events"))).one()
    finally:
        await db.dispose()
    if isinstance(first, str):  # SQLite answers text
        from datetime import datetime
        first, last = datetime.fromisoformat(first), datetime.fromisoformat(last) if last else None
    return {"events": n, "applied": done,
            "applied_per_s": done / (last - first).total_seconds() if last is not None else 0.0}


def one(mode: str) -> dict:
    """One measurement in this process (its `xinex` is whichever tree PYTHONPATH names)."""
    import xinex

    from bench import heartbeats as hb
    from bench import integrations
    from tests import _services

    with contextlib.ExitStack() as stack:
        pg = stack.enter_context(_services.postgres())
        redis_url = stack.enter_context(_services.redis_server())
        root = stack.enter_context(tempfile.TemporaryDirectory(prefix="xinex-ab-"))
        with hb.deployment(mode, pg.app_url, redis_url, root) as (api, db_url):
            result = integrations.measure(api, db_url)
            result.update(asyncio.run(_applied(db_url)))
    return {"tree": os.path.dirname(os.path.dirname(os.path.dirname(xinex.__file__))), "mode": mode, **result,
            "load_after": os.getloadavg()[0]}


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.integrations_ab", description=__doc__.splitlines()[0])
    parser.add_argument("--base-tree", help="a checkout of the base revision (git worktree add --detach …)")
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--modes", nargs="+", default=["embedded", "postgresql"])
    parser.add_argument("--one", help=argparse.SUPPRESS)  # internal: measure this mode here
    args = parser.parse_args()
    if args.one:
        print("RESULT " + json.dumps(one(args.one)), flush=True)
        return 0
    trees = [str(ROOT), args.base_tree]
    for round_ in range(args.rounds):
        for mode in args.modes:
            for tree in trees if round_ % 2 == 0 else trees[::-1]:
                env = {**os.environ, "PYTHONPATH": f"{tree}/backend:{ROOT}"}
                out = subprocess.run([PYTHON, "-m", "bench.integrations_ab", "--one", mode], env=env, cwd=ROOT,
                                     capture_output=True, text=True)
                lines = [line for line in out.stdout.splitlines() if line.startswith("RESULT ")]
                print(lines[-1][7:] if lines else json.dumps({"tree": tree, "mode": mode, "failed": out.stderr[-500:]}),
                      flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
