from __future__ import annotations

from automation.actions.update_contact import ConfigForm
from tests.automation.conftest import publish


def _step(field, value):
    return {
        "key": "tag",
        "type": "update_contact",
        "name": "Mark",
        "config": {"field": field, "value": value},
    }


def test_it_sets_a_custom_field_and_a_standard_one(workspace, contact, trigger_run):
    publish(
        workspace,
        [
            _step("custom.status", "charged {{ trigger.type }}"),
            _step("phone", "+1 555 9999") | {"key": "phone"},
        ],
    )
    run = trigger_run(workspace, contact=contact)
    assert run.status == "succeeded", run.error_message
    contact.refresh_from_db()
    assert contact.custom_fields == {"lead_value": "150", "status": "charged manual"}
    assert contact.phone == "+1 555 9999"


def test_an_invalid_value_is_validation_error(workspace, contact, trigger_run):
    publish(workspace, [_step("email", "not-an-email")])
    run = trigger_run(workspace, contact=contact)
    assert (run.status, run.error_code) == ("failed", "VALIDATION_ERROR")
    contact.refresh_from_db()
    assert contact.email == "jane@example.com"


def test_an_unknown_field_is_refused_in_the_builder():
    assert not ConfigForm(data={"field": "password", "value": "x"}).is_valid()
