"""Seeded sample data: reference tables, event files by arrival day and a manifest."""

from warehouse.sample_data.generator import generate

__all__ = ["generate"]
