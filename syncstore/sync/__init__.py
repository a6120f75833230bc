# The sync engine: pull a shop's snapshot, apply a shop's plan through its connector, push stock, log it.
"""`engine` (the front door: dry run, sync a shop, the stock fast path, retries, bulk syncs), `apply`
(the handlers' calls run logged and idempotent), `stock` (stock-only pushes), `snapshot` (a shop's
listings pulled), `logs` (sync logs, redacted) and `categories` (the category map).

The package exports nothing itself: callers import its modules
(`from syncstore.sync import ...`).
"""
