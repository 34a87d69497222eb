"""The failed payouts' sparse index on moto, from the real template: a payout is listed while it
is FAILED and leaves the list as it leaves FAILED; pages walk the codes in order, the newest
failure first; counts per code; tokens of another list are refused."""

from __future__ import annotations

import base64
import json
from datetime import timedelta
from typing import Any

import pytest

from localcloud.provision import Resources
from prakerja.adapters.dynamodb_ledger import DynamoDBLedger
from prakerja.adapters.dynamodb_payouts import DynamoDBFailedPayouts, DynamoDBPayouts
from prakerja.errors import ValidationFailed
from prakerja.payouts.failures import PayoutFailures
from prakerja.payouts.models import FailureCode, IncentiveKind, PayoutRecord, PayoutStatus, Provider, payout_id
from tests.fakes import FixedClock
from tests.integration.conftest import physical

NOT_FOUND, UNAVAILABLE = FailureCode.ACCOUNT_NOT_FOUND, FailureCode.PARTNER_UNAVAILABLE


@pytest.fixture
def tables(aws: Resources, clients: dict[str, Any]) -> tuple[DynamoDBPayouts, DynamoDBFailedPayouts]:
    db = clients["dynamodb"]
    table = physical(aws, "DataPayoutsTable")
    return DynamoDBPayouts(db, table, DynamoDBLedger(db, physical(aws, "DataLedgerTable"))), DynamoDBFailedPayouts(
        db, table
    )


def _payout(payouts: DynamoDBPayouts, n: int, status: PayoutStatus, code: FailureCode | None = None) -> PayoutRecord:
    """Applicant n's payout, granted and then rewritten as ``status`` (failed n minutes in)."""
    now = FixedClock().now()
    applicant = f"a0000000-0000-4000-8000-{n:012d}"
    granted = PayoutRecord(
        payout_id(applicant, IncentiveKind.JOB_SEARCH, 1),
        applicant,
        IncentiveKind.JOB_SEARCH,
        1,
        600_000,
        PayoutStatus.SCHEDULED,
        now,
        now,
    )
    assert payouts.grant([granted], [], payable=True)
    if status is PayoutStatus.SCHEDULED:
        return granted
    failed_at = now + timedelta(minutes=n) if code else None
    changed = granted.with_changes(status=status, failure_code=code, failed_at=failed_at, provider=Provider.OVO)
    assert payouts.replace(granted, changed, None)
    return changed


def test_failed_payouts_are_listed_by_code_newest_first_and_counted(
    tables: tuple[DynamoDBPayouts, DynamoDBFailedPayouts],
) -> None:
    payouts, failed = tables
    not_found = [_payout(payouts, n, PayoutStatus.FAILED, NOT_FOUND) for n in (1, 2, 3)]
    unavailable = _payout(payouts, 4, PayoutStatus.FAILED, UNAVAILABLE)
    _payout(payouts, 5, PayoutStatus.PAID)
    _payout(payouts, 6, PayoutStatus.SCHEDULED)

    # Two at a time over every code, in the enum's order: ACCOUNT_NOT_FOUND first, newest first.
    pages, token = [], None
    while True:
        page, token = failed.page(list(FailureCode), 2, token)
        pages.append([(p.payout_id, p.failure_code) for p in page])
        if token is None:
            break
    listed = [entry for page in pages for entry in page]
    assert listed == [(p.payout_id, NOT_FOUND) for p in reversed(not_found)] + [(unavailable.payout_id, UNAVAILABLE)]
    assert all(len(page) <= 2 for page in pages)

    [first] = failed.page([UNAVAILABLE], 10, None)[0]
    assert (first.applicant_id, first.amount, first.provider, first.attempt) == (
        unavailable.applicant_id,
        600_000,
        Provider.OVO,
        1,
    )
    assert first.failed_at == unavailable.failed_at
    assert (failed.count(NOT_FOUND), failed.count(UNAVAILABLE), failed.count(FailureCode.NAME_MISMATCH)) == (3, 1, 0)
    counts = PayoutFailures(failed).counts()
    assert (counts.total, counts.by_code) == (4, {NOT_FOUND: 3, UNAVAILABLE: 1})


def test_a_payout_leaves_the_list_when_it_is_scheduled_again(
    tables: tuple[DynamoDBPayouts, DynamoDBFailedPayouts],
) -> None:
    payouts, failed = tables
    held = _payout(payouts, 7, PayoutStatus.FAILED, NOT_FOUND)
    assert failed.count(NOT_FOUND) == 1
    assert payouts.release(held, attempt=2, at=FixedClock().now())  # its owner linked a valid account
    assert failed.count(NOT_FOUND) == 0
    assert failed.page(list(FailureCode), 10, None) == ([], None)


def test_a_token_this_list_did_not_issue_is_refused(tables: tuple[DynamoDBPayouts, DynamoDBFailedPayouts]) -> None:
    payouts, failed = tables
    for n in (8, 9):
        _payout(payouts, n, PayoutStatus.FAILED, NOT_FOUND)
    _, token = failed.page([NOT_FOUND], 1, None)
    assert token is not None
    forged = {"code": "ACCOUNT_NOT_FOUND", "after": {"pk": "APPLICANT#a", "sk": "PAYOUT#b"}}
    for bad in ("nonsense", _encoded({}), _encoded([1]), _encoded({"code": "NOPE", "after": None}), _encoded(forged)):
        with pytest.raises(ValidationFailed):
            failed.page([NOT_FOUND], 1, bad)
    with pytest.raises(ValidationFailed):  # a position in ACCOUNT_NOT_FOUND, asked of another code's list
        failed.page([UNAVAILABLE], 1, token)


def _encoded(document: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(document).encode()).decode()
