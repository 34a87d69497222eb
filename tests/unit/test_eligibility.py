from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from prakerja.registration.eligibility import RegistryVerdict, ScreeningFacts, age_on, screen
from prakerja.registration.models import (
    OCCUPATION_SOURCES,
    EmploymentStatus,
    ExclusionSource,
    RejectionReason,
)

TODAY = date(2026, 11, 22)

ELIGIBLE = ScreeningFacts(
    registry=RegistryVerdict.MATCH,
    date_of_birth=date(1995, 5, 17),
    today=TODAY,
    employment_status=EmploymentStatus.UNEMPLOYED,
    exclusion_sources=frozenset(),
    previous_recipient=False,
    blacklisted=False,
    kk_limit_reached=False,
    other_assistance_rule=False,
)


def born(years_ago: int, days_later: int = 0) -> date:
    return TODAY.replace(year=TODAY.year - years_ago) + timedelta(days=days_later)


def test_an_eligible_applicant_has_no_reason() -> None:
    assert screen(ELIGIBLE) == []


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"registry": RegistryVerdict.NOT_FOUND}, RejectionReason.NIK_NOT_FOUND),
        ({"registry": RegistryVerdict.MISMATCH}, RejectionReason.IDENTITY_MISMATCH),
        ({"date_of_birth": born(17)}, RejectionReason.UNDERAGE),
        ({"date_of_birth": born(65)}, RejectionReason.OVERAGE),
        ({"employment_status": EmploymentStatus.STUDENT}, RejectionReason.IN_FORMAL_EDUCATION),
        (
            {"exclusion_sources": frozenset({ExclusionSource.FORMAL_EDUCATION})},
            RejectionReason.IN_FORMAL_EDUCATION,
        ),
        ({"exclusion_sources": frozenset({ExclusionSource.ASN})}, RejectionReason.EXCLUDED_OCCUPATION),
        ({"kk_limit_reached": True}, RejectionReason.KK_LIMIT_REACHED),
        ({"previous_recipient": True}, RejectionReason.PREVIOUS_RECIPIENT),
        ({"blacklisted": True}, RejectionReason.BLACKLISTED),
        (
            {
                "exclusion_sources": frozenset({ExclusionSource.OTHER_ASSISTANCE}),
                "other_assistance_rule": True,
            },
            RejectionReason.OTHER_ASSISTANCE,
        ),
    ],
)
def test_each_rule_rejects_with_its_reason(changes: dict[str, object], reason: RejectionReason) -> None:
    assert screen(replace(ELIGIBLE, **changes)) == [reason]  # type: ignore[arg-type]


def test_every_reason_is_reachable() -> None:
    everything = replace(
        ELIGIBLE,
        registry=RegistryVerdict.NOT_FOUND,
        date_of_birth=born(10),
        employment_status=EmploymentStatus.STUDENT,
        exclusion_sources=frozenset(ExclusionSource),
        previous_recipient=True,
        blacklisted=True,
        kk_limit_reached=True,
        other_assistance_rule=True,
    )
    other_branches = replace(everything, registry=RegistryVerdict.MISMATCH, date_of_birth=born(70))

    assert set(screen(everything)) | set(screen(other_branches)) == set(RejectionReason)


def test_all_reasons_are_reported_together_in_a_stable_order() -> None:
    facts = replace(
        ELIGIBLE,
        registry=RegistryVerdict.MISMATCH,
        date_of_birth=born(70),
        employment_status=EmploymentStatus.STUDENT,
        exclusion_sources=frozenset({ExclusionSource.OTHER_ASSISTANCE, ExclusionSource.TNI, ExclusionSource.POLRI}),
        previous_recipient=True,
        blacklisted=True,
        kk_limit_reached=True,
        other_assistance_rule=True,
    )

    assert screen(facts) == [
        RejectionReason.IDENTITY_MISMATCH,
        RejectionReason.OVERAGE,
        RejectionReason.IN_FORMAL_EDUCATION,
        RejectionReason.EXCLUDED_OCCUPATION,
        RejectionReason.KK_LIMIT_REACHED,
        RejectionReason.PREVIOUS_RECIPIENT,
        RejectionReason.BLACKLISTED,
        RejectionReason.OTHER_ASSISTANCE,
    ]


def test_a_student_on_the_education_list_is_reported_once() -> None:
    facts = replace(
        ELIGIBLE,
        employment_status=EmploymentStatus.STUDENT,
        exclusion_sources=frozenset({ExclusionSource.FORMAL_EDUCATION}),
    )

    assert screen(facts) == [RejectionReason.IN_FORMAL_EDUCATION]


@pytest.mark.parametrize("source", sorted(OCCUPATION_SOURCES))
def test_every_occupation_list_excludes(source: ExclusionSource) -> None:
    assert screen(replace(ELIGIBLE, exclusion_sources=frozenset({source}))) == [RejectionReason.EXCLUDED_OCCUPATION]


def test_being_on_the_priority_list_is_no_rejection() -> None:
    assert screen(replace(ELIGIBLE, exclusion_sources=frozenset({ExclusionSource.PRIORITY}))) == []


def test_other_assistance_only_counts_in_program_years_with_that_rule() -> None:
    facts = replace(ELIGIBLE, exclusion_sources=frozenset({ExclusionSource.OTHER_ASSISTANCE}))

    assert screen(facts) == []
    assert screen(replace(facts, other_assistance_rule=True)) == [RejectionReason.OTHER_ASSISTANCE]


def test_the_rule_alone_rejects_nobody() -> None:
    assert screen(replace(ELIGIBLE, other_assistance_rule=True)) == []


@pytest.mark.parametrize(
    "status",
    [
        EmploymentStatus.UNEMPLOYED,
        EmploymentStatus.LAID_OFF,
        EmploymentStatus.EMPLOYED,
        EmploymentStatus.SELF_EMPLOYED,
    ],
)
def test_workers_and_jobseekers_are_eligible(status: EmploymentStatus) -> None:
    assert screen(replace(ELIGIBLE, employment_status=status)) == []


def test_facts_read_from_storage_as_plain_strings_screen_the_same() -> None:
    facts = replace(
        ELIGIBLE,
        registry="NOT_FOUND",  # type: ignore[arg-type]
        employment_status="STUDENT",  # type: ignore[arg-type]
        exclusion_sources=frozenset({"ASN"}),  # type: ignore[arg-type]
    )

    assert screen(facts) == ["NIK_NOT_FOUND", "IN_FORMAL_EDUCATION", "EXCLUDED_OCCUPATION"]


# Age boundaries


@pytest.mark.parametrize(
    ("date_of_birth", "reasons"),
    [
        (born(18), []),  # 18th birthday today
        (born(18, days_later=1), [RejectionReason.UNDERAGE]),  # 18th birthday tomorrow
        (born(18, days_later=-1), []),
        (born(64), []),
        (born(65, days_later=1), []),  # 64 until tomorrow
        (born(65), [RejectionReason.OVERAGE]),  # 65th birthday today
        (born(90), [RejectionReason.OVERAGE]),
        (TODAY, [RejectionReason.UNDERAGE]),
    ],
)
def test_applicants_must_be_18_to_64(date_of_birth: date, reasons: list[RejectionReason]) -> None:
    assert screen(replace(ELIGIBLE, date_of_birth=date_of_birth)) == reasons


@pytest.mark.parametrize(
    ("today", "age"),
    [
        (date(2022, 2, 27), 17),
        (date(2022, 2, 28), 17),  # no 29 February in 2022: the birthday has not passed
        (date(2022, 3, 1), 18),
        (date(2024, 2, 28), 19),
        (date(2024, 2, 29), 20),
    ],
)
def test_someone_born_on_29_february_ages_on_1_march_in_common_years(today: date, age: int) -> None:
    assert age_on(date(2004, 2, 29), today) == age


def test_a_29_february_birthday_decides_eligibility_on_1_march() -> None:
    facts = replace(ELIGIBLE, date_of_birth=date(2004, 2, 29))

    assert screen(replace(facts, today=date(2022, 2, 28))) == [RejectionReason.UNDERAGE]
    assert screen(replace(facts, today=date(2022, 3, 1))) == []


def test_age_on_the_day_of_birth_is_zero() -> None:
    assert age_on(date(2000, 1, 1), date(2000, 1, 1)) == 0
    assert age_on(date(2000, 1, 1), date(2000, 12, 31)) == 0
    assert age_on(date(2000, 12, 31), date(2001, 1, 1)) == 0


dates = st.dates(min_value=date(1900, 1, 1), max_value=date(2100, 12, 31))


@given(date_of_birth=dates, years=st.integers(min_value=0, max_value=120))
def test_on_each_birthday_the_age_is_the_number_of_years(date_of_birth: date, years: int) -> None:
    try:
        birthday = date_of_birth.replace(year=date_of_birth.year + years)
    except ValueError:  # 29 February in a common year: the birthday is 1 March
        birthday = date(date_of_birth.year + years, 3, 1)

    assert age_on(date_of_birth, birthday) == years
    assert age_on(date_of_birth, birthday - timedelta(days=1)) == years - 1


@given(date_of_birth=dates, today=dates)
def test_age_grows_by_at_most_one_a_day(date_of_birth: date, today: date) -> None:
    if today < date(2100, 12, 31):
        assert age_on(date_of_birth, today + timedelta(days=1)) - age_on(date_of_birth, today) in {0, 1}


@given(
    registry=st.sampled_from(RegistryVerdict),
    date_of_birth=dates,
    employment_status=st.sampled_from(EmploymentStatus),
    exclusion_sources=st.frozensets(st.sampled_from(ExclusionSource)),
    flags=st.tuples(st.booleans(), st.booleans(), st.booleans(), st.booleans()),
)
def test_reasons_are_unique_and_in_declaration_order(
    registry: RegistryVerdict,
    date_of_birth: date,
    employment_status: EmploymentStatus,
    exclusion_sources: frozenset[ExclusionSource],
    flags: tuple[bool, bool, bool, bool],
) -> None:
    facts = ScreeningFacts(
        registry=registry,
        date_of_birth=date_of_birth,
        today=TODAY,
        employment_status=employment_status,
        exclusion_sources=exclusion_sources,
        previous_recipient=flags[0],
        blacklisted=flags[1],
        kk_limit_reached=flags[2],
        other_assistance_rule=flags[3],
    )

    reasons = screen(facts)

    order = list(RejectionReason)
    assert reasons == sorted(set(reasons), key=order.index)
    assert (reasons == []) == (
        registry is RegistryVerdict.MATCH
        and 18 <= age_on(date_of_birth, TODAY) <= 64
        and employment_status is not EmploymentStatus.STUDENT
        and not exclusion_sources & (OCCUPATION_SOURCES | {ExclusionSource.FORMAL_EDUCATION})
        and not (flags[3] and ExclusionSource.OTHER_ASSISTANCE in exclusion_sources)
        and not any(flags[:3])
    )
