"""Reconciliation: the partner's settlement report of a day against the ledger, line by line.
A clean report balances; a planted difference (an amount changed, a line added, a line
removed) is reported as exactly those discrepancies and fails the execution, which alarms."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest

from tests.e2e.conftest import Api
from tests.e2e_payouts.journey import complete_and_review, link, ops, payouts, program_now, run_payouts, wait_for

pytestmark = pytest.mark.e2e


def reconcile(api: Api, provider: str, day: str) -> tuple[str, dict[str, Any]]:
    started = api.call("POST", "/v1/ops/reconciliations", ops(api), json={"provider": provider, "date": day})
    assert started.status_code == 202, started.text
    status = wait_for(api, started.json()["execution_arn"])["status"]
    result = api.call("GET", f"/v1/ops/reconciliations/{provider}/{day}", ops(api))
    assert result.status_code == 200, result.text
    return str(status), dict(result.json())


def test_a_settlement_report_is_reconciled_line_by_line_and_a_planted_mismatch_is_found(api: Api) -> None:
    api.call("POST", "/_local/payment-faults", json={"provider": "*", "fail_rate": 0, "timeout_rate": 0})
    tokens = api.recipients(3)
    for i, token in enumerate(tokens):
        link(api, token, "LINKAJA", f"08577000{i:04d}")
        complete_and_review(api, token)
    run_payouts(api)
    assert all(p["status"] == "PAID" for t in tokens for p in payouts(api, t))
    api.cloud.payment_partners.wait_idle(10)
    day = program_now(api).date().isoformat()

    report = api.call("POST", "/_local/payment-partners/LINKAJA/settlement-report", json={"date": day})
    assert report.status_code == 201, report.text
    bucket, key = report.json()["bucket"], report.json()["key"]
    status, clean = reconcile(api, "LINKAJA", day)
    assert (status, clean["status"], clean["discrepancies"]) == ("SUCCEEDED", "BALANCED", [])
    assert clean["matched"] == clean["ledger_lines"] == clean["report_lines"] >= 3

    s3 = api.cloud.boto3_client("s3")
    rows = list(csv.DictReader(io.StringIO(s3.get_object(Bucket=bucket, Key=key)["Body"].read().decode())))
    changed, removed = rows[0], rows[1]
    changed["amount"] = str(int(changed["amount"]) + 1000)
    extra = {**rows[2], "transfer_id": "po-000000000000000000000000-1", "reference": "LINKAJA-PLANTED"}
    planted = [r for r in rows if r is not removed] + [extra]
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(planted)
    s3.put_object(Bucket=bucket, Key=key, Body=out.getvalue().encode())

    status, found = reconcile(api, "LINKAJA", day)
    assert (status, found["status"]) == ("FAILED", "DISCREPANCIES")
    kinds = {(d["kind"], d["transfer_id"]) for d in found["discrepancies"]}
    assert kinds == {
        ("AMOUNT_MISMATCH", changed["transfer_id"]),
        ("MISSING", removed["transfer_id"]),
        ("EXTRA", "po-000000000000000000000000-1"),
    }
    assert found["matched"] == clean["matched"] - 2
