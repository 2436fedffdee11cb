"""Data-quality suites over the marts and the checks that run them."""
