"""automation's models, one module per concern."""

from automation.models.calendars import (  # noqa: F401
    Appointment,
    Availability,
    Calendar,
)
from automation.models.forms import Form, FormField, Submission  # noqa: F401
from automation.models.workflows import (  # noqa: F401
    Run,
    StepRun,
    Workflow,
    WorkflowVersion,
)
