# Inventory: the stock ledger, locations (warehouses), bundles and each channel's available quantity.
"""`ledger` (orders reserve, cancellations release, shipments consume; one history row per location change),
`locations` (warehouses, transfers, the locations each shop sells), `bundles` (variants made of
components) and `availability` (what each shop may sell, in Polars).

The package exports nothing itself: callers import its modules
(`from syncstore.inventory import ...`).
"""
