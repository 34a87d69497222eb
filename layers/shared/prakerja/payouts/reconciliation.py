"""Reconciliation: a payment partner's settlement report for a day, line by line against the
ledger's confirmed payouts through that partner on that day.

The report is the partner's CSV (``transfer_id,reference,amount,status,settled_at``), put at
``settlements/<provider>/<YYYY-MM-DD>.csv`` in the payouts bucket. Every difference is one
discrepancy: MISSING (paid in the ledger, absent from the report), EXTRA (in the report, not
paid in the ledger), AMOUNT_MISMATCH, DUPLICATE (the report lists a transfer twice).
"""

from __future__ import annotations

import csv
import io
import re
from datetime import date
from enum import StrEnum
from typing import Protocol

from pydantic import BaseModel, Field

from prakerja.errors import ValidationFailed

REPORT_KEY = re.compile(r"^settlements/(?P<provider>[A-Z0-9_]{2,32})/(?P<day>\d{4}-\d{2}-\d{2})\.csv$")
COLUMNS = ("transfer_id", "reference", "amount", "status", "settled_at")
LISTED = 100  # discrepancies in the workflow's output; the report in S3 has them all


class DiscrepancyKind(StrEnum):
    MISSING = "MISSING"
    EXTRA = "EXTRA"
    AMOUNT_MISMATCH = "AMOUNT_MISMATCH"
    DUPLICATE = "DUPLICATE"


class Discrepancy(BaseModel):
    transfer_id: str
    kind: DiscrepancyKind
    ledger_amount: int | None = None
    report_amount: int | None = None


class Reconciliation(BaseModel):
    provider: str
    date: date
    report_key: str
    result_key: str = ""
    report_lines: int
    ledger_lines: int
    matched: int
    report_total: int = Field(description="Sum of the report's settled amounts")
    ledger_total: int = Field(description="Sum of the ledger's confirmed payouts")
    status: str = Field(description="BALANCED or DISCREPANCIES")
    discrepancies: list[Discrepancy]


class SettlementUnreadable(ValidationFailed):
    def __init__(self, detail: str) -> None:
        super().__init__("SETTLEMENT_UNREADABLE", detail)


def report_key(provider: str, day: date) -> str:
    return f"settlements/{provider}/{day.isoformat()}.csv"


def result_key(provider: str, day: date) -> str:
    """Where a partner-day's reconciliation result is written (the last run's)."""
    return f"reconciliations/{provider}/{day.isoformat()}.json"


def parse_key(key: str) -> tuple[str, date]:
    match = REPORT_KEY.match(key)
    if match is None:
        raise SettlementUnreadable(f"{key!r} is not settlements/<PROVIDER>/<YYYY-MM-DD>.csv")
    return match["provider"], date.fromisoformat(match["day"])


def settled_lines(text: str) -> list[tuple[str, int]]:
    """(transfer id, amount) of the report's SUCCESS lines, in file order."""
    reader = csv.DictReader(io.StringIO(text))
    if tuple(reader.fieldnames or ()) != COLUMNS:
        raise SettlementUnreadable(f"the header must be {','.join(COLUMNS)}")
    lines = []
    for number, row in enumerate(reader, start=2):
        try:
            amount = int(row["amount"])
        except (TypeError, ValueError):
            raise SettlementUnreadable(f"line {number}: the amount is not whole Rupiah") from None
        if not row["transfer_id"]:
            raise SettlementUnreadable(f"line {number}: no transfer_id")
        if row["status"] == "SUCCESS":
            lines.append((row["transfer_id"], amount))
    return lines


def reconcile(
    provider: str, day: date, key: str, report: list[tuple[str, int]], ledger: dict[str, int]
) -> Reconciliation:
    discrepancies: list[Discrepancy] = []
    seen: dict[str, int] = {}
    matched = 0
    for transfer_id, amount in report:
        if transfer_id in seen:
            discrepancies.append(
                Discrepancy(transfer_id=transfer_id, kind=DiscrepancyKind.DUPLICATE, report_amount=amount)
            )
            continue
        seen[transfer_id] = amount
        paid = ledger.get(transfer_id)
        if paid is None:
            discrepancies.append(Discrepancy(transfer_id=transfer_id, kind=DiscrepancyKind.EXTRA, report_amount=amount))
        elif paid != amount:
            discrepancies.append(
                Discrepancy(
                    transfer_id=transfer_id,
                    kind=DiscrepancyKind.AMOUNT_MISMATCH,
                    ledger_amount=paid,
                    report_amount=amount,
                )
            )
        else:
            matched += 1
    for transfer_id in sorted(set(ledger) - set(seen)):
        discrepancies.append(
            Discrepancy(transfer_id=transfer_id, kind=DiscrepancyKind.MISSING, ledger_amount=ledger[transfer_id])
        )
    return Reconciliation(
        provider=provider,
        date=day,
        report_key=key,
        report_lines=len(report),
        ledger_lines=len(ledger),
        matched=matched,
        report_total=sum(amount for _, amount in report),
        ledger_total=sum(ledger.values()),
        status="DISCREPANCIES" if discrepancies else "BALANCED",
        discrepancies=discrepancies,
    )


class SettledPayouts(Protocol):
    def settled(self, provider: str, day: date) -> dict[str, int]: ...


class ReportFiles(Protocol):
    def get(self, key: str) -> bytes | None: ...

    def put(self, key: str, data: bytes, content_type: str) -> None: ...


class ReconciliationService:
    def __init__(self, ledger: SettledPayouts, files: ReportFiles) -> None:
        self._ledger = ledger
        self._files = files

    def run(self, key: str) -> Reconciliation:
        """Compares the report at ``key``; the full result is written beside it under
        ``reconciliations/``; the answer lists the first LISTED discrepancies."""
        provider, day = parse_key(key)
        data = self._files.get(key)
        if data is None:
            raise SettlementUnreadable(f"there is no settlement report at {key}")
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            raise SettlementUnreadable("the report is not UTF-8 text") from None
        result = reconcile(provider, day, key, settled_lines(text), self._ledger.settled(provider, day))
        result.result_key = result_key(provider, day)
        self._files.put(result.result_key, result.model_dump_json(indent=1).encode(), "application/json")
        return result.model_copy(update={"discrepancies": result.discrepancies[:LISTED]})
