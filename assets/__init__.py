"""The Python assets: pure statistics (forecasting, anomalies, experiments) and the analytics
tables built on them, with their Dagster asset definitions (assets/analytics/definitions.py)."""
