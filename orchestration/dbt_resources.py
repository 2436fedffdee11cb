"""The dbt project as Dagster sees it: a cached DbtProject and the CLI resource."""

from __future__ import annotations

import datetime as dt
import functools
import os
from collections.abc import Mapping
from typing import Any

import dagster as dg
from dagster_dbt import (
    DagsterDbtTranslator,
    DagsterDbtTranslatorSettings,
    DbtCliResource,
    DbtProject,
)

from warehouse.dbt_paths import DBT_PROJECT_DIR, dbt_executable
from warehouse.settings import DATA_OWNER, get_settings

# The freshness sensor refreshes the marts a minute or so after events land, the hourly schedule
# every hour even when none do: a mart not refreshed for 75 minutes warns, for 2 hours fails.
MART_FRESHNESS = dg.FreshnessPolicy.time_window(fail_window=dt.timedelta(hours=2),
                                                warn_window=dt.timedelta(minutes=75))


@functools.cache
def dbt_project() -> DbtProject:
    # dbt and dagster-dbt both write under DBT_TARGET_PATH when it is set (e.g. one per test
    # worker, so that parallel runs keep their manifests apart); the manifest is read from there
    project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR,
                         target_path=os.environ.get("DBT_TARGET_PATH", "target"))
    project.prepare_if_dev()  # `dagster dev` parses the project; `wfa` does it before loading
    return project


def dbt_resource() -> DbtCliResource:
    return DbtCliResource(project_dir=dbt_project(), dbt_executable=dbt_executable())


def export_dbt_environment() -> None:
    """dbt reads its profile from the environment; runs inherit it from the process."""
    os.environ.update(get_settings().dbt_env())


class WarehouseTranslator(DagsterDbtTranslator):
    """Keys, groups and owners by rule: a model's key is [schema, name]; raw sources are
    [raw, table]; the group is the model's folder (staging, intermediate, marts)."""

    def __init__(self) -> None:
        super().__init__(settings=DagsterDbtTranslatorSettings(enable_asset_checks=True))

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        if dbt_resource_props["resource_type"] == "source":
            return dg.AssetKey([dbt_resource_props["source_name"], dbt_resource_props["name"]])
        return dg.AssetKey([dbt_resource_props["schema"], dbt_resource_props["name"]])

    def get_asset_spec(self, manifest: Mapping[str, Any], unique_id: str, project) -> dg.AssetSpec:
        spec = super().get_asset_spec(manifest, unique_id, project)
        if spec.key.path[0] == "marts":
            spec = spec.replace_attributes(freshness_policy=MART_FRESHNESS)
        return spec

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        if dbt_resource_props["resource_type"] == "source":
            return "raw"
        folders = dbt_resource_props.get("fqn", [])[1:-1]
        return folders[0] if folders else "dbt"

    def get_owners(self, dbt_resource_props: Mapping[str, Any]):
        return [DATA_OWNER]
