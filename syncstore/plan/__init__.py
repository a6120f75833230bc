# The sync plan: what the master wants vs what a shop has, the diff, and typed, frozen changes with one handler each.
"""The plan of a shop.

- `inputs`: what the master wants and what the shop has (the diff's frames);
- `rules`: sync rules (markup, rounding, min/max, buffer, allocation, exclusions) as Polars expressions;
- `reconcile`: the three-way diff (desired vs snapshot vs last-synced baseline);
- `validation`: the platform rules a change must meet;
- `conflicts`: fields changed on both sides since the last sync, kept for a person to decide;
- `requirements`: what a create needs beyond the catalog (attributes, brand, logistics, location), and issues;
- `build`: diff rows -> changes and conflicts;
- `changes`: the variants, their JSON view and idempotency key;
- `calls`: API call estimates;
- `handlers`: one per variant: the platform call and what its answer means, without a database;
- `codec` and `store`: a plan kept in `sync_plans` with the versions it was computed from.

`syncstore.sync.apply` runs the handlers' calls with the sync logs and the snapshot;
`syncstore.sync.engine` orchestrates.

The package exports nothing itself: callers import its modules (`from syncstore.plan import build`).
"""
