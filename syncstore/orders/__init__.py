# Orders as rows: every marketplace order seen (webhook or poll), its lines, bindings and ledger effects.
"""`record` (upsert an order and its lines where the ledger applies it) and `reads` (the Orders page and API).

The package exports nothing itself: callers import its modules (`from syncstore.orders import ...`).
"""
