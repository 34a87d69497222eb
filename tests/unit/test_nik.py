from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from prakerja.errors import ValidationFailed
from prakerja.registration.nik import NikError, NikInfo, nik_matches, parse_nik
from prakerja.registration.regions import PROVINCES
from tests.unit.nik_factory import build_nik


def error_code(nik: str) -> str:
    with pytest.raises(NikError) as caught:
        parse_nik(nik)
    return caught.value.code


def test_a_mans_nik_parses_into_its_parts() -> None:
    info = parse_nik("3273012305950042")

    assert info == NikInfo(
        province_code="32",
        regency_code="3273",
        district_code="327301",
        birth_day=23,
        birth_month=5,
        birth_year_2digits=95,
        gender="M",
        serial=42,
    )


def test_a_womans_nik_has_forty_added_to_the_day() -> None:
    info = parse_nik("3273016305950042")  # 63 = 23 + 40

    assert (info.gender, info.birth_day, info.birth_month, info.birth_year_2digits) == ("F", 23, 5, 95)


@pytest.mark.parametrize(
    ("coded_day", "gender", "day"), [("01", "M", 1), ("31", "M", 31), ("41", "F", 1), ("71", "F", 31)]
)
def test_the_extreme_days_of_each_gender_are_valid(coded_day: str, gender: str, day: int) -> None:
    info = parse_nik(f"320123{coded_day}0190" + "0001")

    assert (info.gender, info.birth_day) == (gender, day)


@pytest.mark.parametrize(
    "nik",
    [
        "",
        "320123170595001",  # 15 digits
        "32012317059500011",  # 17 digits
        "3201231705950O01",  # letter O for zero
        "32012317 5950001",
        " 3201231705950001",
        "320123170595000a",
        "+201231705950001",
        "".join(chr(0xFF10 + int(d)) for d in "3201231705950001"),  # full-width digits
        "".join(chr(0x0660 + int(d)) for d in "3201231705950001"),  # Arabic-Indic digits
        "3201231705950000",  # serial 0000
    ],
)
def test_a_nik_that_is_not_sixteen_ascii_digits_with_a_serial_is_invalid(nik: str) -> None:
    assert error_code(nik) == "NIK_INVALID"


@pytest.mark.parametrize("province", ["00", "10", "20", "37", "54", "66", "77", "90", "97", "99"])
def test_a_nik_from_an_unknown_province_is_rejected(province: str) -> None:
    assert error_code(build_nik(province=province)) == "NIK_PROVINCE_UNKNOWN"


@pytest.mark.parametrize("province", ["11", "31", "65", "91", "92", "93", "94", "95", "96"])
def test_niks_of_every_province_including_the_new_papua_ones_parse(province: str) -> None:
    assert parse_nik(build_nik(province=province)).province_code == province


@pytest.mark.parametrize(
    "ddmmyy",
    [
        "310295",  # 31 February
        "300295",
        "710295",  # 31 February, woman
        "290201",  # 29 February of a common year in both centuries
        "690201",
        "000195",  # day 0
        "320195",  # neither a man's day nor a woman's
        "400195",
        "720195",  # 32 for a woman
        "990195",
        "150095",  # month 0
        "151395",  # month 13
        "310495",  # 31 April
        "710495",
    ],
)
def test_digits_seven_to_twelve_must_be_a_real_date(ddmmyy: str) -> None:
    assert error_code(f"320123{ddmmyy}0001") == "NIK_BIRTH_DATE_INVALID"


@pytest.mark.parametrize("ddmmyy", ["290200", "690200", "290204", "690296", "290296"])
def test_29_february_is_valid_when_the_year_is_a_leap_year_in_some_century(ddmmyy: str) -> None:
    info = parse_nik(f"320123{ddmmyy}0001")

    assert (info.birth_day, info.birth_month) == (29, 2)


def test_the_format_is_checked_before_the_province_and_the_date() -> None:
    assert error_code("9901239902950000") == "NIK_INVALID"
    assert error_code("9901239902950001") == "NIK_PROVINCE_UNKNOWN"


def test_a_nik_error_is_a_value_error_and_a_422_with_its_field() -> None:
    with pytest.raises(NikError) as caught:
        parse_nik("123")

    error = caught.value
    assert isinstance(error, ValueError)
    assert isinstance(error, ValidationFailed)
    assert error.status == 422
    assert [(e.field, e.code) for e in error.errors] == [("nik", "NIK_INVALID")]
    assert error.message == str(error)


def test_a_matching_birth_date_and_gender_have_no_mismatch() -> None:
    info = parse_nik(build_nik(dob=date(1990, 1, 9), gender="F"))

    assert nik_matches(info, date(1990, 1, 9), "F") == []


@pytest.mark.parametrize("declared", [date(1990, 1, 10), date(1990, 2, 9), date(1991, 1, 9), date(1980, 1, 9)])
def test_any_other_birth_date_is_a_mismatch(declared: date) -> None:
    info = parse_nik(build_nik(dob=date(1990, 1, 9)))

    assert nik_matches(info, declared, "M") == ["NIK_BIRTH_DATE_MISMATCH"]


def test_the_nik_cannot_tell_the_century() -> None:
    info = parse_nik(build_nik(dob=date(1990, 1, 9)))

    assert nik_matches(info, date(2090, 1, 9), "M") == []


def test_the_other_gender_is_a_mismatch_and_both_are_reported() -> None:
    info = parse_nik(build_nik(dob=date(1990, 1, 9), gender="M"))

    assert nik_matches(info, date(1990, 1, 9), "F") == ["NIK_GENDER_MISMATCH"]
    assert nik_matches(info, date(1990, 1, 8), "F") == ["NIK_BIRTH_DATE_MISMATCH", "NIK_GENDER_MISMATCH"]


def test_a_woman_whose_day_was_not_offset_reads_as_a_man() -> None:
    """The classic registration error: a woman typing her birth date as the NIK's day."""
    womans_nik_without_offset = build_nik(dob=date(1990, 1, 9), gender="M")

    assert nik_matches(parse_nik(womans_nik_without_offset), date(1990, 1, 9), "F") == ["NIK_GENDER_MISMATCH"]


@given(
    dob=st.dates(min_value=date(1900, 1, 1), max_value=date(2099, 12, 31)),
    gender=st.sampled_from(["M", "F"]),
    province=st.sampled_from(sorted(PROVINCES)),
    serial=st.integers(min_value=1, max_value=9999),
)
def test_a_nik_built_from_a_date_and_gender_parses_back_to_them(
    dob: date, gender: str, province: str, serial: int
) -> None:
    info = parse_nik(build_nik(province=province, dob=dob, gender=gender, serial=serial))

    assert (info.birth_day, info.birth_month, info.birth_year_2digits) == (dob.day, dob.month, dob.year % 100)
    assert (info.gender, info.province_code, info.serial) == (gender, province, serial)
    assert nik_matches(info, dob, gender) == []


@given(st.text(max_size=20))
def test_any_text_either_parses_or_raises_a_nik_error(text: str) -> None:
    try:
        info = parse_nik(text)
    except NikError as error:
        assert error.code in {"NIK_INVALID", "NIK_PROVINCE_UNKNOWN", "NIK_BIRTH_DATE_INVALID"}
    else:
        assert len(text) == 16
        assert text.isascii()
        assert info.province_code in PROVINCES
