# Typed path parameters: database ids are positive 32-bit integers (larger ones are 422, never a driver error).
"""Id parameters."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path

MAX_ID = 2_147_483_647
Id = Annotated[int, Path(ge=1, le=MAX_ID)]
