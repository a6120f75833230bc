"""Starlette webhook receiver: verify, deduplicate, store, acknowledge (receiver issue)."""
