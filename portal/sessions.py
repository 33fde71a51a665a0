"""The session store (SESSION_ENGINE): Django's database sessions, reading from the database
only a key Django could have made.

The session cookie holds whatever the browser sends, and a quoted cookie value may spell any
character with an escape (``"\\000"`` is a NUL): PostgreSQL refuses a query holding a NUL, so
such a cookie made every page fail. A key that is not one of ours is no session: the visitor
gets a new one, as with an expired key.
"""

from __future__ import annotations

from django.contrib.sessions.backends.base import VALID_KEY_CHARS
from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore

_OURS = frozenset(VALID_KEY_CHARS)


class SessionStore(DatabaseSessionStore):
    def _validate_session_key(self, key):
        # Django makes 32 of these characters; more is never one of ours either.
        return bool(super()._validate_session_key(key)) and len(key) <= 40 and set(key) <= _OURS
