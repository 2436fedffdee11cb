"""Python assets and the code they rest on: ingestion, sample data, analytics."""
