# The master catalog: what valid input is, the commands that change products, the app's reads, CSV.
"""`schema` (valid product and variant input, shared by app, CLI and importer), `commands` (create, update,
delete products and overrides: rows + outbox event + audit row in one transaction), `reads` (the app's
filtered, paginated reads), `csv_format` (the CSV format, one row per variant, and the export) and
`importer` (validated bulk import).

The package exports nothing itself: callers import its modules
(`from syncstore.catalog import ...`).
"""
