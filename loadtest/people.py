"""Synthetic residents for the load test, deterministic from a seed and an index.

The same (seed, index) always gives the same person, so the civil-registry sandbox of a
staging stage can be loaded beforehand with exactly the people a run will register:

    python -m loadtest.people --seed staging-2026-05 --first 0 --count 100000 > residents.jsonl

Every person's NIK agrees with the birth date and gender (day + 40 for women) and no two
indexes below ~146 million share a NIK or a KK number, whatever the seed.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import sys
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

# Kemendagri province codes (layers/shared/prakerja/registration/regions.py). Weighted roughly
# by population: a national surge is mostly Java.
PROVINCE_WEIGHTS: dict[str, int] = {
    "11": 2, "12": 5, "13": 2, "14": 2, "15": 1, "16": 3, "17": 1, "18": 3, "19": 1, "21": 1,
    "31": 4, "32": 18, "33": 13, "34": 1, "35": 15, "36": 4, "51": 2, "52": 2, "53": 2, "61": 2,
    "62": 1, "63": 1, "64": 1, "65": 1, "71": 1, "72": 1, "73": 3, "74": 1, "75": 1, "76": 1,
    "81": 1, "82": 1, "91": 1, "92": 1, "93": 1, "94": 1, "95": 1, "96": 1,
}  # fmt: skip
_MEN = ("Budi", "Agus", "Andi", "Rizky", "Dedi", "Joko", "Hendra", "Fajar", "Yusuf", "Made", "Bayu", "Teguh")
_WOMEN = ("Siti", "Dewi", "Rina", "Wulan", "Putri", "Ayu", "Lestari", "Nur", "Indah", "Sri", "Ratna", "Fitri")
_FAMILY = ("Santoso", "Wijaya", "Saputra", "Hidayat", "Lubis", "Nasution", "Siregar", "Pratama", "Kusuma", "Rahayu")
_EDUCATION = {"SD": 10, "SMP": 15, "SMA": 35, "SMK": 20, "D3": 8, "S1": 12}
# A few students: screening rejects them (IN_FORMAL_EDUCATION), as it would in a real surge.
_EMPLOYMENT = {"UNEMPLOYED": 50, "LAID_OFF": 20, "SELF_EMPLOYED": 15, "EMPLOYED": 10, "STUDENT": 5}

# Birth dates from 1966 to 2005: adults (18-64) in every year up to 2029.
_FIRST_BIRTH_DATE = date(1966, 1, 1)
_BIRTH_DAYS = (date(2005, 12, 31) - _FIRST_BIRTH_DATE).days + 1  # 14,610 = 2 * 3 * 5 * 487
# Prime, not a factor of _BIRTH_DAYS: consecutive people are born years apart, and the
# first _BIRTH_DAYS people all on different days.
_STRIDE = 7919
_FIRST_KK_DATE = date(1986, 1, 1)
_SERIALS = 9999  # a NIK's serial runs 0001-9999 within its district and birth date


@dataclass(frozen=True)
class Person:
    index: int
    nik: str
    kk_number: str
    full_name: str
    date_of_birth: date
    gender: str
    phone: str
    province_code: str
    regency_code: str
    education_level: str
    employment_status: str

    account_email: str  # the account the person signs up with

    def resident(self) -> dict[str, Any]:
        """What the civil registry knows of the person (`POST /_local/population`)."""
        return {
            "nik": self.nik,
            "kk_number": self.kk_number,
            "full_name": self.full_name,
            "date_of_birth": self.date_of_birth.isoformat(),
            "gender": self.gender,
        }

    def registration(self) -> dict[str, Any]:
        """The body of `POST /v1/applicants`: domicile where the NIK was issued."""
        return self.resident() | {
            "phone": self.phone,
            "email": self.account_email,
            "province_code": self.province_code,
            "regency_code": self.regency_code,
            "education_level": self.education_level,
            "employment_status": self.employment_status,
        }


class Population:
    """Everyone a run may register: `person(i)` for i = 0, 1, 2, ..."""

    def __init__(self, seed: str) -> None:
        self.seed = seed
        self._birth_offset = random.Random(f"{seed}/births").randrange(_BIRTH_DAYS)

    def person(self, index: int) -> Person:
        if index < 0 or index >= _SERIALS * _BIRTH_DAYS:
            raise ValueError(f"index {index} is outside the population")
        rng = random.Random(f"{self.seed}/{index}")  # a str seed hashes the same in every process
        gender = rng.choice("MF")
        # index <-> (birth date, serial) is one-to-one: no two people share a NIK.
        serial, day = divmod(index, _BIRTH_DAYS)
        born = _FIRST_BIRTH_DATE + timedelta(days=(day * _STRIDE + self._birth_offset) % _BIRTH_DAYS)
        province = _weighted(rng, PROVINCE_WEIGHTS)
        # Kabupaten 01-69 or kota 71-79; the district (kecamatan) within it.
        regency = f"{province}{rng.choice([*range(1, 21), *range(71, 76)]):02d}"
        district = f"{rng.randint(1, 30):02d}"
        day = born.day + 40 if gender == "F" else born.day
        nik = f"{regency}{district}{day:02d}{born.month:02d}{born.year % 100:02d}{serial + 1:04d}"
        # The family card's issue date (1986-2025) is as unique as the birth date.
        issued = _FIRST_KK_DATE + (born - _FIRST_BIRTH_DATE)
        kk_number = f"{regency}{district}{issued:%d%m%y}{serial + 1:04d}"
        first = rng.choice(_WOMEN if gender == "F" else _MEN)
        account = hashlib.sha256(f"{self.seed}/{index}".encode()).hexdigest()[:16]
        return Person(
            index=index,
            account_email=f"lt-{account}@example.com",
            nik=nik,
            kk_number=kk_number,
            full_name=f"{first} {rng.choice(_FAMILY)}",
            date_of_birth=born,
            gender=gender,
            phone=f"08{rng.choice('1235789')}{rng.randrange(10**9):09d}",
            province_code=province,
            regency_code=regency,
            education_level=_weighted(rng, _EDUCATION),
            employment_status=_weighted(rng, _EMPLOYMENT),
        )


def _weighted(rng: random.Random, weights: dict[str, int]) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Write synthetic residents (JSON lines) for a civil-registry sandbox.")
    parser.add_argument("--seed", required=True, help="the LOADTEST_SEED of the runs that will register them")
    parser.add_argument("--first", type=int, default=0, help="first index (LOADTEST_FIRST_PERSON of the run)")
    parser.add_argument("--count", type=int, required=True)
    args = parser.parse_args(argv)
    population = Population(args.seed)
    for index in range(args.first, args.first + args.count):
        sys.stdout.write(json.dumps(population.person(index).resident()) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
