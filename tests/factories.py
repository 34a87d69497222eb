"""Builders of valid test data shared by unit, integration and e2e tests."""

from __future__ import annotations

from datetime import date
from typing import Any

DEFAULT_DATE_OF_BIRTH = date(1995, 5, 17)


def build_nik(
    province: str = "32",
    regency: str = "01",
    district: str = "23",
    *,
    dob: date = DEFAULT_DATE_OF_BIRTH,
    gender: str = "M",
    serial: int = 1,
) -> str:
    """A NIK encoding these parts; women get 40 added to the day of birth."""
    day = dob.day + 40 if gender == "F" else dob.day
    return f"{province}{regency}{district}{day:02d}{dob.month:02d}{dob.year % 100:02d}{serial:04d}"


def build_kk(province: str = "32", serial: int = 1) -> str:
    """A KK number: region (province, regency, district), issue date DDMMYY, serial."""
    return f"{province}0123150120{serial:04d}"


def valid_registration(**overrides: Any) -> dict[str, Any]:
    """A valid ``POST /v1/applicants`` JSON body.

    Unless ``nik`` is overridden, the NIK is built from the final ``date_of_birth`` and
    ``gender``, so ``valid_registration(gender="F")`` stays valid. Overriding
    ``province_code`` alone moves ``regency_code`` to that province's "01".
    """
    body: dict[str, Any] = {
        "kk_number": build_kk(),
        "full_name": "Budi Santoso",
        "date_of_birth": DEFAULT_DATE_OF_BIRTH.isoformat(),
        "gender": "M",
        "phone": "081234567890",
        "email": "budi.santoso@example.com",
        "province_code": "32",
        "regency_code": "3273",
        "education_level": "SMA",
        "employment_status": "UNEMPLOYED",
    }
    if "province_code" in overrides and "regency_code" not in overrides:
        body["regency_code"] = f"{overrides['province_code']}01"
    body.update(overrides)
    if isinstance(body["date_of_birth"], date):
        body["date_of_birth"] = body["date_of_birth"].isoformat()
    if "nik" not in overrides:
        try:
            dob = date.fromisoformat(body["date_of_birth"])
        except (TypeError, ValueError):  # a test of a bad date_of_birth still gets a valid NIK
            dob = DEFAULT_DATE_OF_BIRTH
        body["nik"] = build_nik(dob=dob, gender=body["gender"])
    # The API's field order, for readable request logs.
    order = ["nik", "kk_number", "full_name", "date_of_birth", "gender", "phone", "email"]
    return {key: body[key] for key in order} | {k: v for k, v in body.items() if k not in order}
