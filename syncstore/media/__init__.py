# Product images: fetched once, stored by content hash, resized to each platform's limits, uploaded once per shop.
"""`refs` (how a product names an image: an http(s) URL or `media:<sha256>`), `fetch` (one URL with
size, type and time limits), `images` (Pillow: what an image is, a copy within a platform's limits),
`store` (bytes kept once by content hash; URLs fetched once; resized variants cached) and `uploads`
(`ensure_uploaded`: a listing's images as the shop's platform ids, uploading only what it lacks).
`errors` holds `MediaError` and its kinds.

The package exports nothing itself: callers import its modules (`from syncstore.media import store`).
"""
