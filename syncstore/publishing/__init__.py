# Publishing: what a listing needs beyond the catalog (categories, attributes, brand, logistics, warehouse).
"""Publishing.

- `cache`: each shop's platform category tree, category attributes and brands, cached with fetched_at.
- `mappings`: master category -> platform category per platform, with default attribute values and a brand.
- `attributes`: checking attribute values against the cache; a product's own values per platform.
- `logistics`: per shop, the logistics channels and stock locations offered, and the Admin's choice.

The plan reads them (`syncstore.plan.requirements`: what a create is sent with, and the dry-run issue
of everything missing); `syncstore.sync.publish` has `publish_preview` and `publish`. This package
imports neither (the core packages import each other without a cycle).
"""
