"""Every registry entry imports and declares what the builder and engine need."""

from __future__ import annotations

import pytest

from automation import registry
from automation.actions.base import Action, ActionConfigForm
from automation.triggers.base import Trigger, TriggerConfigForm


@pytest.mark.parametrize("key", sorted(registry.ACTIONS))
def test_every_action_declares_its_form_outputs_and_execute(key, workspace):
    action = registry.action(key)
    assert issubclass(action, Action) and action.key == key
    assert action.label == registry.ACTIONS[key][0]
    assert issubclass(action.config_form, ActionConfigForm)
    form = action.config_form(workspace=workspace)
    assert set(form.variable_fields) <= set(form.fields)
    assert action.output_fields(), f"{key} has no outputs for the variable picker"
    assert action.execute.__func__ is not Action.execute.__func__


@pytest.mark.parametrize("key", sorted(registry.TRIGGERS))
def test_every_trigger_declares_its_filters_outputs_and_sample(key, workspace):
    trigger = registry.trigger(key)
    assert issubclass(trigger, Trigger) and trigger.key == key
    assert issubclass(trigger.config_form, TriggerConfigForm)
    assert trigger.config_form(workspace=workspace) is not None
    assert trigger.outputs, f"{key} offers no variables"
    sample = trigger.sample(workspace)
    assert (
        sample["type"].startswith(key.split("_")[0])
        or sample["type"] == key
        or "." in sample["type"]
    )
