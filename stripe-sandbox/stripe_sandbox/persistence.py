"""Saving the sandbox's data to a pickle file and loading it back (``stripe-sandbox`` only).

Saved: every account's objects, the keys and accounts, Connect platforms and connections,
idempotency entries. Not saved: faults,
request and delivery logs. Writes go to a temporary file renamed over the target, so a crash
never leaves a half-written file.
"""

from __future__ import annotations

import logging
import os
import pickle
from pathlib import Path
from typing import Any

from stripe_sandbox.state import SandboxState

logger = logging.getLogger(__name__)


def dump(state: SandboxState, path: str | os.PathLike[str]) -> None:
    """Write ``state``'s data to ``path`` atomically."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    data = {
        "partitions": state.store.partitions,
        "accounts": state.keys.accounts,
        "keys": state.keys.keys,
        "connect": state.connect,
        "idempotency": {k: e for k, e in state.idempotency.entries.items() if not e.in_flight},
    }
    tmp = target.with_name(target.name + ".tmp")
    with open(tmp, "wb") as f:
        pickle.dump(data, f, protocol=pickle.HIGHEST_PROTOCOL)
    os.replace(tmp, target)


# Where the sandbox's classes lived before it became a distribution of its own.
_OLD_PACKAGE = "integrations.sandbox"


class _Unpickler(pickle.Unpickler):
    """Loads files saved by the sandbox as ``integrations.sandbox`` too (a developer's
    var/stripe-sandbox.pickle survives the move)."""

    def find_class(self, module: str, name: str) -> Any:
        if module == _OLD_PACKAGE or module.startswith(_OLD_PACKAGE + "."):
            module = "stripe_sandbox" + module.removeprefix(_OLD_PACKAGE)
        return super().find_class(module, name)


def load(state: SandboxState, path: str | os.PathLike[str]) -> bool:
    """Replace ``state``'s data with the file's; False (state untouched) if there is no file.

    The file is trusted (it is written by this sandbox): pickle can run code on load.
    """
    try:
        with open(path, "rb") as f:
            data = _Unpickler(f).load()  # noqa: S301 - our own file
    except FileNotFoundError:
        return False
    state.store.partitions = data["partitions"]
    state.keys.accounts = data["accounts"]
    state.keys.keys = data["keys"]
    if "connect" in data:  # files saved before Connect existed have none
        state.connect.__dict__.update(data["connect"].__dict__)
    state.idempotency.entries = data["idempotency"]
    return True
