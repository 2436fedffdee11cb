"""Dagster orchestration, warehouse runtime and the `wfa` command line."""
