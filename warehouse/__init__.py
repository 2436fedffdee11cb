"""The core every other layer rests on: settings, the embedded PostgreSQL server, migrations,
dbt paths and runtime, retention, incremental window planning, the BI role, ingestion and the
sample-data generator. It imports nothing above it and needs neither Dagster nor the web stack."""
