"""Settings, all read from the environment (documented in .env.example).

Defaults give the embedded configuration (SQLite, the django-q2 ORM broker) for development.
With DEBUG off, every secret must be set: start-up fails with a message naming the variable.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import environ
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
# A .env beside manage.py (written by dev.py) fills what the environment does not set.
_env_file = Path(env("ENV_FILE", default=str(BASE_DIR / ".env")))
if _env_file.is_file():
    environ.Env.read_env(_env_file, overwrite=False)

DEBUG = env.bool("DEBUG", default=False)

# Development-only fallbacks; never used with DEBUG off (see _require below).
_DEV_SECRET_KEY = "dev-only-insecure-secret-key-change-me-0123456789abcdefghijklmnop"
_DEV_FERNET_KEY = "dev-only-insecure-fernet-key"


def _require(name: str, dev_default):
    """Return the variable, or the development default when DEBUG is on; fail loudly otherwise."""
    value = env(name, default=None)
    if value:
        return value
    if DEBUG:
        return dev_default
    raise ImproperlyConfigured(
        f"The environment variable {name} is not set. It is required when DEBUG is off; "
        "see .env.example."
    )


SECRET_KEY = _require("SECRET_KEY", _DEV_SECRET_KEY)
# The first key encrypts, every key decrypts: rotation prepends a new key (README).
FERNET_KEYS = [k.strip() for k in str(_require("FERNET_KEYS", _DEV_FERNET_KEY)).split(",") if k]
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "template_partials",
    "django_q",
    "axes",
    # Two-factor sign-in (portal/two_factor.py): before "portal", whose admin takes their
    # device pages away (the secrets stay out of the admin).
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "portal",
    "integrations",
    "automation",
    "billing",
    "invoices",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # request.user.is_verified(): whether this session gave a two-factor code.
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "portal.middleware.ViewerTimezoneMiddleware",
    # A user with two-factor sign-in who has not given a code yet reaches only the code page.
    "portal.middleware.TwoFactorMiddleware",
    # Last, as axes asks: turns a locked-out log-in into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "portal.urls"
WSGI_APPLICATION = "portal.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "portal.context_processors.workspaces",
            ],
            "builtins": ["portal.templatetags.money"],
        },
    }
]

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'var' / 'db.sqlite3'}")
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL and a busy timeout: the web server and the worker write at the same time.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
else:
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# Connections are kept between requests, SQLite's too: closing its last connection
# checkpoints the WAL (7.5 ms, twice per webhook; tests/perf/README.md).
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTHENTICATION_BACKENDS = [
    # First: a locked-out log-in is refused before any password is checked.
    "portal.auth_backends.LoginThrottleBackend",
    "django.contrib.auth.backends.ModelBackend",
    "portal.permissions.WorkspacePermissionBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Brute force: 5 wrong passwords for one username from one address lock that pair for 15
# minutes (others, and the same user elsewhere, can still log in); a success resets the count.
AXES_ENABLED = True  # in tests too: tests/portal/test_login_lockout.py
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = timedelta(minutes=15)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
# The client's address behind proxies: how many proxies stand in front of the portal, or which
# addresses (networks allowed) are ours. X-Forwarded-For is read only across them, for the
# rate limits and the log-in lock-out alike (portal/ratelimit.py). Unset: REMOTE_ADDR.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
TRUSTED_PROXIES = env.list("TRUSTED_PROXIES", default=[])
AXES_CLIENT_IP_CALLABLE = "portal.ratelimit.client_address"
LOGIN_URL = "login"
# Two-factor sign-in: the name authenticator apps show beside the account.
OTP_TOTP_ISSUER = "Agency Portal"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "var" / "static"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# E-mail: EMAIL_URL (smtp+tls://user:pass@host:587, consolemail://, ...). Unset with DEBUG on,
# each message is written to OUTBOX_DIR (var/outbox/), read at /dev/outbox/
# (portal/views/dev_outbox.py); unset with DEBUG off, printed to the console.
OUTBOX_DIR = Path(env("OUTBOX_DIR", default=str(BASE_DIR / "var" / "outbox")))
if DEBUG and not env("EMAIL_URL", default=""):
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = OUTBOX_DIR
else:
    vars().update(env.email_url("EMAIL_URL", default="consolemail://"))
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="Agency Portal <portal@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# The portal's own address, for links in e-mails and the URLs given to Stripe.
SITE_URL = env("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")

# Stripe. A blank STRIPE_API_BASE means Stripe itself; development points it at the sandbox.
_stripe_base = env("STRIPE_API_BASE", default="")
STRIPE_API_BASE = _stripe_base or "https://api.stripe.com"
# Connect's OAuth pages and token endpoint; the sandbox serves them beside the API.
STRIPE_CONNECT_BASE = _stripe_base or "https://connect.stripe.com"
STRIPE_JS_URL = env("STRIPE_JS_URL", default="") or "https://js.stripe.com/v3/"
STRIPE_CONNECT_CLIENT_ID = env("STRIPE_CONNECT_CLIENT_ID", default="")
# The platform secret key used for Connect accounts (with the Stripe-Account header).
STRIPE_CONNECT_SECRET_KEY = env("STRIPE_CONNECT_SECRET_KEY", default="")
# The signing secret of the platform's Connect webhook endpoint (/hooks/stripe/connect/), which
# gets the events of every account connected through OAuth; "new,old" while Stripe rolls it.
STRIPE_CONNECT_WEBHOOK_SECRETS = [
    s.strip() for s in env.list("STRIPE_CONNECT_WEBHOOK_SECRET", default=[]) if s.strip()
]
STRIPE_TIMEOUT_SECONDS = env.float("STRIPE_TIMEOUT_SECONDS", default=20.0)
# Stripe's rate limits (100 requests/s per account in live mode, 25 in test mode), kept by one
# token bucket per Stripe account and mode, shared by every web and worker process
# (integrations/gateway/rate_limit.py): in any one second the portal sends an account at most
# STRIPE_RATE_LIVE / STRIPE_RATE_TEST requests (80% of Stripe's), STRIPE_RATE_BURST of them
# back to back. A request waits for its turn up to STRIPE_RATE_MAX_WAIT seconds, else fails
# RATE_LIMITED (a workflow step then backs off and retries). The bucket is in Redis when
# REDIS_URL is set (required with several machines), else in STRIPE_RATE_FILE, an SQLite file
# of its own shared by the processes of one machine.
STRIPE_RATE_LIMIT = env.bool("STRIPE_RATE_LIMIT", default=True)
STRIPE_RATE_LIVE = env.float("STRIPE_RATE_LIVE", default=80.0)
STRIPE_RATE_TEST = env.float("STRIPE_RATE_TEST", default=20.0)
STRIPE_RATE_BURST = env.int("STRIPE_RATE_BURST", default=3)
STRIPE_RATE_MAX_WAIT = env.float("STRIPE_RATE_MAX_WAIT", default=5.0)
# Calls made for pages anyone can load (the payment link's) take only a turn free now that
# leaves STRIPE_RATE_RESERVE turns of the burst free, so staff and workflows always find one.
STRIPE_RATE_RESERVE = env.int("STRIPE_RATE_RESERVE", default=1)
STRIPE_RATE_FILE = env("STRIPE_RATE_FILE", default=str(BASE_DIR / "var" / "stripe-rate.sqlite3"))

# django-q2: Redis when REDIS_URL is set, the ORM broker otherwise. `timeout` bounds one task;
# `retry` is larger, so a task still running is never handed to a second worker.
REDIS_URL = env("REDIS_URL", default="")
Q_CLUSTER = {
    "name": "portal",
    # The queue's name; tests that start a real worker give it a queue of its own.
    "cluster_name": env("Q_QUEUE", default="portal"),
    "workers": env.int("Q_WORKERS", default=2),
    "timeout": env.int("Q_TIMEOUT", default=300),
    "retry": env.int("Q_RETRY", default=360),
    "max_attempts": 5,
    "ack_failures": True,
    # Successful tasks are not stored (-1): the runs and events are the record, and keeping
    # django-q2's last 250 cost every task a locked scan of them. Failures are still stored.
    "save_limit": env.int("Q_SAVE_LIMIT", default=-1),
    # How long an idle ORM-broker worker sleeps before looking at the queue again (Redis
    # waits on the queue instead): the bulk of a form-to-Stripe delay (tests/perf/README.md).
    "poll": env.float("Q_POLL", default=0.05),
    "catch_up": False,
    "label": "Background tasks",
}
if REDIS_URL:
    Q_CLUSTER["redis"] = REDIS_URL
    # One Redis connection pool per process instead of a new client per enqueued task.
    Q_CLUSTER["broker_class"] = "portal.brokers.PooledRedis"
else:
    Q_CLUSTER["orm"] = "default"
# Stripe events processed per transaction by a worker (integrations.events.events_drain): one
# commit for many. (10 on SQLite, to hold its one write lock for less, changed neither the
# acknowledgements' p95 nor the rate: tests/perf/README.md.)
STRIPE_EVENT_BATCH = env.int("STRIPE_EVENT_BATCH", default=50)
# Seconds between the attempts of a step that failed with RATE_LIMITED or PROVIDER_ERROR
# (same idempotency key every time): 30 s, 2 min, 10 min, 1 h, 6 h. No worker waits them out:
# the run is set aside until then. After the last one the run fails and can be retried.
WORKFLOW_RETRY_DELAYS = [
    float(s)
    for s in env.list("WORKFLOW_RETRY_DELAYS", default=["30", "120", "600", "3600", "21600"])
]

CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
        if REDIS_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}

# Security. Production values come from the environment; `check --deploy` is clean with them.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
# Load balancers probe the health check over plain HTTP on the private network.
SECURE_REDIRECT_EXEMPT = [r"^healthz/$"]
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=not DEBUG)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
# Database sessions that never look up a key Django could not have made (portal/sessions.py).
SESSION_ENGINE = "portal.sessions"
# Every page: the portal's own origin only, no framing, no plugins, no inline script or style
# (django-csp). A page that loads Stripe.js widens it with integrations.stripe_js.stripe_js_csp.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "connect-src": [SELF],
        "frame-src": [NONE],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
        "base-uri": [SELF],
        "object-src": [NONE],
    }
}


LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    # stripe-python's INFO and DEBUG records quote Stripe's answers, secrets included.
    "filters": {"redact_secrets": {"()": "integrations.redaction.RedactSecrets"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # The gateway logs its own failures.
        "stripe": {"level": "WARNING", "filters": ["redact_secrets"]},
    },
}

PORTAL_PAGE_SIZE = 25
