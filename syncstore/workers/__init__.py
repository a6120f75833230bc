# The consumers of the queues: dispatch of events and outbox work, worker heartbeats, and the polling backstop.
"""`dispatch` (outbox events become pushes, marketplace events become stock moves; the events worker
loop), `heartbeats` (a worker says it is alive, so Dagster stands in only when none is) and `recovery`
(orders polled and lost pushes read, W9).

The package exports nothing itself: callers import its modules
(`from syncstore.workers import ...`).
"""
