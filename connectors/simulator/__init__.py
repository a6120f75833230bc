# What every marketplace simulator shares (common.py); each platform's simulator lives in its package.
"""Shared simulator machinery; the simulators themselves are `connectors.<platform>.simulator`."""
