"""The web app's size budget (issue 17): the JavaScript a first visit loads is at most 200 KB gzipped.

What `index.html` references is what the browser loads before the first page; the chart library and
other lazy chunks come later, only on pages that need them. Load-time budgets are measured in `make bench`.
"""

from __future__ import annotations

import gzip
import re

from tests.web.node import FRONTEND

BUDGET = 200 * 1024


def test_initial_javascript_is_within_200_kb_gzipped():
    dist = FRONTEND / "dist"
    index = (dist / "index.html").read_text()
    scripts = re.findall(r'<script[^>]+src="/(assets/[^"]+\.js)"', index)
    preloads = re.findall(r'<link[^>]+rel="modulepreload"[^>]+href="/(assets/[^"]+\.js)"', index)
    files = sorted(set(scripts + preloads))
    assert files, index
    size = sum(len(gzip.compress((dist / f).read_bytes(), compresslevel=9)) for f in files)
    assert size <= BUDGET, f"initial JS is {size / 1024:.0f} KB gzipped ({files}); the budget is 200 KB"
    lazy = [p.name for p in (dist / "assets").glob("*.js") if f"assets/{p.name}" not in files]
    assert any(name.startswith("TimeChart-") for name in lazy), "the chart library should load lazily"
