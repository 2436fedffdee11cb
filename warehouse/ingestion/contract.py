"""The event contract of raw.events (docs/metrics.md, "Events"), as data the validator reads."""

from __future__ import annotations

EVENT_COLUMNS = (
    "event_id", "event_type", "occurred_at", "account_id", "workflow_id", "workflow_version",
    "execution_id", "contact_id", "step_id", "user_id", "properties",
)

ALWAYS_REQUIRED = ("event_id", "event_type", "occurred_at", "account_id")
EXECUTION_REQUIRED = ("workflow_id", "workflow_version", "execution_id")

REQUIRED_BY_TYPE: dict[str, tuple[str, ...]] = {
    "execution.enrolled": (*EXECUTION_REQUIRED, "contact_id"),
    "execution.completed": EXECUTION_REQUIRED,
    "execution.exited": EXECUTION_REQUIRED,
    "execution.failed": EXECUTION_REQUIRED,
    "step.started": (*EXECUTION_REQUIRED, "step_id"),
    "step.completed": (*EXECUTION_REQUIRED, "step_id"),
    "step.failed": (*EXECUTION_REQUIRED, "step_id"),
    "step.skipped": (*EXECUTION_REQUIRED, "step_id"),
    "goal.achieved": EXECUTION_REQUIRED,
    "user.activity": ("user_id",),
}
EVENT_TYPES = frozenset(REQUIRED_BY_TYPE)

# Properties that must be non-negative numbers when present.
NUMERIC_PROPERTIES = ("duration_ms", "credits", "cost_usd", "value_usd")

ERROR_TYPES = frozenset({
    "validation_error", "api_timeout", "network_error", "authentication_error",
    "data_processing_error", "resource_exhaustion", "configuration_error",
    "external_service_error",
})
ENROLLMENT_SOURCES = frozenset({"trigger", "bulk", "api", "manual"})

# Properties whose value must come from a closed set, when present.
ENUM_PROPERTIES = {"error_type": ERROR_TYPES, "enrollment_source": ENROLLMENT_SOURCES}

ID_COLUMNS = ("event_id", "account_id", "workflow_id", "execution_id", "contact_id", "step_id",
              "user_id")

# Bounds every path checks (validate.py, json_fast_path.py), so that no single event can fail in
# the database (an id beyond the index row size, an offset PostgreSQL refuses) or stretch every
# daily series to one far-off date.
MAX_ID_LENGTH = 256  # characters, each id
MAX_PROPERTIES_BYTES = 64 * 1024  # properties as stored (compact JSON, UTF-8)
MAX_PROPERTIES_DEPTH = 32  # levels of objects and arrays, the properties object being the first
MAX_UTC_OFFSET_HOURS = 14  # the widest offset in use (Kiribati, +14:00)
EARLIEST_EVENT_DATE = "2000-01-01"  # the default floor of occurred_at (UTC)
MAX_AHEAD_HOURS = 24.0  # the default: occurred_at at most this far ahead of now
