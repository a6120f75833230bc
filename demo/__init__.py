# The one-command demo: simulators, receiver, Dagster and the app under one supervisor (`make demo`).
"""The SyncStore demo, a face like the command line: `python -m demo` (or `syncstore demo run`)."""
