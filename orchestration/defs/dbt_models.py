"""The dbt models as Dagster assets, their dbt tests as asset checks.

No `from __future__ import annotations` here: Dagster reads the context annotation at runtime.
"""

import dagster as dg
from dagster import AssetExecutionContext
from dagster_dbt import DbtCliResource, dbt_assets

from orchestration.dbt_resources import WarehouseTranslator, dbt_project, export_dbt_environment


def build_defs() -> dg.Definitions:
    project = dbt_project()

    @dbt_assets(manifest=project.manifest_path, project=project,
                dagster_dbt_translator=WarehouseTranslator(), name="warehouse_dbt_models")
    def warehouse_dbt_models(context: AssetExecutionContext, dbt: DbtCliResource):
        export_dbt_environment()
        yield from dbt.cli(["build"], context=context).stream()

    return dg.Definitions(assets=[warehouse_dbt_models])
