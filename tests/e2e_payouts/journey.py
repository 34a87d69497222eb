"""Steps of the incentive journey over the API: a recipient who completed and reviewed a course."""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

from tests.e2e.conftest import Api

OPS_EMAIL = "payouts-ops@example.com"


def ops(api: Api) -> str:
    return api.token(OPS_EMAIL, ["ops"])


def complete_and_review(api: Api, token: str) -> None:
    """Buys the cheapest seeded course, has its platform redeem and complete it, reviews it."""
    courses = api.call("GET", "/v1/trainings?limit=200", token).json()["items"]
    cheapest = min(courses, key=lambda c: c["price"])
    bought = api.call("POST", "/v1/purchases", token, json={"training_id": cheapest["training_id"]})
    assert bought.status_code == 201, bought.text
    voucher = {"voucher_code": bought.json()["voucher_code"]}
    platform = cheapest["platform"]
    assert api.partner_call(platform, "/v1/partner/redemptions", voucher).status_code == 200
    completed_at = program_now(api).isoformat().replace("+00:00", "Z")
    completion = {**voucher, "completed_at": completed_at, "certificate_id": f"SRT-{voucher['voucher_code']}"}
    done = api.partner_call(platform, "/v1/partner/completions", completion)
    assert done.status_code == 200, done.text
    review = api.call("POST", f"/v1/purchases/{bought.json()['purchase_id']}/review", token, json={"rating": 5})
    assert review.status_code == 200, review.text


def program_now(api: Api) -> datetime:
    return datetime.fromisoformat(str(api.call("GET", "/_local/clock").json()["now"]).replace("Z", "+00:00"))


def link(api: Api, token: str, provider: str, number: str) -> dict[str, Any]:
    kind = "BANK" if provider == "BNI" else "EWALLET"
    linked = api.call(
        "PUT",
        "/v1/applicants/me/payout-account",
        token,
        json={"type": kind, "provider": provider, "account_number": number},
    )
    assert linked.status_code == 202, linked.text
    return dict(linked.json())


def payouts(api: Api, token: str) -> list[dict[str, Any]]:
    answer = api.call("GET", "/v1/applicants/me/payouts", token)
    assert answer.status_code == 200, answer.text
    return list(answer.json()["items"])


def run_payouts(api: Api) -> str:
    """Starts a payout run and waits for it (and its children) to end; its execution ARN."""
    started = api.call("POST", "/v1/ops/payout-runs", ops(api))
    assert started.status_code == 202, started.text
    arn = str(started.json()["execution_arn"])
    wait_for(api, arn)
    return arn


def wait_for(api: Api, execution_arn: str, timeout: float = 240) -> dict[str, Any]:
    sfn = api.cloud.boto3_client("stepfunctions")
    deadline = time.monotonic() + timeout
    while True:
        described = sfn.describe_execution(executionArn=execution_arn)
        if described["status"] != "RUNNING":
            return dict(described)
        assert time.monotonic() < deadline, f"{execution_arn} still running"
        time.sleep(0.25)


def ledger(api: Api) -> dict[str, Any]:
    report = api.call("GET", "/v1/ops/ledger", ops(api))
    assert report.status_code == 200, report.text
    return dict(report.json())
