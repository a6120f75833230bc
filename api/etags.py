# ETag / If-Match for versioned resources: a write names the version it read; an old one gets 412.
"""Versions as entity tags.

A product's ETag is its version, a rule's its save time in microseconds (`"<n>"`, strong). Updates
and archives REQUIRE `If-Match` (428 without it): a blind overwrite of someone else's edit is
exactly what the version exists to prevent. `*` is not accepted: name the version you read.
"""

from __future__ import annotations

from fastapi import Header

from api.problems import ApiProblem

IfMatch = Header(
    default=None,
    alias="If-Match",
    max_length=40,
    description='The version you read, as its ETag (`"3"`): 412 if it changed since, and nothing is written.',
)


def etag(version: int) -> str:
    return f'"{version}"'


def required_version(if_match: str | None) -> int:
    """The version named by If-Match; 428 when missing, 412 when it names no version at all."""
    if if_match is None or not if_match.strip():
        raise ApiProblem(428, 'send If-Match with the ETag you read (e.g. If-Match: "3")')
    text = if_match.strip().removeprefix("W/").strip('"')
    if not text.isdigit() or len(text) > 18:
        raise ApiProblem(412, "If-Match names no current version of this resource", kind="version-conflict")
    return int(text)
