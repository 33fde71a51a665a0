"""Helpers for starting real servers on loopback (tests and benchmarks; no Django needed)."""

from __future__ import annotations

import socket


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def gunicorn_no_control_socket() -> list[str]:
    """gunicorn 27 opens a control socket at one path per user: parallel runs would share it."""
    import gunicorn

    return ["--no-control-socket"] if gunicorn.version_info >= (27,) else []
