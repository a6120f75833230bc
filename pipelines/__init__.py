"""Dagster Definitions, jobs, schedules, sensors and resources (pipeline issue)."""
