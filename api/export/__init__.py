"""Exports of a workflow's analytics: CSV (streamed), JSON, PDF."""
