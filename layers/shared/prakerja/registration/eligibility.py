"""Eligibility screening: the program's layered rules as one pure function.

Every applicable reason is reported, not just the first, so that an applicant (and an auditor)
sees the whole picture and a fixed data error does not reveal a second rejection later.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from prakerja.registration.models import (
    BLACKLIST,
    OCCUPATION_SOURCES,
    PREVIOUS_RECIPIENTS,
    EmploymentStatus,
    ExclusionSource,
    RejectionReason,
)

MINIMUM_AGE = 18
MAXIMUM_AGE = 64


class RegistryVerdict(StrEnum):
    """Outcome of the civil registry (Dukcapil) check of NIK, name and date of birth."""

    MATCH = "MATCH"
    NOT_FOUND = "NOT_FOUND"
    MISMATCH = "MISMATCH"


@dataclass(frozen=True)
class ScreeningFacts:
    """Everything screening needs, gathered by the caller from the registry and the lists.

    ``other_assistance_rule`` switches on the 2021-22 rule excluding recipients of other
    social assistance (BSU, BPUM)."""

    registry: RegistryVerdict
    date_of_birth: date
    today: date
    employment_status: EmploymentStatus
    exclusion_sources: frozenset[ExclusionSource]
    previous_recipient: bool
    blacklisted: bool
    kk_limit_reached: bool
    other_assistance_rule: bool


def age_on(date_of_birth: date, today: date) -> int:
    """Age in completed years on ``today``. Someone born on 29 February turns a year older on
    1 March in common years (the birthday has not passed on 28 February)."""
    not_had_birthday_yet = (today.month, today.day) < (date_of_birth.month, date_of_birth.day)
    return today.year - date_of_birth.year - int(not_had_birthday_yet)


def screen(facts: ScreeningFacts) -> list[RejectionReason]:
    """All rejection reasons that apply, in ``RejectionReason`` declaration order; empty means
    eligible."""
    found: set[RejectionReason] = set()
    if facts.registry == RegistryVerdict.NOT_FOUND:
        found.add(RejectionReason.NIK_NOT_FOUND)
    elif facts.registry == RegistryVerdict.MISMATCH:
        found.add(RejectionReason.IDENTITY_MISMATCH)
    age = age_on(facts.date_of_birth, facts.today)
    if age < MINIMUM_AGE:
        found.add(RejectionReason.UNDERAGE)
    elif age > MAXIMUM_AGE:
        found.add(RejectionReason.OVERAGE)
    if facts.employment_status == EmploymentStatus.STUDENT:
        found.add(RejectionReason.IN_FORMAL_EDUCATION)
    if facts.kk_limit_reached:
        found.add(RejectionReason.KK_LIMIT_REACHED)
    found |= listed_reasons(
        facts.exclusion_sources,
        previous_recipient=facts.previous_recipient,
        blacklisted=facts.blacklisted,
        other_assistance_rule=facts.other_assistance_rule,
    )
    return [reason for reason in RejectionReason if reason in found]


def listed_reasons(
    sources: frozenset[ExclusionSource],
    *,
    previous_recipient: bool,
    blacklisted: bool,
    other_assistance_rule: bool,
) -> set[RejectionReason]:
    """The reasons that come from lists alone: at registration, and again when a wave closes
    (lists change while a wave is open)."""
    found: set[RejectionReason] = set()
    if ExclusionSource.FORMAL_EDUCATION in sources:
        found.add(RejectionReason.IN_FORMAL_EDUCATION)
    if sources & OCCUPATION_SOURCES:
        found.add(RejectionReason.EXCLUDED_OCCUPATION)
    if previous_recipient:
        found.add(RejectionReason.PREVIOUS_RECIPIENT)
    if blacklisted:
        found.add(RejectionReason.BLACKLISTED)
    if other_assistance_rule and ExclusionSource.OTHER_ASSISTANCE in sources:
        found.add(RejectionReason.OTHER_ASSISTANCE)
    return found


def reasons_from_lists(listed: frozenset[str], *, other_assistance_rule: bool) -> list[RejectionReason]:
    """:func:`listed_reasons` of the raw list names stored for one NIK hash, in declaration order."""
    found = listed_reasons(
        frozenset(ExclusionSource(s) for s in listed if s in ExclusionSource.__members__),
        previous_recipient=PREVIOUS_RECIPIENTS in listed,
        blacklisted=BLACKLIST in listed,
        other_assistance_rule=other_assistance_rule,
    )
    return [reason for reason in RejectionReason if reason in found]
