# The database layer: typed models, the engine and its sessions, column types, and the Alembic migrations.
"""Database layer: typed models, engine and sessions, Alembic migrations."""
