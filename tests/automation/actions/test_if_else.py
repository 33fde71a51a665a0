from __future__ import annotations

from tests.automation.conftest import publish


def _mail(key, subject):
    return {
        "key": key,
        "type": "send_email",
        "name": subject,
        "config": {"to": "agency@example.com", "subject": subject, "body": "."},
    }


def _branch():
    return {
        "key": "which",
        "type": "if_else",
        "name": "Succeeded?",
        "config": {"left": "{{ trigger.type }}", "operator": "equals", "right": "charge.succeeded"},
        "then": [_mail("yes", "Paid")],
        "else": [_mail("no", "Not paid")],
    }


def test_the_condition_picks_one_branch(workspace, trigger_run, mailoutbox):
    publish(workspace, [_branch(), _mail("after", "Always")])
    run = trigger_run(workspace, trigger={"type": "charge.succeeded"})
    assert run.status == "succeeded"
    assert [m.subject for m in mailoutbox] == ["Paid", "Always"]
    assert set(run.steps.values_list("step_key", flat=True)) == {"which", "yes", "after"}


def test_the_else_branch(workspace, trigger_run, mailoutbox):
    publish(workspace, [_branch()])
    trigger_run(workspace, trigger={"type": "charge.failed"})
    assert [m.subject for m in mailoutbox] == ["Not paid"]
