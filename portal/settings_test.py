"""Test settings: django-q2 reads its settings at import, so sync mode is set here."""

from __future__ import annotations

import os
import tempfile

os.environ.setdefault("DEBUG", "0")
os.environ.setdefault("SECRET_KEY", "test-secret-key-not-for-production-0123456789abcdef")
# Two keys (rotation), long and varied enough for the FERNET_KEYS check; for tests only.
os.environ.setdefault(
    "FERNET_KEYS",
    "tests-only-Zq8vN3kR7pL2xW5yT9mB4cH6jD0fG1sA,tests-only-Mw4eQ7tY1uI9oP3aS6dF8gH2jK5lZ0x",
)

from portal.settings import *  # noqa: E402, F403
from portal.settings import Q_CLUSTER  # noqa: E402

Q_CLUSTER = {**Q_CLUSTER, "sync": True}
# Whatever a development .env says: tests that need the Connect endpoint configure it.
STRIPE_CONNECT_WEBHOOK_SECRETS: list[str] = []
SECURE_SSL_REDIRECT = False
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
SECURE_HSTS_SECONDS = 0
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
STATIC_ROOT = None  # whitenoise serves from the finders in tests
WHITENOISE_USE_FINDERS = True
STRIPE_API_BASE = "http://127.0.0.1:9"  # tests point connections at the in-process sandbox
STRIPE_TIMEOUT_SECONDS = 5.0
# SQLite tests use a file, not memory: the live server's threads and concurrency tests need
# real connections of their own (WAL and the busy timeout then apply, as in production).
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":  # noqa: F405
    DATABASES["default"]["TEST"] = {  # noqa: F405
        "NAME": os.path.join(tempfile.gettempdir(), f"portal-test-{os.getpid()}.sqlite3")
    }

# Parallel test processes (pytest-xdist) share one Redis: keep their keys apart.
_worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
CACHES = {"default": {**CACHES["default"], "KEY_PREFIX": f"test-{_worker}"}}  # noqa: F405
if REDIS_URL:  # noqa: F405
    # cache.clear() flushes a whole Redis database: keep the cache off the broker's.
    from urllib.parse import urlsplit

    # One database per test process too: `cache.clear()` flushes the whole database, which
    # would reset another process's counters (rate limits) in the middle of its test.
    _db = 8 + int(_worker[2:]) if _worker.startswith("gw") and int(_worker[2:]) < 6 else 14
    CACHES["default"]["LOCATION"] = urlsplit(REDIS_URL)._replace(path=f"/{_db}").geturl()  # noqa: F405

WORKFLOW_RETRY_DELAYS = [0.0] * 5
# The Stripe rate-limit bucket runs on every call, at a pace no test reaches (many tests reuse
# one account); tests/integrations/test_rate_limit.py sets real rates. Accounts are new in
# every test, so parallel test processes can share the file.
STRIPE_RATE_LIVE = STRIPE_RATE_TEST = 10_000.0
STRIPE_RATE_FILE = os.path.join(tempfile.gettempdir(), "portal-test-stripe-rate.sqlite3")
