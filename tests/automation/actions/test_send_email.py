from __future__ import annotations

from tests.automation.conftest import publish


def _step(to="{{ contact.email }}"):
    return {
        "key": "mail",
        "type": "send_email",
        "name": "Thank you",
        "config": {
            "to": to,
            "subject": "Thanks {{ contact.name }}",
            "body": "Your lead value is {{ contact.custom.lead_value }}.",
        },
    }


def test_it_sends_the_message_with_variables(workspace, contact, trigger_run, mailoutbox):
    publish(workspace, [_step()])
    run = trigger_run(workspace, contact=contact)
    assert run.status == "succeeded"
    (message,) = mailoutbox
    assert message.to == ["jane@example.com"] and message.subject == "Thanks Jane Cooper"
    assert message.body == "Your lead value is 150."


def test_a_bad_address_is_validation_error(workspace, trigger_run, mailoutbox):
    publish(workspace, [_step(to="not an address")])
    run = trigger_run(workspace)
    assert (run.status, run.error_code) == ("failed", "VALIDATION_ERROR") and mailoutbox == []
