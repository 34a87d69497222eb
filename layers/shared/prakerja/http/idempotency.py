"""`Idempotency-Key` on mutating applicant calls (API.md): a repeat with the same key and
body returns the first response and has no second effect; the same key with another body
is refused. Records live in the idempotency table (Powertools idempotency) for a day.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyAlreadyInProgressError,
    IdempotencyValidationError,
)

from prakerja.errors import Conflict, ValidationFailed

HEADER = "Idempotency-Key"
KEY_PATTERN = r"^[A-Za-z0-9_.:\-]{8,128}$"
_KEY = re.compile(KEY_PATTERN)
DAY_SECONDS = 24 * 3600


class IdempotentResponses:
    def __init__(self, table_name: str, *, expires_after_seconds: int = DAY_SECONDS) -> None:
        self._store = DynamoDBPersistenceLayer(table_name=table_name)
        self._config = IdempotencyConfig(
            event_key_jmespath="[account, operation, key]",
            payload_validation_jmespath="body",
            expires_after_seconds=expires_after_seconds,
        )

    def respond(
        self,
        *,
        account_id: str,
        operation: str,
        key: str | None,
        body: dict[str, Any],
        produce: Callable[[], tuple[int, dict[str, Any]]],
    ) -> Response[str]:
        """``produce`` runs at most once per (account, operation, key); it returns the status
        and JSON body of the first answer, which repeats get back unchanged."""
        if key is None:
            return _json(*produce())
        if not _KEY.match(key):
            raise ValidationFailed("IDEMPOTENCY_KEY_INVALID", f"{HEADER} must be 8-128 letters, digits or '_.:-'.")

        @idempotent_function(data_keyword_argument="request", persistence_store=self._store, config=self._config)
        def once(request: dict[str, Any]) -> dict[str, Any]:
            status, answer = produce()
            return {"status": status, "body": answer}

        try:
            stored = once(request={"account": account_id, "operation": operation, "key": key, "body": body})
        except IdempotencyValidationError:
            raise ValidationFailed(
                "IDEMPOTENCY_KEY_REUSED", f"This {HEADER} was used with another body; use a new key."
            ) from None
        except IdempotencyAlreadyInProgressError:
            raise Conflict("REQUEST_IN_PROGRESS", f"A request with this {HEADER} is still running.") from None
        return _json(int(stored["status"]), stored["body"])


def _json(status: int, body: dict[str, Any]) -> Response[str]:
    return Response(status_code=status, content_type="application/json", body=json.dumps(body))
