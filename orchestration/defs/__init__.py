"""Small per-concern Definitions, merged in orchestration/definitions.py."""
