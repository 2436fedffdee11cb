"""The HTTP API over the marts (FastAPI)."""
