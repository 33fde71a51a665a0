"""automation's models, one module per concern."""

from automation.models.workflows import (  # noqa: F401
    Run,
    StepRun,
    Workflow,
    WorkflowVersion,
)
