"""Dates in requests are ISO 8601 strings: a number, or a string of one (a query parameter), is refused,
not read as a Unix time."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from prakerja.marketplace.models import CompletionRequest
from prakerja.payouts.operations import ReconciliationRequest
from prakerja.waves.models import WaveRequest

CASES: list[tuple[type[BaseModel], dict[str, Any], str]] = [
    (ReconciliationRequest, {"provider": "BNI", "date": "2026-11-20"}, "date"),
    (
        CompletionRequest,
        {"voucher_code": "ABCD-EFGH-JKMN-PQRS", "completed_at": "2026-11-20T10:00:00Z", "certificate_id": "SRT-1"},
        "completed_at",
    ),
    (
        WaveRequest,
        {
            "name": "Gelombang 1",
            "opens_at": "2026-11-20T00:00:00Z",
            "closes_at": "2026-11-27T00:00:00Z",
            "quota_total": 10,
            "scheme": "2023",
            "seed_commitment": "a" * 64,
        },
        "opens_at",
    ),
]


@pytest.mark.parametrize(("model", "valid", "field"), CASES)
def test_an_iso_string_is_read(model: type[BaseModel], valid: dict[str, Any], field: str) -> None:
    assert model.model_validate_json(json.dumps(valid))


@pytest.mark.parametrize(("model", "valid", "field"), CASES)
@pytest.mark.parametrize("number", [0, 1700000000, 1.5, True, "0.5", "1700000000", "-1e3"])
def test_a_number_is_refused(model: type[BaseModel], valid: dict[str, Any], field: str, number: object) -> None:
    with pytest.raises(ValidationError) as refused:
        model.model_validate_json(json.dumps({**valid, field: number}))
    assert [e["loc"][0] for e in refused.value.errors()] == [field]
