"""Every model of a custom incremental strategy has what its strategy needs (dbt_project/README.md):
the config keys the strategy reads, the hooks around it and the indexes its statements go
through. Checked on the manifest `dbt parse` writes, so a model that sets its config by hand
is held to the same protocol as one declared through macros/incremental.sql.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from warehouse.dbt_paths import DBT_PROJECT_DIR, dbt_executable
from warehouse.settings import Settings

PACKAGE = "workflow_analytics"
# config keys each custom strategy reads with config.require (or cannot do without)
REQUIRED_KEYS = {
    "window_replace": ["window_column"],
    "refresh_replace": [],
    "received_replace": ["window_column"],
    "add_changes": ["change_log", "unique_key", "summed_columns", "window_column"],
    "add_counts": ["unique_key", "summed_columns"],
}
# the strategies that write change logs, and so drop them after a full build
LOGGING = ("refresh_replace", "received_replace")


def parse(project_dir: Path, target: Path) -> subprocess.CompletedProcess:
    """`dbt parse` of a project into its own target folder (no warehouse needed)."""
    env = {**os.environ, **Settings().dbt_env(), "DBT_TARGET_PATH": str(target),
           "DBT_LOG_PATH": str(target)}
    return subprocess.run(
        [dbt_executable(), "parse", "--project-dir", str(project_dir), "--profiles-dir",
         str(project_dir)],
        cwd=project_dir, env=env, capture_output=True, text=True, check=False,
    )


def parsed_manifest(project_dir: Path, target: Path) -> dict:
    result = parse(project_dir, target)
    assert result.returncode == 0, f"dbt parse failed:\n{result.stdout}\n{result.stderr}"
    return json.loads((target / "manifest.json").read_text())


def custom_strategies(manifest: dict) -> set[str]:
    """The project's own strategies: a macro get_incremental_<name>_sql each."""
    return {match.group(1) for macro in manifest["macros"].values()
            if macro["package_name"] == PACKAGE
            and (match := re.fullmatch(r"get_incremental_(\w+)_sql", macro["name"]))}


def models(manifest: dict) -> list[dict]:
    return sorted((node for node in manifest["nodes"].values()
                   if node["resource_type"] == "model" and node["package_name"] == PACKAGE),
                  key=lambda node: node["name"])


def hooks(config: dict, kind: str) -> list[str]:
    """A model's hooks' Jinja, whitespace collapsed."""
    return [re.sub(r"\s+", " ", hook["sql"]).strip() for hook in config.get(kind, [])]


def has_index(config: dict, columns: list[str], unique: bool = False, exact: bool = False) -> bool:
    """Whether the model has an index beginning with `columns` (with exact, on just those, in
    any order)."""
    for index in config.get("indexes") or []:
        found = index["columns"]
        matches = (sorted(found) == sorted(columns) if exact
                   else found[:len(columns)] == columns)
        if matches and (index.get("unique", False) or not unique):
            return True
    return False


def logs(value) -> list[str]:
    return [value] if isinstance(value, str) else list(value or [])


def protocol_problems(manifest: dict) -> list[str]:
    """What each model of a custom strategy lacks, one line each."""
    strategies = custom_strategies(manifest)
    nodes = models(manifest)
    # change log -> the models whose strategy writes it
    writers: dict[str, list[str]] = {}
    for node in nodes:
        if node["config"].get("incremental_strategy") in LOGGING:
            for log in logs(node["config"].get("change_log")):
                writers.setdefault(log, []).append(node["name"])
    problems = []
    for node in nodes:
        config, name = node["config"], node["name"]
        strategy = config.get("incremental_strategy")
        if strategy not in strategies:
            continue
        if strategy not in REQUIRED_KEYS:
            problems.append(f"{name}: strategy {strategy} has no protocol in {Path(__file__).name}")
            continue
        need = []
        if config.get("materialized") != "incremental":
            need.append("materialized='incremental'")
        need += [key for key in REQUIRED_KEYS[strategy] if not config.get(key)]
        window = config.get("window_column")
        if config.get("window_grain") not in (None, "day", "hour", "month"):
            need.append("a window_grain of day, hour or month")
        if window and not has_index(config, [window]):
            need.append(f"an index on {window}")
        if strategy == "received_replace" and not has_index(config, ["received_at"]):
            need.append("an index on received_at")
        if strategy == "refresh_replace":
            if (config.get("replace_key") or ["execution_id"])[0] != "execution_id":
                need.append("a replace_key beginning with execution_id")
            if not has_index(config, ["execution_id"], unique=not window):
                need.append(f"{'an' if window else 'a unique'} index on execution_id")
        if strategy == "add_counts" and config.get("unique_key") and not has_index(
                config, config["unique_key"], unique=True, exact=True):
            need.append(f"a unique index on {', '.join(config['unique_key'])}")
        if strategy in LOGGING and config.get("change_log"):
            drop = f"{{{{ wfa_drop_change_log_when_full({config['change_log']!r}) }}}}"
            if drop not in hooks(config, "post-hook"):
                need.append(f"a post-hook {drop}")
        if strategy == "add_changes" and config.get("change_log"):
            log = config["change_log"]
            logged = writers.get(log, [])
            if len(logged) != 1:
                need.append(f"one model writing the change log {log}, not {len(logged)}")
            else:
                ensure = (f"{{{{ wfa_ensure_change_log({log!r}, ref({logged[0]!r}))"
                          f" if is_incremental() else '' }}}}")
                if ensure not in hooks(config, "pre-hook"):
                    need.append(f"a pre-hook {ensure}")
            full_build = "{{ wfa_add_changes_full_build() }}"
            if full_build not in hooks(config, "post-hook"):
                need.append(f"a post-hook {full_build}")
        problems += [f"{name}: {strategy} needs {what}" for what in need]
    return problems


@pytest.fixture(scope="module")
def manifest(tmp_path_factory) -> dict:
    return parsed_manifest(DBT_PROJECT_DIR, tmp_path_factory.mktemp("target"))


def project_copy(tmp_path: Path, probes: dict[str, str]) -> Path:
    """The dbt project copied, with probe models (path under models/: SQL) added."""
    project = tmp_path / "dbt_project"
    shutil.copytree(DBT_PROJECT_DIR, project,
                    ignore=shutil.ignore_patterns("target", "logs", "dbt_packages"))
    for path, sql in probes.items():
        (project / "models" / path).write_text(sql)
    return project


def test_every_model_of_a_custom_strategy_has_what_it_needs(manifest):
    assert custom_strategies(manifest) == set(REQUIRED_KEYS)
    assert protocol_problems(manifest) == []
    assert {node["name"]: node["config"]["incremental_strategy"] for node in models(manifest)
            if node["config"].get("incremental_strategy") in REQUIRED_KEYS} == {
        "fct_action_daily": "window_replace",
        "fct_cost_daily": "window_replace",
        "fct_errors_daily": "window_replace",
        "fct_execution_outcomes": "window_replace",
        "fct_executions_hourly": "add_changes",
        "fct_monthly_summary": "window_replace",
        "fct_user_activity_daily": "window_replace",
        "fct_workflow_daily": "window_replace",
        "fct_workflow_step_daily": "window_replace",
        "int_executions_summarised": "refresh_replace",
        "int_retention_counts": "add_counts",
        "int_retention_member_days": "add_counts",
        "int_step_entries": "refresh_replace",
        "int_step_entries_aggregated": "add_changes",
        "int_step_outcomes_aggregated": "add_changes",
        "int_step_outcomes_extracted": "received_replace",
        "int_user_sessions_summarised": "window_replace",
    }


def test_the_declarations_set_the_hooks_the_strategies_need(manifest):
    by_name = {node["name"]: node for node in models(manifest)}
    aggregated = by_name["int_step_entries_aggregated"]["config"]
    assert hooks(aggregated, "pre-hook") == [
        "{{ wfa_session_settings() }}",
        "{{ wfa_ensure_change_log('int_step_entries_changes', ref('int_step_entries'))"
        " if is_incremental() else '' }}",
    ]
    assert hooks(aggregated, "post-hook") == ["{{ wfa_analyze() }}",
                                              "{{ wfa_add_changes_full_build() }}"]
    # the hook's ref is a dependency: the log's writer runs first
    assert by_name["int_step_entries_aggregated"]["depends_on"]["nodes"] == [
        "model.workflow_analytics.int_step_entries"]
    assert hooks(by_name["int_executions_summarised"]["config"], "post-hook") == [
        "{{ wfa_analyze() }}",
        "{{ wfa_drop_change_log_when_full(['int_executions_changes_hourly',"
        " 'int_executions_changes_retention']) }}",
    ]
    counts = by_name["int_retention_counts"]["config"]
    assert hooks(counts, "pre-hook") == ["{{ wfa_session_settings() }}",
                                         "{{ wfa_retention_save_day_changes() }}"]
    assert counts["indexes"] == [{"columns": ["grain", "cohort_type", "account_id",
                                              "cohort_start", "period_number"], "unique": True}]
    assert by_name["int_step_outcomes_extracted"]["config"]["indexes"] == [
        {"columns": ["occurred_date"]}, {"columns": ["execution_id"]},
        {"columns": ["received_at"], "type": "brin"}]


def test_a_model_configured_without_what_its_strategy_needs_is_reported(tmp_path):
    project = project_copy(tmp_path, {
        # add_changes set by hand: no hooks, no index
        "intermediate/int_probe_changes.sql": (
            "{{ config(materialized='incremental', incremental_strategy='add_changes',"
            " change_log='int_step_entries_changes', unique_key=['date'],"
            " summed_columns=['step_executions'], window_column='date') }}\n"
            "select date, step_executions from {{ ref('int_step_entries_aggregated') }}\n"),
        # window_replace as a table, without its window
        "marts/fct_probe_window.sql": (
            "{{ config(materialized='table', incremental_strategy='window_replace') }}\n"
            "select 1 as n\n"),
    })
    problems = protocol_problems(parsed_manifest(project, tmp_path / "target"))
    assert problems == [
        "fct_probe_window: window_replace needs materialized='incremental'",
        "fct_probe_window: window_replace needs window_column",
        "int_probe_changes: add_changes needs an index on date",
        "int_probe_changes: add_changes needs a pre-hook {{ wfa_ensure_change_log("
        "'int_step_entries_changes', ref('int_step_entries')) if is_incremental() else '' }}",
        "int_probe_changes: add_changes needs a post-hook {{ wfa_add_changes_full_build() }}",
    ]


def test_a_declaration_without_a_required_key_fails_to_parse(tmp_path):
    project = project_copy(tmp_path, {
        "intermediate/int_probe_changes.sql": (
            "{{ wfa_incremental_add_changes(change_log='int_step_entries_changes',"
            " unique_key=['date'], summed_columns=['step_executions'], window_column='date') }}\n"
            "select date, step_executions from {{ ref('int_step_entries_aggregated') }}\n"),
    })
    result = parse(project, tmp_path / "target")
    assert result.returncode == 2  # dbt's exit code for an error that stops the parse
    assert ("incremental strategy add_changes needs logged_model (dbt_project/README.md)"
            in result.stdout)
    assert "called by model int_probe_changes" in result.stdout
