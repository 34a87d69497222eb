"""Vocabulary of registration and the request models validated at the API edge.

Validators raise ``PydanticCustomError`` whose ``type`` is the stable API error code (e.g.
``NIK_INVALID``), so the HTTP layer can pass codes through without a translation table.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime, timedelta, timezone
from enum import StrEnum
from typing import Annotated, Any, Final

from pydantic import BaseModel, ConfigDict, Field, StrictStr, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

from prakerja.clock import IsoDate
from prakerja.registration.nik import NikError, NikInfo, parse_nik
from prakerja.registration.regions import is_known_province, is_regency_shaped, is_valid_regency


class Gender(StrEnum):
    M = "M"
    F = "F"


class ApplicantStatus(StrEnum):
    VERIFYING = "VERIFYING"
    VERIFIED = "VERIFIED"
    REJECTED = "REJECTED"
    IN_WAVE = "IN_WAVE"
    NOT_SELECTED = "NOT_SELECTED"
    SELECTED = "SELECTED"
    REVOKED = "REVOKED"


class RejectionReason(StrEnum):
    """Declaration order is the order in which screening reports reasons."""

    NIK_NOT_FOUND = "NIK_NOT_FOUND"
    IDENTITY_MISMATCH = "IDENTITY_MISMATCH"
    UNDERAGE = "UNDERAGE"
    OVERAGE = "OVERAGE"
    IN_FORMAL_EDUCATION = "IN_FORMAL_EDUCATION"
    EXCLUDED_OCCUPATION = "EXCLUDED_OCCUPATION"
    KK_LIMIT_REACHED = "KK_LIMIT_REACHED"
    PREVIOUS_RECIPIENT = "PREVIOUS_RECIPIENT"
    BLACKLISTED = "BLACKLISTED"
    OTHER_ASSISTANCE = "OTHER_ASSISTANCE"


class ExclusionSource(StrEnum):
    """Lists imported from agencies. PRIORITY is not an exclusion: it is drawn first."""

    ASN = "ASN"
    TNI = "TNI"
    POLRI = "POLRI"
    VILLAGE_OFFICIAL = "VILLAGE_OFFICIAL"
    STATE_OFFICIAL = "STATE_OFFICIAL"
    DPR_DPRD = "DPR_DPRD"
    BUMN_EXECUTIVE = "BUMN_EXECUTIVE"
    FORMAL_EDUCATION = "FORMAL_EDUCATION"
    OTHER_ASSISTANCE = "OTHER_ASSISTANCE"
    PRIORITY = "PRIORITY"

    @property
    def is_occupation(self) -> bool:
        return self in OCCUPATION_SOURCES


# Internal lists kept beside the agencies' lists, in the same table.
PREVIOUS_RECIPIENTS: Final = "RECIPIENT"
BLACKLIST: Final = "BLACKLIST"

# Sources whose presence means an excluded occupation (EXCLUDED_OCCUPATION).
OCCUPATION_SOURCES: Final[frozenset[ExclusionSource]] = frozenset(
    set(ExclusionSource)
    - {ExclusionSource.FORMAL_EDUCATION, ExclusionSource.OTHER_ASSISTANCE, ExclusionSource.PRIORITY}
)


def is_occupation_source(source: ExclusionSource) -> bool:
    return source in OCCUPATION_SOURCES


class EducationLevel(StrEnum):
    NONE = "NONE"
    SD = "SD"
    SMP = "SMP"
    SMA = "SMA"
    SMK = "SMK"
    D1 = "D1"
    D2 = "D2"
    D3 = "D3"
    D4 = "D4"
    S1 = "S1"
    S2 = "S2"
    S3 = "S3"


class EmploymentStatus(StrEnum):
    UNEMPLOYED = "UNEMPLOYED"
    LAID_OFF = "LAID_OFF"
    EMPLOYED = "EMPLOYED"
    SELF_EMPLOYED = "SELF_EMPLOYED"
    STUDENT = "STUDENT"


# "Future" is judged in WIT (UTC+9), the easternmost Indonesian zone, so that nobody born
# today anywhere in Indonesia is told their birth date lies in the future.
_WIT = timezone(timedelta(hours=9), "WIT")
_EARLIEST_BIRTH_YEAR = 1900  # NIKs only encode 19yy and 20yy.

# [0-9], not \d: \d also matches Arabic-Indic and other digits that int() happily reads.
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_KK_LENGTH = 16
# Starts with a letter; a trailing dot is fine ("Budi S."), a trailing apostrophe or hyphen is not.
_NAME = re.compile(r"[^\W\d_](?:[^\W\d_]|[ '.\-])*")
_NAME_MIN, _NAME_MAX = 2, 100
_PHONE = re.compile(r"(?:0|\+62)(8[0-9]{8,11})")
_PHONE_SEPARATORS = re.compile(r"[ \-]")
_EMAIL_MAX = 254
_EMAIL = re.compile(
    r"(?=[^@]{1,64}@)[a-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z](?:[a-z0-9-]{0,61}[a-z0-9])"
)


def today_in_indonesia() -> date:
    return datetime.now(_WIT).date()


def _nik_of(info: ValidationInfo) -> NikInfo | None:
    nik = info.data.get("nik")
    return parse_nik(nik) if isinstance(nik, str) else None


class RegistrationRequest(BaseModel):
    """Body of ``POST /v1/applicants``. Strings are strict: a NIK sent as a JSON number is a
    type error rather than silently becoming a string.

    Pass ``context={"today": date}`` to ``model_validate`` to pin the clock in tests."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    # Declaration order matters: cross-field checks read earlier fields from ``info.data``.
    nik: StrictStr
    kk_number: StrictStr
    full_name: StrictStr
    date_of_birth: IsoDate
    gender: Gender
    phone: StrictStr
    email: StrictStr
    province_code: StrictStr
    regency_code: StrictStr
    education_level: EducationLevel
    employment_status: EmploymentStatus

    @field_validator("nik")
    @classmethod
    def _check_nik(cls, value: str) -> str:
        try:
            parse_nik(value)
        except NikError as error:
            raise PydanticCustomError(error.code, error.message) from None
        return value

    @field_validator("kk_number")
    @classmethod
    def _check_kk(cls, value: str) -> str:
        # A KK (Kartu Keluarga) number has the NIK's shape: region, issue date, serial.
        if not (len(value) == _KK_LENGTH and value.isascii() and value.isdigit()):
            raise PydanticCustomError("KK_INVALID", "KK number must be exactly 16 digits")
        if not is_known_province(value[:2]):
            raise PydanticCustomError("KK_INVALID", "KK number does not start with a province code")
        return value

    @field_validator("full_name")
    @classmethod
    def _check_name(cls, value: str) -> str:
        # NFC so that an accented letter typed as letter + combining mark is still a letter;
        # iOS keyboards type a typographic apostrophe.
        name = re.sub(" +", " ", unicodedata.normalize("NFC", value).replace("\u2019", "'"))
        if not _NAME_MIN <= len(name) <= _NAME_MAX or not _NAME.fullmatch(name) or name[-1] in " '-":
            raise PydanticCustomError(
                "NAME_INVALID",
                "Full name must be 2-100 letters, spaces, apostrophes, dots or hyphens",
            )
        return name

    @field_validator("date_of_birth", mode="before")
    @classmethod
    def _check_date_format(cls, value: Any) -> Any:
        # Only "YYYY-MM-DD": lax pydantic would also take a number as a unix timestamp.
        if isinstance(value, datetime) or not isinstance(value, str | date):
            raise PydanticCustomError("DATE_OF_BIRTH_INVALID", "Date of birth must be a YYYY-MM-DD string")
        if isinstance(value, str):
            try:
                if not _ISO_DATE.fullmatch(value):
                    raise ValueError(value)
                return date.fromisoformat(value)
            except ValueError:
                raise PydanticCustomError(
                    "DATE_OF_BIRTH_INVALID", "Date of birth must be a real date as YYYY-MM-DD"
                ) from None
        return value

    @field_validator("date_of_birth")
    @classmethod
    def _check_date_of_birth(cls, value: date, info: ValidationInfo) -> date:
        pinned = info.context.get("today") if isinstance(info.context, dict) else None
        today = pinned if isinstance(pinned, date) else today_in_indonesia()
        if value > today or value.year < _EARLIEST_BIRTH_YEAR:
            raise PydanticCustomError("DATE_OF_BIRTH_INVALID", "Date of birth is not plausible")
        nik_info = _nik_of(info)
        if nik_info is not None and not nik_info.is_born_on(value):
            raise PydanticCustomError("NIK_BIRTH_DATE_MISMATCH", "Date of birth does not match digits 7-12 of the NIK")
        return value

    @field_validator("gender")
    @classmethod
    def _check_gender(cls, value: Gender, info: ValidationInfo) -> Gender:
        nik_info = _nik_of(info)
        if nik_info is not None and nik_info.gender != value:
            raise PydanticCustomError(
                "NIK_GENDER_MISMATCH", "Gender does not match the NIK (women have 40 added to the day)"
            )
        return value

    @field_validator("phone")
    @classmethod
    def _normalise_phone(cls, value: str) -> str:
        match = _PHONE.fullmatch(_PHONE_SEPARATORS.sub("", value))
        if match is None:
            raise PydanticCustomError("PHONE_INVALID", "Phone must be an Indonesian mobile number: 08... or +628...")
        return f"+62{match.group(1)}"

    @field_validator("email")
    @classmethod
    def _normalise_email(cls, value: str) -> str:
        email = value.lower()
        # isascii first: lower() maps some non-ASCII letters (the Kelvin sign) into ASCII.
        if not value.isascii() or len(email) > _EMAIL_MAX or not _EMAIL.fullmatch(email):
            raise PydanticCustomError("EMAIL_INVALID", "Email address is not valid")
        return email

    @field_validator("province_code")
    @classmethod
    def _check_province(cls, value: str) -> str:
        if not is_known_province(value):
            raise PydanticCustomError("PROVINCE_UNKNOWN", "Province code is not an Indonesian province")
        return value

    @field_validator("regency_code")
    @classmethod
    def _check_regency(cls, value: str, info: ValidationInfo) -> str:
        province = info.data.get("province_code")
        # With an invalid province only the shape can be checked; PROVINCE_UNKNOWN says the rest.
        if not (is_valid_regency(province, value) if province else is_regency_shaped(value)):
            raise PydanticCustomError("REGENCY_INVALID", "Regency code must be a regency or city of the given province")
        return value

    @property
    def nik_info(self) -> NikInfo:
        return parse_nik(self.nik)


FIELD_ORDER: Final[tuple[str, ...]] = tuple(RegistrationRequest.model_fields)


AnswerId = Annotated[StrictStr, Field(min_length=1, max_length=64)]


class AnswerItem(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)

    question_id: AnswerId
    option_id: AnswerId


class AssessmentSubmission(BaseModel):
    """Body of ``POST /v1/applicants/me/assessment``."""

    model_config = ConfigDict(extra="forbid")

    answers: Annotated[list[AnswerItem], Field(min_length=1, max_length=100)]
