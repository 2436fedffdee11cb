"""The `wfa` command line: one module per command group, on top of every other layer."""
