"""Starlette webhook receiver: verify, deduplicate, store, acknowledge; plus the OAuth callback routes.

`app.create_app` builds it, `syncstore receiver run` serves it. The parts, one concern each:
`receiver` (the hot path, raw ASGI), `body` (size-capped reading), `storage` (group commit),
`nonces` (the Redis fast path), `limits` (per-IP limit, bounded rejection log), `redis_link`
(the optional Redis with a breaker), `metrics` (Prometheus text), `oauth_routes` (OAuth callbacks).
Platform knowledge stays in `syncstore.events.webhook_verification` (which picks the connector functions)
and `syncstore.events.webhooks` (what is stored, and how).

What the receiver cannot do alone (W9): an event the platform never delivers, or stops retrying,
is recovered elsewhere: Shopee's lost-push API (`ShopeeConnector.get_lost_pushes`, stored through
`syncstore.events.webhooks.record_from_event` with the live push's event id, so it dedupes against a late
delivery) and the scheduled snapshot pulls of every shop (the reconcile schedule), which also cover
TikTok Shop, whose API has no lost-push call.
"""
