"""Marketplace clients: all wire-format knowledge of one platform lives in one module here."""
