# Publishing: what a listing needs beyond the catalog (categories, attributes, brand, logistics, warehouse).
"""Publishing.

- `cache`: each shop's platform category tree, category attributes and brands, cached with fetched_at.
- `mappings`: master category -> platform category per platform, with default attribute values and a brand.
- `attributes`: checking attribute values against the cache; a product's own values per platform.
- `logistics`: per shop, the logistics channels and stock locations offered, and the Admin's choice.
- `requirements`: what the plan reads for a create (merged attributes, channels, location) and the
  dry-run issues of what is still missing.
- `publish`: `publish_preview` and `publish` (a scoped sync of chosen products to chosen shops).
"""
