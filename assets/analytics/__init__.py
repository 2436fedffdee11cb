"""The tables the analytics assets write: each module turns mart rows into one table's rows."""
