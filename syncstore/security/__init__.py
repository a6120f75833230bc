# Security: the encryption keyring, users and the one permission check, and the audit trail.
"""`crypto` (AES-256-GCM keyring with key ids), `auth` (users, roles, sign-in and its throttle, `require`)
and `audit` (one audit row per change, written in the caller's transaction).

The package exports nothing itself: callers import its modules
(`from syncstore.security import ...`).
"""
