"""The reference tables (snapshots of the product database) as pydantic models.

A later snapshot of a row replaces the earlier one (upsert on the table's key).
"""

from __future__ import annotations

import math
from datetime import datetime, timezone
from decimal import Decimal
from typing import Annotated

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

Id = Annotated[str, StringConstraints(min_length=1)]


class _Reference(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    @field_validator("*", mode="after")
    @classmethod
    def _utc(cls, value):
        if isinstance(value, datetime):
            return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value
        return value


class Account(_Reference):
    account_id: Id
    name: str | None = None
    plan: str | None = None
    timezone: str | None = None
    monthly_budget_usd: Decimal | None = Field(default=None, ge=0)
    created_at: datetime | None = None


class User(_Reference):
    user_id: Id
    account_id: Id
    role: str | None = None
    created_at: datetime | None = None


class Workflow(_Reference):
    workflow_id: Id
    account_id: Id
    name: str | None = None
    owner_user_id: str | None = None
    created_at: datetime | None = None
    status: str | None = None


class WorkflowStep(_Reference):
    workflow_id: Id
    workflow_version: int = Field(ge=0)
    step_id: Id
    step_order: int = Field(ge=0)
    step_type: Id
    step_name: str | None = None
    action_type: str | None = None


class Experiment(_Reference):
    experiment_id: Id
    workflow_id: Id
    name: str | None = None
    started_at: datetime | None = None
    ended_at: datetime | None = None
    control_variant: Id
    variants: dict[str, float]

    @model_validator(mode="after")
    def _variants_make_sense(self):
        if self.control_variant not in self.variants:
            raise ValueError(f"control_variant {self.control_variant!r} is not among the variants")
        shares = self.variants.values()
        if any(not math.isfinite(s) or s < 0 for s in shares) or not math.isclose(sum(shares), 1.0, abs_tol=1e-6):
            raise ValueError("variant traffic shares must be non-negative and add up to 1")
        return self


REFERENCE_TABLES: dict[str, tuple[type[_Reference], tuple[str, ...]]] = {
    "accounts": (Account, ("account_id",)),
    "users": (User, ("user_id",)),
    "workflows": (Workflow, ("workflow_id",)),
    "workflow_steps": (WorkflowStep, ("workflow_id", "workflow_version", "step_id")),
    "experiments": (Experiment, ("experiment_id",)),
}
