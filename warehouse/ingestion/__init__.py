"""Loading event and reference files into the raw layer: every row loaded, duplicate or rejected."""

from warehouse.ingestion.loader import LoadFailure, LoadResult, iter_load, load_files, load_path

__all__ = ["LoadFailure", "LoadResult", "iter_load", "load_files", "load_path"]
