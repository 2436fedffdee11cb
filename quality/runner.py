"""Run the mart suites against a warehouse, outside Dagster: `wfa check`, the asset checks and
the tests all call `validate_marts`."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

import great_expectations as gx
import psycopg
from great_expectations.data_context.types.base import (
    DataContextConfig,
    InMemoryStoreBackendDefaults,
    ProgressBarsConfig,
)

from quality import history
from quality.raw_totals import RawTotals
from quality.reconciliation import RECONCILIATIONS
from quality.rules import MARTS
from quality.suites import build_suite
from quality.window import Window

SAMPLE = 5  # failing values kept per expectation: enough to see the problem, small as metadata


@dataclass(frozen=True)
class Limits:
    """How far a mart's row count may move against the previous passing run, in percent."""
    max_drop_pct: float = 5.0
    max_growth_pct: float = 200.0


@dataclass
class Failure:
    expectation: str
    kind: str
    target: str   # the column, or the expectation's description
    sample: list  # observed value or failing values / rows

    def line(self) -> str:
        return f"[{self.kind}] {self.expectation} {self.target}: {self.sample}"


@dataclass
class SuiteResult:
    mart: str
    evaluated: int
    failures: list[Failure] = field(default_factory=list)
    row_count: int | None = None
    previous_row_count: int | None = None
    seconds: float = 0.0
    docs_url: str | None = None

    @property
    def success(self) -> bool:
        return not self.failures

    def summary(self) -> dict:
        return {"expectations_run": self.evaluated, "expectations_failed": len(self.failures),
                "row_count": self.row_count, "previous_row_count": self.previous_row_count,
                "failing_sample": [f.line() for f in self.failures[:10]]}


def sqlalchemy_url(url: str) -> str:
    """GE reads through SQLAlchemy, with the psycopg2 driver dbt-postgres already brings."""
    scheme, rest = url.split("://", 1)
    return f"postgresql+psycopg2://{rest}" if scheme in ("postgresql", "postgres") else url


def ge_context(docs_dir: Path | None):
    # GE logs a warning for every decimal it renders as a float; the figures here are fine
    logging.getLogger("great_expectations").setLevel(logging.ERROR)
    context = gx.get_context(mode="ephemeral", project_config=DataContextConfig(
        store_backend_defaults=InMemoryStoreBackendDefaults(), analytics_enabled=False,
        progress_bars=ProgressBarsConfig(globally=False)))  # no network, no bars in our logs
    if docs_dir is not None:
        context.add_data_docs_site(site_name="wfa", site_config={
            "class_name": "SiteBuilder",
            "store_backend": {"class_name": "TupleFilesystemStoreBackend",
                              "base_directory": str(docs_dir)},
            "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"}})
    return context


def failure_of(result) -> Failure:
    config = result.expectation_config
    kwargs = config.kwargs
    target = kwargs.get("column") or config.description or ", ".join(
        str(kwargs[k]) for k in ("column_A", "column_B") if k in kwargs)
    outcome = result.result or {}
    sample = (outcome.get("details", {}).get("unexpected_rows")
              or outcome.get("partial_unexpected_list")
              or outcome.get("observed_value"))
    if result.exception_info and result.exception_info.get("raised_exception"):
        sample = result.exception_info.get("exception_message")
    if isinstance(sample, list):
        sample = [row if isinstance(row, (str, int, float)) else str(row) for row in sample[:SAMPLE]]
    elif sample is not None and not isinstance(sample, (str, int, float)):
        sample = str(sample)
    return Failure(config.type, (config.meta or {}).get("kind", ""), str(target), sample)


def _latest_page(docs_dir: Path, mart: str) -> str:
    """The mart's newest validation page: every run rebuilds the index with its own results
    only, but the pages of earlier runs stay, so each result links its own page."""
    pages = sorted((docs_dir / "validations" / mart).rglob("*.html"), key=lambda p: p.stat().st_mtime)
    return (pages[-1] if pages else docs_dir / "index.html").resolve().as_uri()


def run_suite(context, source, table: str, schema: str, suite) -> tuple[int, list[Failure]]:
    """One suite (already added to `context`) over one whole table: how many expectations ran,
    and the failures."""
    batch = (source.add_table_asset(table, table_name=table, schema_name=schema)
             .add_batch_definition_whole_table(table))
    validation = context.validation_definitions.add(
        gx.ValidationDefinition(name=table, data=batch, suite=suite))
    # COMPLETE: only then do the unexpected-rows expectations return the rows themselves
    outcome = validation.run(result_format="COMPLETE")
    return len(outcome.results), [failure_of(r) for r in outcome.results if not r.success]


def existing_marts(url: str, marts: list[str], schema: str) -> set[str]:
    with psycopg.connect(url, autocommit=True) as conn:
        return {m for m in marts
                if conn.execute("select to_regclass(%s)", (f'"{schema}"."{m}"',)).fetchone()[0]}


def validate_marts(url: str, marts: list[str] | None = None, window: Window = Window(),
                   docs_dir: Path | None = None, limits: Limits = Limits(),
                   schema: str = "marts", record: bool = True) -> list[SuiteResult]:
    """Validate each mart's suite; record the row counts for the next run's movement bounds."""
    marts = list(marts or MARTS)
    unknown = sorted(set(marts) - set(MARTS))
    if unknown:
        raise ValueError(f"no suite for {', '.join(unknown)}; the marts are {', '.join(MARTS)}")
    present = existing_marts(url, marts, schema)
    # after a retention purge the raw events start at its horizon: dated reconciliations cover
    # the days from there, history-wide ones are off, row counts start a new baseline
    horizon = history.retention_horizon(url)
    if horizon is not None and (window.start is None or window.start < horizon):
        window = Window(horizon, window.end)
    previous = history.previous_counts(url)
    counts = history.current_counts(url, sorted(present), schema)
    totals = RawTotals(url, window)  # shared by the suites: raw.events is read once per group
    totals.prefetch({key for mart in present for key in RECONCILIATIONS[mart](window).raw.values()})
    context = ge_context(docs_dir)
    source = context.data_sources.add_postgres("warehouse", connection_string=sqlalchemy_url(url))
    results = []
    for mart in marts:
        if mart not in present:
            results.append(SuiteResult(mart, 0, [Failure("table_exists", "schema", mart,
                                                         "the mart is missing")]))
            continue
        started = time.perf_counter()
        suite = context.suites.add(build_suite(
            mart, totals, previous.get(mart), limits.max_drop_pct, limits.max_growth_pct,
            after_purge=horizon is not None))
        expectations, failures = run_suite(context, source, mart, schema, suite)
        results.append(SuiteResult(mart, expectations, failures, counts[mart],
                                   previous.get(mart), time.perf_counter() - started))
    if docs_dir is not None:
        context.build_data_docs(site_names=["wfa"])
        for result in results:
            result.docs_url = _latest_page(docs_dir, result.mart)
    if record:
        history.record(url, {r.mart: (r.row_count, r.success) for r in results
                             if r.row_count is not None})
    return results
