"""The builder's notice on a workflow copied from another workspace (or imported)."""

from __future__ import annotations

from django import template

from automation.portable import choices_notice

register = template.Library()


@register.filter
def copy_choices_notice(definition) -> str:
    """'Brought from another workspace: choose the Stripe account for steps X, Y; ...' or ""."""
    return choices_notice(definition)
