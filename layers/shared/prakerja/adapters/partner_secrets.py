"""Partners' signing secrets from Secrets Manager: one secret per partner, named
``<prefix><partner_id>``, cached for a few minutes (a rotated secret is picked up then)."""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mypy_boto3_secretsmanager import SecretsManagerClient


class SecretsManagerPartnerSecrets:
    def __init__(self, client: SecretsManagerClient, prefix: str, max_age_seconds: int = 300) -> None:
        self._client = client
        self._prefix = prefix
        self._max_age = max_age_seconds
        self._cache: dict[str, tuple[float, bytes | None]] = {}
        self._lock = threading.Lock()

    def secret_of(self, partner_id: str) -> bytes | None:
        with self._lock:
            cached = self._cache.get(partner_id)
        if cached and time.monotonic() - cached[0] < self._max_age:
            return cached[1]
        try:
            text = self._client.get_secret_value(SecretId=self._prefix + partner_id)["SecretString"]
            secret: bytes | None = text.encode()
        except self._client.exceptions.ResourceNotFoundException:
            secret = None
        with self._lock:
            self._cache[partner_id] = (time.monotonic(), secret)
        return secret
