"""Alembic migration scripts (run them with `syncstore db upgrade`)."""
