# The stock ledger: on hand, reserved and available per variant, each order transition applied once.
"""`ledger` (orders reserve, cancellations release, shipments consume; one history row per change).

The package exports nothing itself: callers import its modules
(`from syncstore.inventory import ...`).
"""
