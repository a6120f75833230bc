# Operations: alerts, health checks, logging and retention.
"""`alerts` (the measures shared with the asset checks; the optional alert webhook), `health` (database
and Redis), `logging_setup` (one stderr handler, SyncStore's log level, libraries kept quiet) and
`retention` (old logs archived, old events pruned).

The package exports nothing itself: callers import its modules
(`from syncstore.ops import ...`).
"""
