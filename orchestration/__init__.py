"""Dagster only: the definitions Dagster loads, the dbt assets, jobs, schedules, sensors,
partitions and Dagster's home."""
