"""Database layer: typed models, engine and sessions, Alembic migrations."""
