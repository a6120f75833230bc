"""SyncStore core: the master catalog, its outbox, keys, users and sync logic.

This package imports no Dagster, Streamlit or Starlette; those faces call into it.
"""
