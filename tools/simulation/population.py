"""Who takes part in a simulated program cycle: N applicants drawn from the load test's
deterministic residents (loadtest/people.py), with the cases a real registration surge brings.

Each applicant has a `kind`, what the simulation expects the system to make of them:
- ELIGIBLE: a resident of working age, the registry agrees;
- STUDENT: in formal education (screening rejects them: IN_FORMAL_EDUCATION);
- UNDERAGE: 15-17 years old, with a NIK that agrees with the birth date (UNDERAGE);
- NOT_IN_REGISTRY: a NIK the civil registry does not know (NIK_NOT_FOUND);
- NAME_MISMATCH: the registry knows the NIK under another name (IDENTITY_MISMATCH);
- EXCLUDED_OCCUPATION: on an agency's list (ASN, TNI, POLRI...) imported by operations;
- SHARED_KK: the third adult of a family card whose first two also register (KK limit);
- DUPLICATE: a second account registering the NIK of an earlier applicant (409).

The same (seed, N) always gives the same population, so runs can be compared.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, replace
from datetime import date, timedelta
from enum import StrEnum
from typing import Any

from loadtest.people import Person, Population
from prakerja.partners import PartnerKind, load_partners

# The agencies whose lists exclude their people (API.md, exclusion lists).
EXCLUSION_SOURCES = ("ASN", "TNI", "POLRI", "BUMN_EXECUTIVE", "VILLAGE_OFFICIAL")
# The payment partners and their kinds (BANK, EWALLET), from the program's partner data.
PROVIDERS = {p.partner_id: p.type or "BANK" for p in load_partners().of_kind(PartnerKind.PAYMENT)}
FAMILY_EVERY = 40  # one applicant in 40 heads a family card three of whose adults register


class Kind(StrEnum):
    ELIGIBLE = "ELIGIBLE"
    STUDENT = "STUDENT"
    UNDERAGE = "UNDERAGE"
    NOT_IN_REGISTRY = "NOT_IN_REGISTRY"
    NAME_MISMATCH = "NAME_MISMATCH"
    EXCLUDED_OCCUPATION = "EXCLUDED_OCCUPATION"
    SHARED_KK = "SHARED_KK"
    DUPLICATE = "DUPLICATE"


# Shares of the special cases among applicants (the rest are ELIGIBLE, students aside).
_SHARES = {
    Kind.UNDERAGE: 0.03,
    Kind.NOT_IN_REGISTRY: 0.02,
    Kind.NAME_MISMATCH: 0.01,
    Kind.EXCLUDED_OCCUPATION: 0.02,
    Kind.DUPLICATE: 0.02,
}


@dataclass(frozen=True)
class Behaviour:
    """What the applicant does once selected, drawn once so that reruns agree."""

    buys: bool
    platform_redeems: bool
    completes: bool
    links_account: bool
    provider: str
    account_number: str  # "000..." and "999..." are refused by the simulated partners


@dataclass(frozen=True)
class Applicant:
    index: int
    kind: Kind
    person: Person  # what the applicant registers with
    resident: dict[str, Any] | None  # what the civil registry holds (None: not there)
    exclusion_source: str | None
    behaviour: Behaviour

    @property
    def province(self) -> str:
        return self.person.province_code


def build(count: int, seed: str) -> list[Applicant]:
    residents = Population(seed)
    applicants: list[Applicant] = []
    for index in range(count):
        rng = random.Random(f"{seed}/simulation/{index}")  # noqa: S311 - reproducible, not secret
        person = residents.person(index)
        kind = Kind.STUDENT if person.employment_status == "STUDENT" else _draw_kind(rng)
        # Family cards: the head (member 0) and two more adults on the same card (1 and 2).
        member = index % FAMILY_EVERY
        # A family's members are themselves; a duplicate copies someone registered before it.
        if kind == Kind.DUPLICATE and (member <= 2 or not any(a.kind == Kind.ELIGIBLE for a in applicants[-200:])):
            kind = Kind.ELIGIBLE
        if member in (1, 2):
            person = replace(person, kk_number=residents.person(index - member).kk_number)
            if member == 2 and kind == Kind.ELIGIBLE:
                kind = Kind.SHARED_KK
        person = _as_kind(person, kind, applicants, rng)
        resident = _registry_entry(person, kind)
        source = EXCLUSION_SOURCES[index % len(EXCLUSION_SOURCES)] if kind == Kind.EXCLUDED_OCCUPATION else None
        applicants.append(Applicant(index, kind, person, resident, source, _behaviour(rng)))
    return applicants


def _draw_kind(rng: random.Random) -> Kind:
    roll = rng.random()
    for kind, share in _SHARES.items():
        if roll < share:
            return kind
        roll -= share
    return Kind.ELIGIBLE


def _as_kind(person: Person, kind: Kind, earlier: list[Applicant], rng: random.Random) -> Person:
    if kind == Kind.UNDERAGE:
        today = date.today()
        born = today - timedelta(days=rng.randint(15 * 365 + 4, 17 * 365 + 300))
        day = born.day + 40 if person.gender == "F" else born.day
        nik = f"{person.nik[:6]}{day:02d}{born.month:02d}{born.year % 100:02d}{person.nik[-4:]}"
        return replace(person, nik=nik, date_of_birth=born)
    if kind == Kind.DUPLICATE:  # of someone who registers without a hitch: the NIK is then taken
        original = rng.choice([a for a in earlier[-200:] if a.kind == Kind.ELIGIBLE]).person
        # Someone else's identity from another account: same NIK, KK, name and birth date.
        return replace(original, index=person.index, account_email=person.account_email, phone=person.phone)
    return person


def _registry_entry(person: Person, kind: Kind) -> dict[str, Any] | None:
    if kind in (Kind.NOT_IN_REGISTRY, Kind.DUPLICATE):
        return None  # a duplicate's identity is already there, under the earlier applicant
    entry = person.resident()
    if kind == Kind.NAME_MISMATCH:
        entry["full_name"] = f"{entry['full_name']} Binti Abdullah"
    return entry


def _behaviour(rng: random.Random) -> Behaviour:
    provider = rng.choice(list(PROVIDERS))
    roll = rng.random()
    prefix = "000" if roll < 0.02 else "999" if roll < 0.03 else "04" if PROVIDERS[provider] == "BANK" else "08"
    return Behaviour(
        buys=rng.random() < 0.93,
        platform_redeems=rng.random() < 0.97,
        completes=rng.random() < 0.92,
        links_account=rng.random() < 0.96,
        provider=provider,
        account_number=f"{prefix}{rng.randrange(10**10):010d}",
    )
