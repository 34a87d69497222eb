"""What ops start and read: payout runs and reconciliations (their workflows)."""

from __future__ import annotations

import json
import secrets
from datetime import date
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict, Field

from prakerja.clock import Clock, IsoDate
from prakerja.errors import NotFound
from prakerja.payouts.models import Provider
from prakerja.payouts.reconciliation import ReportFiles, report_key, result_key


class WorkflowStarter(Protocol):
    def start(self, name: str, payload: dict[str, object]) -> str:
        """The execution's ARN."""
        ...


class PayoutRunStarted(BaseModel):
    execution_arn: str


class ReconciliationRequest(BaseModel):
    """`POST /v1/ops/reconciliations`: a partner's settlement report of one day."""

    model_config = ConfigDict(extra="forbid")

    provider: Provider
    date: IsoDate


class ReconciliationStarted(BaseModel):
    execution_arn: str
    report_key: str = Field(description="Where the partner's report is read from (the payouts bucket)")


class PayoutOperations:
    def __init__(self, runs: WorkflowStarter, reconciliations: WorkflowStarter, files: ReportFiles, clock: Clock):
        self._runs = runs
        self._reconciliations = reconciliations
        self._files = files
        self._clock = clock

    def start_run(self) -> PayoutRunStarted:
        name = f"ops-{self._clock.now():%Y%m%dT%H%M%S}-{secrets.token_hex(3)}"
        return PayoutRunStarted(execution_arn=self._runs.start(name, {"run_id": name}))

    def start_reconciliation(self, request: ReconciliationRequest) -> ReconciliationStarted:
        key = report_key(request.provider, request.date)
        name = f"{request.provider}-{request.date.isoformat()}-{secrets.token_hex(3)}"
        return ReconciliationStarted(
            execution_arn=self._reconciliations.start(name, {"report_key": key}), report_key=key
        )

    def reconciliation(self, provider: str, day: str) -> dict[str, Any]:
        """The last result for that partner and day, as the workflow wrote it."""
        try:
            known = Provider(provider)
            when = date.fromisoformat(day)
        except ValueError:
            raise _no_result() from None
        data = self._files.get(result_key(known, when))
        if data is None:
            raise _no_result()
        result: dict[str, Any] = json.loads(data)
        return result


def _no_result() -> NotFound:
    return NotFound("RECONCILIATION_NOT_FOUND", "No reconciliation has run for that partner and day.")
