"""The web app's unit tests (Vitest, frontend/src/**/*.test.ts[x]) run as part of `make test`."""

from __future__ import annotations

import re

from tests.web.node import npx


def test_vitest_unit_tests_pass():
    run = npx("vitest", "run", "--reporter=dot", env={"CI": "1", "NO_COLOR": "1"})
    out = run.stdout + run.stderr
    passed = re.search(r"Tests\s+(\d+) passed", out)
    assert passed and int(passed.group(1)) >= 10, out
    print(out)
