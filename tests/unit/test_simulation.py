"""The demo's parts that need no runtime: its population, its report and the cost computed from
its counts."""

from __future__ import annotations

from collections import Counter
from datetime import date
from typing import Any

import pytest

from prakerja.registration.eligibility import MINIMUM_AGE, age_on
from prakerja.registration.models import RegistrationRequest
from tools import cost
from tools.simulation import report
from tools.simulation.journey import Outcome
from tools.simulation.population import FAMILY_EVERY, Kind, build

TODAY = date.today()


@pytest.fixture(scope="module")
def population() -> list[Any]:
    return build(3000, "unit")


def test_the_same_seed_gives_the_same_people_and_fates() -> None:
    assert build(200, "a") == build(200, "a")
    assert build(200, "a") != build(200, "b")


def test_every_kind_of_case_is_there_in_a_realistic_share(population: list[Any]) -> None:
    shares = Counter(a.kind for a in population)
    assert set(shares) == set(Kind)
    assert 0.75 < shares[Kind.ELIGIBLE] / len(population) < 0.9
    for kind in (Kind.UNDERAGE, Kind.STUDENT, Kind.DUPLICATE, Kind.EXCLUDED_OCCUPATION, Kind.NOT_IN_REGISTRY):
        assert 0.005 < shares[kind] / len(population) < 0.08, kind


def test_each_registration_is_one_the_api_accepts_with_a_nik_that_agrees(population: list[Any]) -> None:
    for applicant in population:
        body = RegistrationRequest.model_validate(applicant.person.registration(), context={"today": TODAY})
        assert body.nik_info.is_born_on(applicant.person.date_of_birth), applicant.kind
        assert body.nik_info.gender == applicant.person.gender


def test_the_underage_are_under_age_and_the_others_are_not(population: list[Any]) -> None:
    for applicant in population:
        underage = age_on(applicant.person.date_of_birth, TODAY) < MINIMUM_AGE
        assert underage == (applicant.kind == Kind.UNDERAGE), applicant.index


def test_the_registry_knows_whom_it_should_as_it_should(population: list[Any]) -> None:
    for applicant in population:
        if applicant.kind in (Kind.NOT_IN_REGISTRY, Kind.DUPLICATE):
            assert applicant.resident is None
        elif applicant.kind == Kind.NAME_MISMATCH:
            assert applicant.resident["full_name"] != applicant.person.full_name
        else:
            assert applicant.resident == applicant.person.resident()


def test_duplicates_reuse_an_earlier_nik_and_no_one_else_shares_one(population: list[Any]) -> None:
    first: dict[str, int] = {}
    for applicant in population:
        nik = applicant.person.nik
        if applicant.kind == Kind.DUPLICATE:
            assert nik in first, applicant.index
        else:
            assert nik not in first, applicant.index
            first[nik] = applicant.index
    assert len({a.person.account_email for a in population}) == len(population)


def test_families_of_three_share_a_family_card(population: list[Any]) -> None:
    cards = Counter(a.person.kk_number for a in population if a.kind != Kind.DUPLICATE)
    assert max(cards.values()) == 3
    assert sum(n == 3 for n in cards.values()) >= len(population) // FAMILY_EVERY - 5
    thirds = [a for a in population if a.kind == Kind.SHARED_KK]
    assert thirds and all(cards[a.person.kk_number] == 3 for a in thirds)


def test_only_the_listed_carry_an_exclusion_source(population: list[Any]) -> None:
    for applicant in population:
        assert (applicant.exclusion_source is not None) == (applicant.kind == Kind.EXCLUDED_OCCUPATION)


def _outcome(applicant: Any, **fields: Any) -> Outcome:
    return Outcome(applicant, **fields)


def test_the_funnel_counts_each_stage_and_each_province(population: list[Any]) -> None:
    a, b, c = population[:3]
    paid = [{"status": "PAID", "failure_code": None}]
    outcomes = [
        _outcome(a, registered=201, status="SELECTED", joined=True, purchase_id="p", completed=True, payouts=paid),
        _outcome(b, registered=201, status="REJECTED", reasons=["UNDERAGE"]),
        _outcome(c, registered=409, registration_code="NIK_ALREADY_REGISTERED"),
    ]
    funnel = report.funnel(outcomes)
    assert list(funnel.values()) == [3, 2, 1, 1, 1, 1, 1, 1]
    provinces = report.by_province(outcomes)
    assert sum(p["applied"] for p in provinces.values()) == 3
    assert provinces[a.province]["paid"] >= 1
    assert report.refusals(outcomes) == {"UNDERAGE": 1, "NIK_ALREADY_REGISTERED": 1}


def test_the_summary_line_reads_as_the_issue_says(population: list[Any]) -> None:
    result = report.Report(
        applicants=2000,
        funnel={"selected": 800, "paid": 610},
        provinces={},
        refusals={},
        payouts={},
        failures={},
        stage_seconds={},
        ledger={"balanced": True},
        draw_verified=True,
        seconds=187.4,
    )
    assert result.summary_line() == (
        "demo: applicants=2000 selected=800 paid=610 ledger_balanced=true draw_verified=true seconds=187"
    )


def _usage(**overrides: Any) -> dict[str, Any]:
    usage: dict[str, Any] = {
        "api_requests": {"POST /v1/applicants": 1000, "POST /_local/tokens": 1000},
        "aws_requests": {"dynamodb:PutItem": 500, "dynamodb:GetItem": 2000, "dynamodb:TransactWriteItems": 100},
        "dynamodb_items": {"dynamodb:TransactWriteItems": 300},
        "functions": {"Api": {"invocations": 1000, "seconds": 100.0}},
        "workflows": {"registration": {"executions": 1000, "transitions_per_execution": 4}},
        "notifications": 2000,
        "log_bytes": 10**6,
    }
    return usage | overrides


def test_the_bill_scales_each_count_to_a_million_applicants() -> None:
    lines = {line.service: line for line in cost.bill({"applicants": 1000}, _usage(), {"Api": 2048}, cost.PRICES)}
    # /_local routes do not exist on AWS: 1,000 API requests for 1,000 applicants.
    assert lines["API Gateway (REST)"].quantity == 1_000_000
    assert lines["API Gateway (REST)"].usd == pytest.approx(3.50)
    assert lines["Lambda compute (arm64)"].quantity == pytest.approx(100.0 * 2 * 1000)
    # 500 puts, and 300 items in transactions at two units each.
    assert lines["DynamoDB writes"].quantity == (500 + 2 * 300) * 1000
    assert lines["Step Functions"].usd == pytest.approx(4_000_000 / 1000 * 0.025)
    assert lines["SMS notifications"].quantity == 2_000_000


def test_cognito_is_priced_by_tier_beyond_the_free_users() -> None:
    assert cost.cognito(10_000, cost.PRICES) == 0
    assert cost.cognito(100_000, cost.PRICES) == pytest.approx(90_000 * 0.0055)
    assert cost.cognito(1_000_000, cost.PRICES) == pytest.approx(90_000 * 0.0055 + 900_000 * 0.0046)


def test_one_registration_is_what_registering_cost_divided_by_who_registered() -> None:
    at = _usage(
        aws_requests={"dynamodb:GetItem": 30, "dynamodb:PutItem": 10, "states:StartExecution": 10, "kms:Encrypt": 20},
        dynamodb_items={"dynamodb:TransactWriteItems": 30},
        functions={
            "ApplicantApiX": {"invocations": 20, "seconds": 1.0},
            "ApiFunctionsOpsApiFunctionX": {"invocations": 49, "seconds": 1.0},
        },
    )
    workflows = {"prakerja-prod-registration": {"executions": 10, "transitions_per_execution": 4}}
    counted = cost.per_registration({"after_registration": at, "workflows": workflows}, registered=10)
    assert counted["Step Functions executions"] == 1
    assert counted["DynamoDB requests"] == 4
    assert counted["DynamoDB write units"] == 1 + 2 * 3
    assert counted["KMS requests"] == 2
    assert counted["API requests"] == 100
    assert counted["Lambda invocations"] == 2  # the operators' set-up is not counted
    assert counted["state transitions"] == 4
