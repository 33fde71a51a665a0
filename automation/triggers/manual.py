from __future__ import annotations

from automation.triggers.base import Trigger


class Manual(Trigger):
    """Started by hand ("Test run" or the run button), with a contact chosen then."""

    key = "manual"
    label = "Manual (for testing)"
    outputs = ["type"]
