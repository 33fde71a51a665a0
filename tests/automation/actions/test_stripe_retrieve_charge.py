from __future__ import annotations

from tests.automation.conftest import charge_step, publish


def _step(connection, charge="{{ steps.charge.latest_charge }}"):
    return {
        "key": "read",
        "type": "stripe_retrieve_charge",
        "name": "Read charge",
        "config": {"connection": str(connection.uuid), "id": charge},
    }


def test_it_reads_the_charge_of_an_earlier_step(workspace, connection, contact, trigger_run):
    publish(workspace, [charge_step(connection), _step(connection)])
    run = trigger_run(workspace, contact=contact)
    assert run.status == "succeeded", run.error_message
    out = run.steps.get(step_key="read").outputs
    assert out["id"].startswith("ch_") and out["amount"] == 4999 and out["paid"] is True
    assert out["refunded"] is False and out["customer"] == contact.stripe_customer_id


def test_an_unknown_charge_is_not_found(workspace, connection, trigger_run):
    publish(workspace, [_step(connection, charge="ch_doesNotExist")])
    run = trigger_run(workspace)
    assert (run.status, run.error_code) == ("failed", "NOT_FOUND")


def test_something_that_is_not_a_charge_id_is_refused_before_stripe(
    workspace, connection, trigger_run, sandbox
):
    publish(workspace, [_step(connection, charge="hello")])
    run = trigger_run(workspace)
    assert (run.status, run.error_code) == ("failed", "VALIDATION_ERROR")
    assert sandbox.control.requests(path="/v1/charges/hello") == []
