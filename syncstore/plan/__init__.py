# The sync plan: typed, frozen changes built from the diff, what they cost, and one handler per change.
"""The plan of a shop: `build` (diff rows -> changes and conflicts), `changes` (the variants, their
JSON view and idempotency key), `calls` (API call estimates) and `handlers` (one per variant: the
platform call and what its answer means, without a database). `syncstore.sync_apply` runs the
handlers' calls with the sync logs and the snapshot; `syncstore.sync` orchestrates."""
