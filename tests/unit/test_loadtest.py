"""The load test's own parts that need no runtime: synthetic residents, token file, settings."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from loadtest.people import PROVINCE_WEIGHTS, Population
from loadtest.program import passing_answers
from loadtest.settings import Settings
from loadtest.tokens import TokenFile
from prakerja.registration.assessment import load_assessment
from prakerja.registration.eligibility import MAXIMUM_AGE, MINIMUM_AGE, age_on
from prakerja.registration.models import AssessmentSubmission, RegistrationRequest
from prakerja.registration.regions import PROVINCES

LAST_INDEX = 9999 * 14610 - 1


@given(seed=st.text(max_size=20), index=st.integers(0, LAST_INDEX))
def test_every_person_registers_validly_with_a_nik_that_agrees(seed: str, index: int) -> None:
    person = Population(seed).person(index)

    body = RegistrationRequest.model_validate(person.registration(), context={"today": date(2026, 6, 1)})
    assert body.nik_info.is_born_on(person.date_of_birth) and body.nik_info.gender == person.gender
    assert person.kk_number[:6] == person.nik[:6] and person.nik[:4] == person.regency_code  # one district
    # Adults for years to come: runs until 2029 do not meet UNDERAGE or OVERAGE.
    for today in (date(2026, 1, 1), date(2029, 12, 31)):
        assert MINIMUM_AGE <= age_on(person.date_of_birth, today) <= MAXIMUM_AGE


def test_people_are_deterministic_from_seed_and_index() -> None:
    assert Population("s").person(123_456) == Population("s").person(123_456)
    assert Population("s").person(7).nik != Population("t").person(7).nik


def test_no_two_people_share_a_nik_kk_or_account() -> None:
    population = Population("unique")
    # Consecutive people (every birth date, then the next serial), and people far apart.
    indexes = [*range(30_000), *range(14_610 * 997, LAST_INDEX, 14_610 * 997 + 1), LAST_INDEX]
    people = [population.person(i) for i in indexes]
    for attribute in ("nik", "kk_number", "account_email"):
        assert len({getattr(p, attribute) for p in people}) == len(people), attribute


def test_the_population_lies_within_the_nik_space() -> None:
    with pytest.raises(ValueError, match="outside"):
        Population("s").person(LAST_INDEX + 1)


def test_provinces_are_the_programs() -> None:
    assert set(PROVINCE_WEIGHTS) == set(PROVINCES)


def test_the_answers_read_from_the_layer_pass_the_assessment() -> None:
    submission = AssessmentSubmission.model_validate(passing_answers())
    assert load_assessment().score(submission.answers).score == 100


def test_a_token_file_hands_each_applicant_account_out_once(tmp_path: Path) -> None:
    path = tmp_path / "tokens.json"
    path.write_text(json.dumps({"applicants": ["a1", "a2"], "recipients": ["r1", "r2"]}))
    tokens = TokenFile(path)

    assert [tokens.applicant() for _ in range(3)] == ["a1", "a2", None]
    assert [tokens.recipient() for _ in range(3)] == ["r1", "r2", "r1"]  # recipients are shared


def test_settings_tell_local_from_staging_by_host(tmp_path: Path) -> None:
    local = Settings.from_env("http://127.0.0.1:3000", {})
    assert local.target == "local" and local.seed.startswith("local-") and local.tokens_file is None
    assert Settings.from_env("http://127.0.0.1:3000", {}).seed != local.seed  # new people each local run

    with pytest.raises(ValueError, match="LOADTEST_TOKENS_FILE"):
        Settings.from_env("https://abc.execute-api.ap-southeast-3.amazonaws.com/staging", {})
    staging = Settings.from_env(
        "https://abc.execute-api.ap-southeast-3.amazonaws.com/staging",
        {"LOADTEST_TOKENS_FILE": str(tmp_path / "t.json"), "LOADTEST_SEED": "s1", "LOADTEST_WAVE_ID": "wave-1"},
    )
    assert (staging.target, staging.seed, staging.wave_id) == ("staging", "s1", "wave-1")
