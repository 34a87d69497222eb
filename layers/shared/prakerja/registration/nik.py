"""The NIK (Nomor Induk Kependudukan), the 16-digit civil registry number on the KTP.

Layout: PP RR DD ddmmyy SSSS - province, regency, district (kecamatan) where it was issued,
date of birth with 40 added to the day for women, and a serial within that district and date.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Literal

from prakerja.errors import FieldError, ValidationFailed
from prakerja.registration.regions import is_known_province

NIK_LENGTH = 16
_FEMALE_DAY_OFFSET = 40

NIK_INVALID = "NIK_INVALID"
NIK_PROVINCE_UNKNOWN = "NIK_PROVINCE_UNKNOWN"
NIK_BIRTH_DATE_INVALID = "NIK_BIRTH_DATE_INVALID"
NIK_BIRTH_DATE_MISMATCH = "NIK_BIRTH_DATE_MISMATCH"
NIK_GENDER_MISMATCH = "NIK_GENDER_MISMATCH"


class NikError(ValidationFailed, ValueError):
    """A NIK that cannot exist. Also a ``ValidationFailed`` so that one escaping a service
    still becomes a 422 with its code, and a ``ValueError`` for plain callers."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(code, message, [FieldError(field="nik", message=message, code=code)])
        self.message = message


@dataclass(frozen=True)
class NikInfo:
    """What a NIK says. Codes are hierarchical: regency "3201" lies in province "32"."""

    province_code: str
    regency_code: str
    district_code: str
    birth_day: int
    birth_month: int
    birth_year_2digits: int
    gender: Literal["M", "F"]
    serial: int

    def is_born_on(self, date_of_birth: date) -> bool:
        """Whether ``date_of_birth`` agrees with the NIK (which holds only the year's last two digits)."""
        return (date_of_birth.day, date_of_birth.month, date_of_birth.year % 100) == (
            self.birth_day,
            self.birth_month,
            self.birth_year_2digits,
        )


def is_nik_shaped(value: str) -> bool:
    # isdigit() alone would accept Arabic-Indic and other Unicode digits.
    return len(value) == NIK_LENGTH and value.isascii() and value.isdigit()


def _is_real_birth_date(day: int, month: int, year_2digits: int) -> bool:
    # The NIK carries no century: a date is real if it exists in 19yy or 20yy. That only
    # matters for 29 February (29/02/00 is real: 2000 was a leap year).
    for century in (1900, 2000):
        try:
            date(century + year_2digits, month, day)
        except ValueError:
            continue
        return True
    return False


def parse_nik(nik: str) -> NikInfo:
    """Parse and check a NIK. Raises ``NikError`` with NIK_INVALID, NIK_PROVINCE_UNKNOWN or
    NIK_BIRTH_DATE_INVALID."""
    if not is_nik_shaped(nik):
        raise NikError(NIK_INVALID, "NIK must be exactly 16 digits")
    serial = int(nik[12:16])
    if serial == 0:
        raise NikError(NIK_INVALID, "NIK serial number cannot be 0000")
    province_code = nik[0:2]
    if not is_known_province(province_code):
        raise NikError(NIK_PROVINCE_UNKNOWN, "NIK digits 1-2 are not a province code")
    coded_day, month, year_2digits = int(nik[6:8]), int(nik[8:10]), int(nik[10:12])
    gender: Literal["M", "F"] = "F" if coded_day > _FEMALE_DAY_OFFSET else "M"
    day = coded_day - _FEMALE_DAY_OFFSET if gender == "F" else coded_day
    if not _is_real_birth_date(day, month, year_2digits):
        raise NikError(NIK_BIRTH_DATE_INVALID, "NIK digits 7-12 are not a real date of birth")
    return NikInfo(
        province_code=province_code,
        regency_code=nik[0:4],
        district_code=nik[0:6],
        birth_day=day,
        birth_month=month,
        birth_year_2digits=year_2digits,
        gender=gender,
        serial=serial,
    )


def nik_matches(nik_info: NikInfo, date_of_birth: date, gender: str) -> list[str]:
    """Mismatch codes between the NIK and a declared date of birth and gender ("M"/"F");
    empty when they agree. Only the last two digits of the year can be compared."""
    mismatches: list[str] = []
    if not nik_info.is_born_on(date_of_birth):
        mismatches.append(NIK_BIRTH_DATE_MISMATCH)
    if gender != nik_info.gender:
        mismatches.append(NIK_GENDER_MISMATCH)
    return mismatches
