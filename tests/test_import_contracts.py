"""The layers of the README's "Architecture" hold: import-linter's contracts, run in-process
(`.ci/run` runs `lint-imports` too; this makes a local `dev.py test` see a broken layer)."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_the_import_contracts_are_kept():
    lint = Path(sys.executable).with_name("lint-imports")
    done = subprocess.run(
        [str(lint), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert "0 broken" in done.stdout


def test_the_contracts_catch_an_app_importing_upwards(tmp_path):
    """The check can fail: the apps' contract, as configured, over a sample tree where portal
    imports billing is reported broken."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    apps = config["contracts"][0]
    assert apps["type"] == "layers" and apps["layers"][-1] == "portal"
    for app in config["root_packages"]:
        (tmp_path / app).mkdir()
        (tmp_path / app / "__init__.py").write_text("")
    (tmp_path / "billing" / "models.py").write_text("")
    (tmp_path / "portal" / "models.py").write_text("from billing import models\n")
    roots = "".join(f"\n    {app}" for app in config["root_packages"])
    layers = "".join(f"\n    {layer}" for layer in apps["layers"])
    (tmp_path / "contracts.ini").write_text(
        f"[importlinter]\nroot_packages ={roots}\n"
        f"[importlinter:contract:apps]\nname = {apps['name']}\ntype = layers\nlayers ={layers}\n"
    )
    lint = Path(sys.executable).with_name("lint-imports")
    done = subprocess.run(
        [str(lint), "--no-cache", "contracts.ini"],
        cwd=tmp_path, capture_output=True, text=True, timeout=300,
        env={"PYTHONPATH": str(tmp_path), "PATH": "/usr/bin:/bin"},
    )  # fmt: skip
    assert done.returncode != 0, done.stdout
    assert "portal.models -> billing" in done.stdout
