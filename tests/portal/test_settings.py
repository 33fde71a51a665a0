"""Production settings: secrets are required, `check --deploy` is clean."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION = {
    "DEBUG": "0",
    "SECRET_KEY": "x" * 30 + "production-like-secret-key-0123456789-abcdefghij",
    "FERNET_KEYS": "Hq3vN8kR2pL7xW5yT1mB9cG6jD4fZ0sA-first,Wm4eQ7tY1uI9oP3aS6dF8gH2jK5lZ0x-older",
    "ALLOWED_HOSTS": "portal.example.com",
}


def _manage(*args: str, env: dict) -> subprocess.CompletedProcess:
    inherited = set(PRODUCTION) | {"DJANGO_ALLOW_ASYNC_UNSAFE"}  # set by the browser tests
    base = {k: v for k, v in os.environ.items() if k not in inherited}
    base.update(ENV_FILE="/nonexistent/.env", DJANGO_SETTINGS_MODULE="portal.settings")
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_reports_nothing_with_production_values():
    result = _manage("check", "--deploy", "--fail-level", "DEBUG", env=PRODUCTION)
    assert result.returncode == 0, result.stderr + result.stdout
    assert "no issues" in result.stdout


@pytest.mark.parametrize("missing", ["SECRET_KEY", "FERNET_KEYS"])
def test_a_missing_secret_stops_start_up_naming_the_variable(missing):
    env = {k: v for k, v in PRODUCTION.items() if k != missing}
    result = _manage("check", env=env)
    assert result.returncode != 0
    assert f"The environment variable {missing} is not set" in result.stderr


def test_debug_mode_runs_without_secrets():
    result = _manage("check", env={"DEBUG": "1"})
    assert result.returncode == 0, result.stderr
