"""News travels up the layers through hooks whose stages run in a stated order."""

from __future__ import annotations

import pytest

from billing.hooks import payment_status_changed
from integrations.hooks import connection_usage, stripe_event
from portal.hooks import Hook


def _wired(hook: Hook) -> list[tuple[str, str]]:
    return [(stage, f"{r.__module__}.{r.__name__}") for stage, r in hook.receivers()]


def test_stripe_events_reach_the_ledger_then_workflows_then_payers_then_contacts():
    assert _wired(stripe_event) == [
        ("ledger", "billing.receivers.on_stripe_event"),
        ("workflows", "automation.receivers.on_stripe_event"),
        ("payers", "invoices.receivers.on_stripe_event"),
        ("contacts", "integrations.receivers.on_stripe_event"),
    ]


def test_payment_changes_reach_invoices_and_connection_usage_asks_workflows():
    assert _wired(payment_status_changed) == [
        ("invoices", "invoices.receivers.on_payment_status_changed")
    ]
    assert _wired(connection_usage) == [("workflows", "automation.receivers.on_connection_usage")]


def test_stages_run_in_the_hooks_order_whatever_the_order_of_registration():
    heard: list[str] = []
    hook = Hook("sample", stages=("first", "second", "third"))
    hook.connect("third", lambda news: heard.append(f"third:{news}"))
    hook.connect("first", lambda news: heard.append(f"first:{news}") or "answer")
    assert hook.send("paid") == ["answer", None]
    assert heard == ["first:paid", "third:paid"]


def test_a_second_receiver_for_a_stage_or_an_unknown_stage_is_refused():
    hook = Hook("sample", stages=("only",))
    hook.connect("only", print)
    hook.connect("only", print)  # the same one again (a second ready()) is harmless
    with pytest.raises(ValueError, match="already has a receiver"):
        hook.connect("only", repr)
    with pytest.raises(ValueError, match="no stage"):
        hook.connect("other", print)


def test_a_failing_receiver_stops_the_later_stages_and_reaches_the_caller():
    heard: list[str] = []
    hook = Hook("sample", stages=("first", "second"))

    def fail(news: str) -> None:
        raise RuntimeError("no")

    hook.connect("first", fail)
    hook.connect("second", heard.append)
    with pytest.raises(RuntimeError):
        hook.send("paid")
    assert heard == []
