"""Small helpers shared by the DynamoDB repositories."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


def to_item(values: dict[str, Any]) -> dict[str, Any]:
    return {k: _serializer.serialize(v) for k, v in values.items() if v is not None}


def from_item(item: dict[str, Any]) -> dict[str, Any]:
    return {k: _deserializer.deserialize(v) for k, v in item.items()}


def value(v: Any) -> dict[str, Any]:
    serialized: dict[str, Any] = _serializer.serialize(v)  # type: ignore[assignment]
    return serialized


def ts(moment: datetime) -> str:
    return moment.isoformat()


def cancellation_codes(error: Exception) -> list[str]:
    """Per-item codes of a cancelled transaction ('None', 'ConditionalCheckFailed', ...)."""
    response = getattr(error, "response", {}) or {}
    return [str(reason.get("Code", "None")) for reason in response.get("CancellationReasons", [])]
