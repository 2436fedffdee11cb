"""What the API stands on, apart from its routes and queries: the connection pool, keys, the
per-request audit and rate limit, guards, kept answers, live counters and refresh jobs."""
