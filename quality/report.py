"""The table `wfa check` prints: one line per mart suite, then what failed."""

from __future__ import annotations

from quality.runner import SuiteResult

HEADER = f"{'mart':<26} {'result':<6} {'run':>5} {'failed':>6} {'rows':>12} {'seconds':>8}"


def suite_table(results: list[SuiteResult]) -> list[str]:
    lines = [HEADER]
    for r in results:
        lines.append(f"{r.mart:<26} {'ok' if r.success else 'FAIL':<6} {r.evaluated:>5}"
                     f" {len(r.failures):>6} {r.row_count if r.row_count is not None else '-':>12}"
                     f" {r.seconds:>8.2f}")
    for r in results:
        for failure in r.failures:
            lines.append(f"  {r.mart}: {failure.line()}"[:400])
    return lines


def ingestion_lines(settings) -> list[str]:
    """The ingestion warnings, with the same thresholds as the Dagster checks."""
    from quality.ingestion import recent_loads, unknown_references

    hours = settings.quality_ingestion_lookback_hours
    loads = recent_loads(settings.warehouse_url, hours)
    above = [load for load in loads if load.rejected_pct > settings.quality_max_rejected_pct]
    unknown = unknown_references(settings.warehouse_url, hours)
    lines = [f"ingestion (last {hours} h): {len(loads)} loads, {len(above)} rejecting more than"
             f" {settings.quality_max_rejected_pct}% of their rows"]
    lines += [f"  WARN {load.source_file}: {load.rejected:,} of {load.rows_read:,} rows rejected"
              f" ({load.rejected_pct:.2f}%)" for load in above[:10]]
    state = "WARN" if unknown.unknown_pct > settings.quality_max_unknown_reference_pct else "ok"
    lines.append(f"ingestion: {state} {unknown.unknown_account:,} events with an unknown account,"
                 f" {unknown.unknown_workflow:,} with an unknown workflow, of {unknown.events:,}"
                 f" recent events")
    return lines


def run_checks(settings, marts: list[str], since, until, echo=print) -> bool:
    """`wfa check`: every suite, the table, the ingestion warnings; True when no suite failed."""
    from quality.runner import Limits, validate_marts
    from quality.window import Window

    limits = Limits(settings.quality_row_count_max_drop_pct, settings.quality_row_count_max_growth_pct)
    results = validate_marts(settings.warehouse_url, marts or None, Window(since, until),
                             docs_dir=settings.data_docs_dir, limits=limits)
    for line in suite_table(results):
        echo(line)
    for line in ingestion_lines(settings):
        echo(line)
    failed = [r.mart for r in results if not r.success]
    echo(f"{len(results) - len(failed)} of {len(results)} suites passed"
         + (f"; failed: {', '.join(failed)}" if failed else "")
         + f". Data Docs: {(settings.data_docs_dir / 'index.html').as_uri()}")
    return not failed
