"""Request parameters several routes share, with their documented constraints."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Header, Query

from prakerja.http.idempotency import HEADER

# A repeat with the same key and body returns the first answer and has no second effect.
IdempotencyKey = Annotated[str | None, Header(alias=HEADER, description="Client-chosen key, 8-128 characters")]
# Lists: `?limit=` (default 50, max 200) and the opaque `next_token` (API.md conventions).
Limit = Annotated[int, Query(ge=1, le=200)]
NextToken = Annotated[str | None, Query(max_length=512)]
