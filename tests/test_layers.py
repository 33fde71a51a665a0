"""Imports point down the layers of DESIGN.md: only `integrations` talks to Stripe."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
APPS = ["portal", "automation", "billing", "invoices", "integrations"]


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_only_integrations_imports_stripe():
    offenders = [
        str(path.relative_to(ROOT))
        for app in APPS
        if app != "integrations"
        for path in (ROOT / app).rglob("*.py")
        if "stripe" in _imports(path)
    ]
    assert offenders == []


def test_the_check_sees_an_import_of_stripe(tmp_path):
    sample = tmp_path / "views.py"
    sample.write_text("from stripe import StripeClient\n")
    assert "stripe" in _imports(sample)
