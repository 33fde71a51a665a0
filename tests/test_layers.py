"""Imports point down the layers (README, "Architecture"): only `integrations` calls Stripe."""

from __future__ import annotations

import ast
import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
APPS = ["portal", "automation", "billing", "invoices", "integrations"]
# The Stripe sandbox is a distribution of its own (stripe-sandbox/, GPL-3.0-or-later), installed
# next to the portal only for development and tests.
SANDBOX_MODULES = {"stripe_sandbox", "localstripe", "aiohttp"}
SANDBOX_DISTRIBUTIONS = {"agency-portal-stripe-sandbox", "localstripe", "aiohttp"}


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


def test_the_portal_never_imports_the_stripe_sandbox():
    offenders = [
        f"{path.relative_to(ROOT)}: {', '.join(sorted(found))}"
        for app in APPS
        for path in (ROOT / app).rglob("*.py")
        if (found := _imports(path) & SANDBOX_MODULES)
    ]
    assert offenders == []


def test_the_check_sees_an_import_of_the_sandbox(tmp_path):
    sample = tmp_path / "demo_data.py"
    sample.write_text("import aiohttp\nfrom stripe_sandbox.control import SandboxControl\n")
    assert _imports(sample) & SANDBOX_MODULES == {"aiohttp", "stripe_sandbox"}


def _names(requirements: list[str]) -> set[str]:
    return {re.split(r"[\s\[<>=!~;@]", r, maxsplit=1)[0].lower() for r in requirements}


def test_the_portals_dependencies_name_neither_the_sandbox_nor_localstripe_nor_aiohttp():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert _names(project["dependencies"]) & SANDBOX_DISTRIBUTIONS == set()
    # Nor an extra: dev.py installs the sandbox from ./stripe-sandbox (a name in an extra would
    # be looked up on PyPI, where anyone could publish it).
    for extra, requirements in project.get("optional-dependencies", {}).items():
        assert _names(requirements) & SANDBOX_DISTRIBUTIONS == set(), extra


def _modules(path: Path) -> set[str]:
    """Every module a file imports, in full: `from a.b import c` counts `a.b` and `a.b.c` (c may
    be a module), and a relative import is read from the file's own package."""
    package = path.relative_to(ROOT).parent.parts if path.is_relative_to(ROOT) else ()
    modules: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else ()
            module = ".".join([*base, *([node.module] if node.module else [])])
            modules.add(module)
            modules.update(f"{module}.{alias.name}" for alias in node.names)
    return modules


def _imports_the_gateway(path: Path) -> bool:
    return any(
        module == "integrations.gateway" or module.startswith("integrations.gateway.")
        for module in _modules(path)
    )


def test_no_view_imports_the_gateway():
    """Views reach Stripe through services and selectors, which also keep the connection's
    health; a view holding the gateway would call Stripe beside them."""
    offenders = [
        str(path.relative_to(ROOT))
        for app in APPS
        for path in (ROOT / app).rglob("*.py")
        if "views" in path.relative_to(ROOT).parts[1:-1] or path.name == "views.py"
        if _imports_the_gateway(path)
    ]
    assert offenders == []


def test_the_check_sees_a_view_importing_the_gateway(tmp_path):
    for line in (
        "from integrations.gateway.client import Credentials\n",
        "from integrations import gateway\n",
        "import integrations.gateway.customers as customers\n",
    ):
        sample = tmp_path / "views.py"
        sample.write_text(line)
        assert _imports_the_gateway(sample), line
    sample.write_text("from integrations.errors import GatewayError\n")
    assert not _imports_the_gateway(sample)
