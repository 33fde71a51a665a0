"""Weak encryption keys for the stored Stripe keys stop a production start (system check)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from django.core.checks import run_checks

ROOT = Path(__file__).resolve().parents[2]
STRONG = "Zq8vN3kR7pL2xW5yT9mB4cH6jD0fG1sA-strong-enough"


def _errors(settings, keys, *, debug=False) -> list[str]:
    settings.DEBUG = debug
    settings.FERNET_KEYS = keys
    return [f"{e.id}: {e.msg}" for e in run_checks() if e.id == "portal.E002"]


@pytest.mark.parametrize(
    ("key", "why"),
    [
        ("a", "has 1 characters"),
        ("x" * 40, "repeats a few characters"),
        ("0123456789" * 4, "repeats a few characters"),
        ("dev-only-insecure-fernet-key-0123456789abcdefgh", "development or test key"),
    ],
)
def test_a_weak_key_is_an_error_out_of_development(settings, key, why):
    errors = _errors(settings, [STRONG, key])
    assert len(errors) == 1
    assert "entry 2 is too weak" in errors[0] and why in errors[0]


def test_strong_keys_pass_and_development_is_not_checked(settings):
    assert _errors(settings, [STRONG, STRONG[::-1]]) == []
    assert _errors(settings, ["a"], debug=True) == []
    assert _errors(settings, [])[0].endswith("FERNET_KEYS is empty.")


def test_manage_py_check_deploy_refuses_fernet_keys_a():
    env = {
        "PATH": "/usr/bin:/bin",
        "DJANGO_SETTINGS_MODULE": "portal.settings",
        "DEBUG": "0",
        "SECRET_KEY": "s" * 10 + "-not-used-0123456789abcdefghijklmnopqrstuvwxyz",
        "FERNET_KEYS": "a",
        "DATABASE_URL": "sqlite:////tmp/fernet-check-unused.sqlite3",
    }
    done = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode != 0
    assert "portal.E002" in done.stderr and "FERNET_KEYS entry 1 is too weak" in done.stderr
