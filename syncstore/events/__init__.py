# The queues: marketplace events in, the outbox out, and the webhooks that feed them.
"""`platform_events` (normalized marketplace events: the pending queue and outcomes), `outbox` (publish,
claim with a lease, complete, fail with backoff), `webhooks` (received deliveries turned into events),
`webhook_log` (the app's view of deliveries) and `webhook_verification` (signatures checked).

The package exports nothing itself: callers import its modules
(`from syncstore.events import ...`).
"""
