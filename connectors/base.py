"""Normalized marketplace models, error taxonomy and the Connector protocol (filled by the connector issue)."""
