"""The architecture rules in pyproject.toml (docs/architecture.md) can fail, and the debt lists only shrink.

Each import-linter contract is run, as configured, over a small fixture package laid out like xinex
(renamed, so the installed xinex is not read): clean it passes, and one violating import makes the
contract fail by name. On a copy of the real tree, a new violation fails its contract; dropping any
debt line still listed fails its contract, and an ignore line that matches no import fails too. mypy, with the project's configuration, rejects
an ill-typed and an unannotated new module. No database needed; a few seconds in all.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PYPROJECT = ROOT / "pyproject.toml"
BIN = Path(sys.executable).parent
FIXTURE_ROOT = "xinexfixture"


def _config() -> dict:
    return tomllib.loads(PYPROJECT.read_text())["tool"]["importlinter"]


def _contract_names() -> dict[str, str]:
    return {c["id"]: c["name"] for c in _config()["contracts"]}


def _toml(config: dict) -> str:
    """Writes the [tool.importlinter] tables back (JSON strings and arrays are valid TOML)."""
    out = ["[tool.importlinter]"]
    out += [f"{k} = {json.dumps(v)}" for k, v in config.items() if k != "contracts"]
    for contract in config["contracts"]:
        out += ["", "[[tool.importlinter.contracts]]"]
        out += [f"{k} = {json.dumps(v)}" for k, v in contract.items()]
    return "\n".join(out) + "\n"


def _lint_imports(config: dict, config_dir: Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    path = config_dir / "importlinter.toml"
    path.write_text(_toml(config))
    return subprocess.run([str(BIN / "lint-imports"), "--config", str(path), "--no-cache", "--no-logo"],
                          cwd=cwd or config_dir, capture_output=True, text=True, timeout=120)


def _renamed(value):
    if isinstance(value, str):
        return FIXTURE_ROOT + value.removeprefix("xinex") if value.split(".")[0] == "xinex" else value
    if isinstance(value, list):
        return [_renamed(v) for v in value]
    return value


def _fixture_config() -> dict:
    """The real contracts, on the fixture package, without the debt lines (the fixture has no debt);
    wildcard lines are part of a rule ("routes may import any domain's mount") and stay."""
    config = {k: _renamed(v) for k, v in _config().items() if k != "contracts"}
    config["contracts"] = []
    for contract in _config()["contracts"]:
        contract = {k: _renamed(v) for k, v in contract.items()}
        rules = [line.replace("xinex.", FIXTURE_ROOT + ".") for line in contract.pop("ignore_imports", [])
                 if "*" in line]
        config["contracts"].append({**contract, **({"ignore_imports": rules} if rules else {})})
    return config


def _lay_out_fixture(tmp_path: Path, extra: dict[str, str]) -> None:
    """Every module the contracts name, importing as the contract wants; `extra` adds or replaces modules."""
    modules: set[str] = set()
    for contract in _fixture_config()["contracts"]:
        for key in ("source_modules", "forbidden_modules", "allowed_importers"):
            modules.update(m for m in contract.get(key, []) if m.startswith(FIXTURE_ROOT + "."))
    files = {m.replace(".", "/") + "/__init__.py": "" for m in modules if m.count(".") == 1}
    files.update({
        f"{FIXTURE_ROOT}/__init__.py": "",
        f"{FIXTURE_ROOT}/kit/__init__.py": "",
        f"{FIXTURE_ROOT}/kit/outbound.py": "import httpx\n",
        f"{FIXTURE_ROOT}/models/__init__.py": f"import {FIXTURE_ROOT}.kit.outbound\n",
        f"{FIXTURE_ROOT}/heartbeats/router.py": f"import {FIXTURE_ROOT}.models\n",
        f"{FIXTURE_ROOT}/heartbeats/mount.py": f"import {FIXTURE_ROOT}.heartbeats.router\n",
        f"{FIXTURE_ROOT}/routes.py": f"import {FIXTURE_ROOT}.heartbeats.mount\n",
        f"{FIXTURE_ROOT}/worker.py": f"import {FIXTURE_ROOT}.routes\n",
    })
    files = {p: s for p, s in files.items() if not p.endswith(("/routes/__init__.py", "/worker/__init__.py"))}
    files.update(extra)
    for relative, source in files.items():
        path = tmp_path / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        if not (path.parent / "__init__.py").exists() and path.parent != tmp_path:
            (path.parent / "__init__.py").write_text("")
        path.write_text(source)


F = FIXTURE_ROOT
VIOLATIONS = {
    "kit-is-a-library": {f"{F}/kit/etag.py": f"from {F}.models import x\n"},
    "models-import-no-domain": {f"{F}/models/tenant.py": f"from {F}.auth import principal\n"},
    "entry-points-on-top": {f"{F}/heartbeats/service.py": f"from {F} import routes\n"},
    "mount-only": {f"{F}/routes.py": f"import {F}.heartbeats.mount\nimport {F}.heartbeats.router\n"},
    "no-cycles": {f"{F}/auth/service.py": f"import {F}.audit\n", f"{F}/audit/service.py": f"import {F}.auth\n"},
    "one-http-client": {f"{F}/monitors/probe_agent.py": "import httpx\n"},
}


def test_every_contract_has_a_violation_here():
    assert set(VIOLATIONS) == set(_contract_names())


def test_the_clean_fixture_keeps_every_contract(tmp_path):
    _lay_out_fixture(tmp_path, {})
    result = _lint_imports(_fixture_config(), tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("contract_id", sorted(VIOLATIONS))
def test_a_violation_breaks_its_contract(tmp_path, contract_id):
    _lay_out_fixture(tmp_path, VIOLATIONS[contract_id])
    result = _lint_imports(_fixture_config(), tmp_path)
    output = " ".join((result.stdout + result.stderr).split())  # long names wrap
    assert result.returncode != 0, output
    name = _contract_names()[contract_id]
    assert f"{name} BROKEN" in output


def test_the_real_tree_keeps_every_contract_with_its_debt_list(tmp_path):
    result = _lint_imports(_config(), tmp_path, cwd=ROOT)
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_new_violation_in_the_real_tree_breaks_its_contract(tmp_path):
    """A new violation like the debt once listed fails `make lint`: on a copy of the real tree, a domain
    imported past its mount and an import cycle between two packages; and where a contract still lists
    debt, dropping its first line."""
    copy = tmp_path / "tree"
    shutil.copytree(ROOT / "backend" / "xinex", copy / "xinex", ignore=shutil.ignore_patterns("__pycache__"))
    with (copy / "xinex" / "routes.py").open("a") as f:
        f.write("import xinex.auth.router\n")
    with (copy / "xinex" / "identity" / "principal.py").open("a") as f:
        f.write("import xinex.auth.service\n")  # identity <-> auth
    result = _lint_imports(_config(), tmp_path, cwd=copy)
    output = " ".join((result.stdout + result.stderr).split())
    assert result.returncode != 0, output
    names = _contract_names()
    for contract_id in ("mount-only", "no-cycles"):
        assert f"{names[contract_id]} BROKEN" in output, output
    assert f"{names['kit-is-a-library']} KEPT" in output, output

    for index, contract in enumerate(_config()["contracts"]):
        debt = [line for line in contract.get("ignore_imports", []) if "*" not in line]
        if not debt:
            continue
        config = _config()
        config["contracts"][index]["ignore_imports"].remove(debt[0])
        result = _lint_imports(config, tmp_path, cwd=ROOT)
        output = " ".join((result.stdout + result.stderr).split())
        assert result.returncode != 0, output
        assert f"{contract['name']} BROKEN" in output, output


def test_an_ignore_line_that_matches_nothing_fails(tmp_path):
    """Debt paid off must leave the list: a stale line is an error, so the lists only shrink."""
    config = _config()
    no_cycles = next(c for c in config["contracts"] if c["id"] == "no-cycles")
    no_cycles.setdefault("ignore_imports", []).append("xinex.kit.etag -> xinex.kit.db")
    result = _lint_imports(config, tmp_path, cwd=ROOT)
    assert result.returncode != 0
    assert "xinex.kit.etag -> xinex.kit.db" in result.stdout + result.stderr


def test_mypy_checks_a_new_module_strictly(tmp_path):
    package = tmp_path / "backend" / "xinex"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "brand_new.py").write_text(
        "def untyped(x):\n    return x\n\n\ndef wrong() -> int:\n    return 'text'\n")
    result = subprocess.run([str(BIN / "mypy"), "--config-file", str(PYPROJECT), "--cache-dir",
                             str(tmp_path / "cache")], cwd=tmp_path, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode != 0, result.stdout + result.stderr
    assert "brand_new.py:1: error: Function is missing a type annotation  [no-untyped-def]" in result.stdout
    assert "brand_new.py:6: error: Incompatible return value type" in result.stdout
