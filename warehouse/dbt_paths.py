"""Where the dbt project and the dbt command are: kept apart from dbt_resources, whose Dagster
imports take seconds, so that the CLI's warehouse commands start at once."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from warehouse.settings import PROJECT_DIR

DBT_PROJECT_DIR = PROJECT_DIR / "dbt_project"


def dbt_executable() -> str:
    """The dbt beside this interpreter: works without an activated virtualenv."""
    return str(Path(sys.executable).with_name("dbt"))


def dbt_target_dir() -> Path:
    """Where dbt writes its manifest: DBT_TARGET_PATH (relative to the project) if set, as dbt
    itself reads it, else target/."""
    return DBT_PROJECT_DIR / os.environ.get("DBT_TARGET_PATH", "target")
