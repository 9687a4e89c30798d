"""Server-side rendering of a page's snapshot: the HTML page (Jinja2, no JavaScript needed), the
Atom and RSS feeds of its incidents (feedgen) and SVG badges."""

from __future__ import annotations

import html
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from feedgen.feed import FeedGenerator
from jinja2 import Environment, FileSystemLoader, select_autoescape

from xinex.status_pages.snapshot import DESCRIPTIONS, LABELS

TEMPLATES = Path(__file__).with_name("templates")
# Colours of each status; every one is paired with its text label on the page (never colour alone).
COLORS = {"operational": "#1a7f37", "degraded": "#9a6700", "partial_outage": "#bc4c00",
          "major_outage": "#cf222e", "maintenance": "#0969da", "no_data": "#8c959f"}
BAR_WIDTH, BAR_GAP, BAR_HEIGHT = 3, 2, 30
CHART_WIDTH, CHART_HEIGHT, CHART_STEP = 460, 60, 20  # response-time chart: one step per hour


@lru_cache(maxsize=1)
def environment() -> Environment:
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html", "xml", "svg"]),
                      trim_blocks=True, lstrip_blocks=True, auto_reload=False)
    env.globals.update(COLORS=COLORS, LABELS=LABELS, DESCRIPTIONS=DESCRIPTIONS, BAR_WIDTH=BAR_WIDTH,
                       BAR_GAP=BAR_GAP, BAR_HEIGHT=BAR_HEIGHT)
    env.globals["latency_chart"] = latency_chart
    env.filters["when"] = _when
    env.filters["pct"] = _pct
    env.filters["ms"] = _ms
    return env


def _runs(values: list[float | None], top: float) -> list[str]:
    """SVG polyline point lists of the known values (an hour without checks breaks the line; a lone hour
    is a short dash)."""
    runs: list[list[tuple[float, float]]] = [[]]
    for i, v in enumerate(values):
        if v is None:
            if runs[-1]:
                runs.append([])
            continue
        runs[-1].append((i * CHART_STEP, CHART_HEIGHT - 2 - (CHART_HEIGHT - 4) * v / top))
    out = []
    for run in runs:
        if len(run) == 1:
            run.append((run[0][0] + CHART_STEP / 4, run[0][1]))
        if run:
            out.append(" ".join(f"{x:g},{y:.1f}" for x, y in run))
    return out


def latency_chart(rt: dict[str, Any]) -> dict[str, Any]:
    """The geometry and the words of a component's response-time chart (last 24 hours, p50 and p95)."""
    hours = rt["hourly"]
    p50 = [h["p50_ms"] for h in hours]
    p95 = [h["p95_ms"] for h in hours]
    known = [v for v in p95 if v is not None] + [v for v in p50 if v is not None]
    top = max(known, default=1.0) or 1.0
    checks = sum(h["checks"] for h in hours)
    day_p50 = [v for v in p50 if v is not None]
    if checks:
        summary = (f"response time over the last 24 hours: median between {min(day_p50):.0f} and "
                   f"{max(day_p50):.0f} ms per hour, 95th percentile up to {max(known):.0f} ms, {checks} checks")
    else:
        summary = "no response times in the last 24 hours"
    return {"width": (len(hours) - 1) * CHART_STEP, "height": CHART_HEIGHT, "top": top, "summary": summary,
            "p50": _runs(p50, top), "p95": _runs(p95, top), "checks": checks}


def _ms(value: float | None) -> str:
    return "no data" if value is None else f"{value:.0f} ms"


def _pct(value: float | None) -> str:
    return "no data" if value is None else f"{value:.2f} %".replace(".00 %", " %")


def _when(value: str | None, tz: str = "UTC") -> str:
    if not value:
        return ""
    at = datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(ZoneInfo(tz))
    return at.strftime("%d %b %Y, %H:%M %Z")


def page(data: dict[str, Any], *, base: str, page_url: str, subscribe: bool = True, message: str | None = None) -> str:
    """`page_url`: where the reader reads it (/status/{slug}, or the root of its custom domain)."""
    return environment().get_template("page.html").render(d=data, base=base, url=page_url, subscribe=subscribe,
                                                          message=message)


def notice(title: str, text: str, *, brand_color: str = "#1f6feb", form: dict[str, Any] | None = None,
           status_code_note: str | None = None) -> str:
    """A small page: password prompt, confirmation, unsubscribe, 'not found'."""
    return environment().get_template("notice.html").render(title=title, text=text, brand_color=brand_color,
                                                            form=form, note=status_code_note)


def feed(data: dict[str, Any], *, page_url: str, kind: str) -> bytes:
    """Atom or RSS 2.0 of the page's incidents (open and recently resolved), one entry per incident whose
    content lists its updates."""
    fg = FeedGenerator()
    info = data["page"]
    url = page_url
    fg.id(url)
    fg.title(f"{info['name']} — incidents")
    fg.link(href=url, rel="alternate")
    fg.link(href=f"{url}/feed.{kind}", rel="self")
    channel = info["description"] or f"Incident history of {info['name']}"
    fg.description(html.escape(channel) if kind == "rss" else channel)
    fg.language("en")
    incidents = [*data["incidents"], *data.get("past_incidents", [])]
    latest = max((u["at"] for i in incidents for u in i["updates"]), default=data["generated_at"])
    fg.updated(latest)
    for inc in sorted(incidents, key=lambda i: i["started_at"]):
        entry = fg.add_entry()
        entry.id(f"{url}#incident-{inc['key']}")
        entry.guid(f"{url}#incident-{inc['key']}", permalink=False)
        entry.title(f"{inc['title']} ({inc['status']})")
        entry.link(href=f"{url}#incident-{inc['key']}")
        entry.published(inc["started_at"])
        entry.updated(max((u["at"] for u in inc["updates"]), default=inc["started_at"]))
        lines = [f"{u['status'].capitalize()} ({u['at']}): {u['message']}" for u in inc["updates"]]
        if kind == "rss":
            # RSS readers render <description> as HTML: the tenant's text goes in escaped, never as markup.
            entry.description("<br/><br/>".join(html.escape(line) for line in lines))
        else:
            entry.description("\n\n".join(lines))
            entry.content("\n\n".join(lines), type="text")
    out: bytes = fg.atom_str(pretty=False) if kind == "atom" else fg.rss_str(pretty=False)
    return out


def _text_width(text: str) -> int:
    return 7 * len(text) + 10  # Verdana 11px averages under 7 px per character


def badge(label: str, message: str, color: str) -> str:
    """A flat badge in the usual README style, with a text alternative."""
    lw, mw = _text_width(label), _text_width(message)
    return environment().get_template("badge.svg").render(label=label, message=message, color=color, lw=lw, mw=mw)
