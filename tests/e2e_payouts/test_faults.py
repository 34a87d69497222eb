"""Exactly once through faults: with the simulated partners failing, going silent and repeating
their callbacks at 30 %, every due incentive ends PAID or FAILED with its code, nobody is paid
twice, re-runs and repeated steps change nothing, and the ledger balances throughout."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from tests.e2e.conftest import Api
from tests.e2e_payouts.journey import complete_and_review, ledger, link, payouts, run_payouts

pytestmark = pytest.mark.e2e

PROVIDERS = ("BNI", "OVO", "GOPAY", "LINKAJA", "DANA")
INCENTIVE = 600_000
RECIPIENTS = 10


@dataclass
class Person:
    token: str
    provider: str
    numbers: list[str] = field(default_factory=list)  # every account linked, the latest last


def faults(api: Api, rate: float, seed: int = 2026) -> None:
    settings = {"provider": "*", "fail_rate": rate, "timeout_rate": rate, "duplicate_rate": rate, "seed": seed}
    answer = api.call("POST", "/_local/payment-faults", json=settings)
    assert answer.status_code == 200, answer.text


def paid_out(api: Api) -> int:
    return sum(a["balance"] for a in ledger(api)["accounts"] if a["account"] == "PAID_OUT")


def check_exactly_once(api: Api, people: list[Person]) -> list[dict[str, Any]]:
    """Each person's payout, checked against what the partners paid and against the ledger:
    PAID was paid once; a refused account was paid nothing; a transfer the partner could not
    be reached about (PARTNER_UNAVAILABLE) is still in transit, to be sent again under its id."""
    partners = api.cloud.payment_partners
    partners.wait_idle(30)
    paid = partners.paid_amounts()
    found = []
    for person in people:
        [payout] = payouts(api, person.token)
        assert payout["status"] in ("PAID", "FAILED"), payout
        assert (payout["status"] == "FAILED") == (payout["failure_code"] is not None), payout
        received = sum(paid.get(number, 0) for number in person.numbers)
        if payout["status"] == "PAID":
            assert received == INCENTIVE, payout
        elif payout["failure_code"] != "PARTNER_UNAVAILABLE":
            assert received == 0, payout
        else:
            assert received in (0, INCENTIVE), payout
        found.append(payout)
    report = ledger(api)
    unconfirmed = sum(p["failure_code"] == "PARTNER_UNAVAILABLE" for p in found)
    assert report["balanced"] and report["in_transit"] == INCENTIVE * unconfirmed
    return found


def test_faults_at_30_percent_end_every_payout_paid_or_failed_with_a_code_and_none_twice(api: Api) -> None:
    people = []
    for i, token in enumerate(api.recipients(RECIPIENTS)):
        provider = PROVIDERS[i % len(PROVIDERS)]
        number = f"0812{i:08d}"
        assert link(api, token, provider, number)["status"] == "VALID"
        complete_and_review(api, token)
        people.append(Person(token, provider, [number]))
    paid_before = paid_out(api)

    faults(api, 0.3)
    run_payouts(api)
    first = check_exactly_once(api, people)
    assert paid_out(api) - paid_before == INCENTIVE * sum(p["status"] == "PAID" for p in first)

    # The same run again, under the same faults: what was paid stays paid once.
    run_payouts(api)
    check_exactly_once(api, people)

    # The transfer step run again by hand, as a Lambda retry would (a token nobody waits on).
    send_step = api.cloud.resources.find("PayoutWorkflowSendTransferFunction", "AWS::Lambda::Function").logical_id
    transfers_before = len(api.cloud.payment_partners.transfers())
    for person, payout in zip(people, first, strict=True):
        if payout["status"] == "PAID":
            event = {
                "applicant_id": api.call("GET", "/v1/applicants/me", person.token).json()["applicant_id"],
                "payout_id": payout["payout_id"],
                "callback_timeout_seconds": 5,
                "task_token": "a-token-nobody-waits-on",
            }
            assert api.cloud.invoke(send_step, event) == {"waiting": False}
    assert len(api.cloud.payment_partners.transfers()) == transfers_before

    # The faults stop. A partner outage is retried by a later run; an account the partner
    # refused waits until its owner links another one.
    faults(api, 0.0)
    assert api.call("POST", "/_local/clock", json={"advance_seconds": 11 * 60}).status_code == 200
    run_payouts(api)
    for person in people:
        [payout] = payouts(api, person.token)
        if payout["status"] == "FAILED":
            new_number = f"0899{len(person.numbers)}{person.numbers[0][-7:]}"
            assert link(api, person.token, person.provider, new_number)["status"] == "VALID"
            person.numbers.append(new_number)
    run_payouts(api)
    final = check_exactly_once(api, people)
    assert [p["status"] for p in final] == ["PAID"] * RECIPIENTS
    assert paid_out(api) - paid_before == INCENTIVE * RECIPIENTS
