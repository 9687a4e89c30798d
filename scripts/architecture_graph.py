"""Prints the package import graph of xinex as a mermaid flowchart (docs/architecture.md).

    .venv/bin/python scripts/architecture_graph.py

Built from the real imports (grimp, the library import-linter uses). An edge A --> B means some module
of A imports some module of B; a red edge is one that import-linter's ignore lists still accept as debt.
"""

from __future__ import annotations

import tomllib
from collections import Counter
from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parents[1]
ENTRY = {"app", "cli", "worker", "routes", "startup", "migrate"}
BASE = {"kit", "timeseries", "settings", "models", "events", "identity"}


def package(module: str) -> str:
    return module.split(".")[1]


def main() -> None:
    graph = grimp.build_graph("xinex")
    edges: Counter[tuple[str, str]] = Counter()
    for module in graph.modules:
        if module == "xinex":
            continue
        for imported in graph.find_modules_directly_imported_by(module):
            if imported != "xinex" and package(module) != package(imported):
                edges[(package(module), package(imported))] += 1
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    debt = set()
    for contract in config["contracts"]:
        for line in contract.get("ignore_imports", []):
            importer, imported = (part.strip() for part in line.split("->"))
            if "*" not in line and imported.startswith("xinex.") and package(importer) != package(imported):
                debt.add((package(importer), package(imported)))
    packages = sorted({p for edge in edges for p in edge})
    # Entry points import everything and everything imports the shared base: those edges are drawn
    # once, as the two boxes; the edges drawn are between domains and inside the base.
    lines = ["flowchart TD", "  entry[entry points: " + ", ".join(p for p in packages if p in ENTRY) + "]",
             "  entry --> domains", "  subgraph domains"]
    lines += [f"    {p}" for p in packages if p not in ENTRY | BASE]
    lines += ["  end", "  domains --> base", "  subgraph base [shared base]"]
    lines += [f"    {p}" for p in packages if p in BASE]
    lines.append("  end")
    drawn = [(s, t) for (s, t) in sorted(edges) if s not in ENTRY and (t not in BASE or s in BASE)]
    links = []
    for index, (source, target) in enumerate(drawn, start=2):  # links 0 and 1 are the box edges
        lines.append(f"  {source} -->|{edges[(source, target)]}| {target}")
        if (source, target) in debt:
            links.append(str(index))
    if links:
        lines.append(f"  linkStyle {','.join(links)} stroke:red,stroke-width:2px")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
