from __future__ import annotations

import json
from datetime import date
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from prakerja.registration.models import (
    FIELD_ORDER,
    OCCUPATION_SOURCES,
    AnswerItem,
    AssessmentSubmission,
    EducationLevel,
    EmploymentStatus,
    ExclusionSource,
    Gender,
    RegistrationRequest,
    is_occupation_source,
)
from prakerja.registration.regions import PROVINCES, is_known_province, is_valid_regency
from tests.unit.nik_factory import build_kk, build_nik, valid_registration

TODAY = date(2026, 11, 22)


def validate(body: dict[str, Any]) -> RegistrationRequest:
    return RegistrationRequest.model_validate(body, context={"today": TODAY})


def errors_of(body: dict[str, Any]) -> dict[str, str]:
    """Field -> error type (the stable code) of an invalid body."""
    with pytest.raises(ValidationError) as caught:
        validate(body)
    return {".".join(str(part) for part in error["loc"]): error["type"] for error in caught.value.errors()}


# Regions


def test_there_are_38_provinces_by_kemendagri_code() -> None:
    assert len(PROVINCES) == 38
    assert PROVINCES["31"] == "DKI Jakarta"
    assert PROVINCES["32"] == "Jawa Barat"
    assert {code: PROVINCES[code] for code in ("91", "92", "93", "94", "95", "96")} == {
        "91": "Papua",
        "92": "Papua Barat",
        "93": "Papua Selatan",
        "94": "Papua Tengah",
        "95": "Papua Pegunungan",
        "96": "Papua Barat Daya",
    }
    assert all(len(code) == 2 and code.isdigit() for code in PROVINCES)


def test_known_provinces() -> None:
    assert is_known_province("11")
    assert not is_known_province("20")
    assert not is_known_province("032")
    assert not is_known_province("")


@pytest.mark.parametrize("regency", ["3201", "3218", "3269", "3271", "3273", "3279", "9101", "9171"])
def test_kabupaten_and_kota_codes_of_the_province_are_valid(regency: str) -> None:
    assert is_valid_regency(regency[:2], regency)


@pytest.mark.parametrize(
    ("province", "regency"),
    [
        ("32", "3100"),
        ("32", "3171"),  # Jakarta's, not Jawa Barat's
        ("32", "3200"),
        ("32", "3270"),
        ("32", "3280"),
        ("32", "3299"),
        ("32", "327"),
        ("32", "32731"),
        ("32", "32a1"),
        ("20", "2001"),  # unknown province
    ],
)
def test_other_regency_codes_are_invalid(province: str, regency: str) -> None:
    assert not is_valid_regency(province, regency)


# The whole request


def test_a_valid_registration_is_accepted_and_normalised() -> None:
    request = validate(valid_registration(phone="0812-3456-7890", email="  Budi.Santoso@Example.COM "))

    assert request.nik == build_nik()
    assert request.kk_number == build_kk()
    assert request.full_name == "Budi Santoso"
    assert request.date_of_birth == date(1995, 5, 17)
    assert request.gender is Gender.M
    assert request.phone == "+6281234567890"
    assert request.email == "budi.santoso@example.com"
    assert (request.province_code, request.regency_code) == ("32", "3273")
    assert request.education_level is EducationLevel.SMA
    assert request.employment_status is EmploymentStatus.UNEMPLOYED
    assert request.nik_info.gender == "M"


def test_a_valid_registration_is_accepted_from_raw_json() -> None:
    request = RegistrationRequest.model_validate_json(
        json.dumps(valid_registration(gender="F")), context={"today": TODAY}
    )

    assert request.gender is Gender.F


def test_fields_are_in_the_api_order() -> None:
    assert FIELD_ORDER == (
        "nik",
        "kk_number",
        "full_name",
        "date_of_birth",
        "gender",
        "phone",
        "email",
        "province_code",
        "regency_code",
        "education_level",
        "employment_status",
    )


def test_a_woman_registers_with_forty_added_to_her_nik_day() -> None:
    body = valid_registration(gender="F", date_of_birth="1990-08-09")

    assert body["nik"][6:12] == "490890"
    assert validate(body).gender is Gender.F


def test_surrounding_whitespace_is_stripped() -> None:
    body = valid_registration()
    body["nik"] = f"  {body['nik']} "
    body["full_name"] = "  Budi   Santoso "

    request = validate(body)

    assert request.nik == build_nik()
    assert request.full_name == "Budi Santoso"


@pytest.mark.parametrize("field", ["nik", "kk_number", "phone", "province_code", "regency_code"])
def test_numbers_are_not_coerced_into_strings(field: str) -> None:
    body = valid_registration()
    body[field] = int(body[field])

    assert errors_of(body) == {field: "string_type"}


def test_a_nik_sent_as_a_json_number_is_a_type_error() -> None:
    body = valid_registration()
    raw = json.dumps(body).replace(f'"{body["nik"]}"', body["nik"])

    with pytest.raises(ValidationError) as caught:
        RegistrationRequest.model_validate_json(raw, context={"today": TODAY})

    assert [(e["loc"], e["type"]) for e in caught.value.errors()] == [(("nik",), "string_type")]


def test_unknown_fields_are_forbidden() -> None:
    assert errors_of(valid_registration(is_admin=True)) == {"is_admin": "extra_forbidden"}


def test_missing_fields_are_each_reported() -> None:
    body = valid_registration()
    del body["nik"], body["email"]

    assert errors_of(body) == {"nik": "missing", "email": "missing"}


# NIK


@pytest.mark.parametrize(
    ("nik", "code"),
    [
        ("320123170595001", "NIK_INVALID"),
        ("32012317059500011", "NIK_INVALID"),
        ("3201231705950O01", "NIK_INVALID"),
        ("3201231705950000", "NIK_INVALID"),
        ("2001231705950001", "NIK_PROVINCE_UNKNOWN"),
        ("3201233102950001", "NIK_BIRTH_DATE_INVALID"),
    ],
)
def test_an_impossible_nik_is_rejected_with_its_code(nik: str, code: str) -> None:
    assert errors_of(valid_registration(nik=nik)) == {"nik": code}


def test_a_birth_date_that_contradicts_the_nik_is_a_mismatch() -> None:
    body = valid_registration(nik=build_nik(dob=date(1995, 5, 17)), date_of_birth="1995-05-18")

    assert errors_of(body) == {"date_of_birth": "NIK_BIRTH_DATE_MISMATCH"}


def test_a_gender_that_contradicts_the_nik_is_a_mismatch() -> None:
    body = valid_registration(nik=build_nik(gender="M"), gender="F")

    assert errors_of(body) == {"gender": "NIK_GENDER_MISMATCH"}


def test_both_contradictions_are_reported_together() -> None:
    body = valid_registration(nik=build_nik(dob=date(1995, 5, 17), gender="F"), date_of_birth="1995-05-18")

    assert errors_of(body) == {"date_of_birth": "NIK_BIRTH_DATE_MISMATCH", "gender": "NIK_GENDER_MISMATCH"}


def test_no_mismatch_is_claimed_against_an_invalid_nik() -> None:
    body = valid_registration(nik="12345", date_of_birth="1980-01-01", gender="F")

    assert errors_of(body) == {"nik": "NIK_INVALID"}


def test_no_mismatch_is_claimed_for_an_invalid_gender() -> None:
    assert errors_of(valid_registration(nik=build_nik(), gender="X")) == {"gender": "enum"}


def test_mismatches_are_reported_along_with_other_field_errors() -> None:
    body = valid_registration(nik=build_nik(gender="M"), gender="F", phone="12345")

    assert errors_of(body) == {"gender": "NIK_GENDER_MISMATCH", "phone": "PHONE_INVALID"}


def test_the_nik_and_domicile_provinces_may_differ() -> None:
    """A NIK keeps the region where it was issued; people move."""
    assert validate(valid_registration(nik=build_nik(province="11"))).province_code == "32"


# KK


@pytest.mark.parametrize("kk", ["320123150120001", "32012315012000011", "32O1231501200001", "2001231501200001", ""])
def test_a_kk_number_must_be_sixteen_digits_starting_with_a_province(kk: str) -> None:
    assert errors_of(valid_registration(kk_number=kk)) == {"kk_number": "KK_INVALID"}


# Name


@pytest.mark.parametrize(
    "name",
    [
        "Budi",
        "Siti Nurhaliza",
        "Ni Luh Putu Ayu",
        "M. Rizky",
        "Jean-Pierre",
        "Ma'ruf Amin",
        "O\u2019Brien",
        "Zoë",
        "Yo",
        "Budi S.",
    ],
)
def test_names_of_letters_spaces_apostrophes_dots_and_hyphens_are_valid(name: str) -> None:
    assert validate(valid_registration(full_name=name)).full_name == name.replace("\u2019", "'")


@pytest.mark.parametrize(
    "name",
    [
        "B",
        "",
        "   ",
        "Budi 2",
        "Budi_Santoso",
        "Budi\tSantoso",
        "Budi\nSantoso",
        "-Budi",
        ".Budi",
        "Budi 😀",
        "x" * 101,
        "Budi@Santoso",
        "Budi-",
        "Budi '",
    ],
)
def test_other_names_are_invalid(name: str) -> None:
    assert errors_of(valid_registration(full_name=name)) == {"full_name": "NAME_INVALID"}


def test_a_name_of_100_letters_is_the_longest_valid() -> None:
    assert len(validate(valid_registration(full_name="a" * 100)).full_name) == 100


# Date of birth


@pytest.mark.parametrize(
    "value",
    [
        "1995-02-31",
        "-".join("".join(chr(0x0660 + int(d)) for d in part) for part in ("1995", "05", "17")),
        "17-05-1995",
        "1995/05/17",
        "19950517",
        "1995-05-17T00:00:00",
        "",
        800668800,
        None,
        True,
    ],
)
def test_a_birth_date_must_be_a_real_yyyy_mm_dd_date(value: object) -> None:
    body = valid_registration()
    body["date_of_birth"] = value

    assert errors_of(body) == {"date_of_birth": "DATE_OF_BIRTH_INVALID"}


def test_a_birth_date_in_the_future_is_invalid() -> None:
    tomorrow = date(2026, 11, 23)

    assert errors_of(valid_registration(date_of_birth=tomorrow.isoformat())) == {
        "date_of_birth": "DATE_OF_BIRTH_INVALID"
    }
    assert validate(valid_registration(date_of_birth=TODAY.isoformat())).date_of_birth == TODAY


def test_a_birth_date_before_1900_is_invalid() -> None:
    assert errors_of(valid_registration(date_of_birth="1899-12-31")) == {"date_of_birth": "DATE_OF_BIRTH_INVALID"}


def test_without_a_pinned_clock_the_real_date_decides_the_future() -> None:
    body = valid_registration(date_of_birth="2999-01-01")

    with pytest.raises(ValidationError) as caught:
        RegistrationRequest.model_validate(body)

    assert caught.value.errors()[0]["type"] == "DATE_OF_BIRTH_INVALID"


def test_a_29_february_birth_date_is_accepted() -> None:
    assert validate(valid_registration(date_of_birth="2000-02-29", gender="F")).date_of_birth == date(2000, 2, 29)


# Phone


@pytest.mark.parametrize(
    ("phone", "normalised"),
    [
        ("081234567890", "+6281234567890"),
        ("+6281234567890", "+6281234567890"),
        ("0812 3456 7890", "+6281234567890"),
        ("0812-3456-7890", "+6281234567890"),
        ("0812345678", "+62812345678"),  # 08 + 8 digits, the shortest
        ("0812345678901", "+62812345678901"),  # 08 + 11 digits, the longest
    ],
)
def test_mobile_numbers_are_normalised_to_plus_62(phone: str, normalised: str) -> None:
    assert validate(valid_registration(phone=phone)).phone == normalised


@given(
    prefix=st.sampled_from(["08", "+628"]),
    digits=st.text(alphabet="0123456789", min_size=8, max_size=11),
)
def test_08_or_plus_628_then_8_to_11_digits_is_a_mobile_number(prefix: str, digits: str) -> None:
    assert validate(valid_registration(phone=prefix + digits)).phone == "+628" + digits


@pytest.mark.parametrize(
    "phone",
    [
        "081234567",  # 08 + 7 digits
        "08123456789012",  # 08 + 12 digits
        "6281234567890",
        "+62 21 555 1234",  # a Jakarta landline
        "0215551234",
        "+6571234567",
        "0812345678a",
        "08" + "".join(chr(0x0660 + d) for d in range(10)),  # Arabic-Indic digits
        "",
    ],
)
def test_other_phone_numbers_are_invalid(phone: str) -> None:
    assert errors_of(valid_registration(phone=phone)) == {"phone": "PHONE_INVALID"}


# Email


@pytest.mark.parametrize(
    "email", ["a@b.co", "budi+prakerja@mail.example.id", "siti.n_92@gmail.com", "andi@contoh.xn--p1ai"]
)
def test_ordinary_email_addresses_are_valid(email: str) -> None:
    assert validate(valid_registration(email=email)).email == email


@pytest.mark.parametrize(
    "email",
    [
        "budi",
        "budi@",
        "@example.com",
        "budi@example",
        "budi@@example.com",
        "budi santoso@example.com",
        ".budi@example.com",
        "budi..santoso@example.com",
        "budi@-example.com",
        "budi@example..com",
        "\u212aelvin@example.com",  # Kelvin sign, lower-cases to an ASCII k
        "x" * 65 + "@example.com",
        "b@" + "a" * 63 + "." + "a" * 63 + "." + "a" * 63 + "." + "a" * 57 + ".com",  # 255 chars
        "",
    ],
)
def test_malformed_email_addresses_are_invalid(email: str) -> None:
    assert errors_of(valid_registration(email=email)) == {"email": "EMAIL_INVALID"}


# Province and regency


def test_an_unknown_province_is_rejected() -> None:
    assert errors_of(valid_registration(province_code="20", regency_code="2001")) == {
        "province_code": "PROVINCE_UNKNOWN"
    }


def test_a_regency_of_another_province_is_invalid() -> None:
    assert errors_of(valid_registration(regency_code="3171")) == {"regency_code": "REGENCY_INVALID"}


def test_a_malformed_regency_is_reported_even_with_an_unknown_province() -> None:
    assert errors_of(valid_registration(province_code="20", regency_code="20")) == {
        "province_code": "PROVINCE_UNKNOWN",
        "regency_code": "REGENCY_INVALID",
    }


@pytest.mark.parametrize("province", sorted(PROVINCES))
def test_every_province_is_accepted(province: str) -> None:
    assert validate(valid_registration(province_code=province)).regency_code == f"{province}01"


def test_unknown_education_and_employment_values_are_rejected() -> None:
    assert errors_of(valid_registration(education_level="PHD", employment_status="RETIRED")) == {
        "education_level": "enum",
        "employment_status": "enum",
    }


def test_every_error_is_reported_at_once() -> None:
    body = valid_registration(
        nik="1",
        kk_number="1",
        full_name="1",
        date_of_birth="x",
        phone="1",
        email="1",
        province_code="1",
        regency_code="1",
    )

    assert errors_of(body) == {
        "nik": "NIK_INVALID",
        "kk_number": "KK_INVALID",
        "full_name": "NAME_INVALID",
        "date_of_birth": "DATE_OF_BIRTH_INVALID",
        "phone": "PHONE_INVALID",
        "email": "EMAIL_INVALID",
        "province_code": "PROVINCE_UNKNOWN",
        "regency_code": "REGENCY_INVALID",
    }


# Vocabulary


def test_occupation_sources_are_all_but_education_assistance_and_priority() -> None:
    assert set(ExclusionSource) - OCCUPATION_SOURCES == {
        ExclusionSource.FORMAL_EDUCATION,
        ExclusionSource.OTHER_ASSISTANCE,
        ExclusionSource.PRIORITY,
    }
    assert is_occupation_source(ExclusionSource.POLRI)
    assert ExclusionSource.DPR_DPRD.is_occupation
    assert not ExclusionSource.PRIORITY.is_occupation


def test_enums_serialise_as_their_codes() -> None:
    assert json.dumps([Gender.F, EducationLevel.S1]) == '["F", "S1"]'


# Assessment submission


def test_an_assessment_submission_holds_answers() -> None:
    submission = AssessmentSubmission.model_validate({"answers": [{"question_id": "q01", "option_id": "b"}]})

    assert submission.answers == [AnswerItem(question_id="q01", option_id="b")]


@pytest.mark.parametrize(
    ("body", "error_type"),
    [
        ({"answers": []}, "too_short"),
        ({"answers": [{"question_id": "q", "option_id": "a"}] * 101}, "too_long"),
        ({"answers": [{"question_id": "q01", "option_id": 1}]}, "string_type"),
        ({"answers": [{"question_id": "q01", "option_id": "a", "score": 100}]}, "extra_forbidden"),
        ({"answers": [{"question_id": "q01"}]}, "missing"),
        ({"answers": [], "assessment_id": "x"}, "extra_forbidden"),
        ({}, "missing"),
    ],
)
def test_a_malformed_assessment_submission_is_rejected(body: dict[str, Any], error_type: str) -> None:
    with pytest.raises(ValidationError) as caught:
        AssessmentSubmission.model_validate(body)

    assert error_type in {error["type"] for error in caught.value.errors()}


def test_one_hundred_answers_is_the_most_accepted() -> None:
    answers = [{"question_id": f"q{i}", "option_id": "a"} for i in range(100)]

    assert len(AssessmentSubmission.model_validate({"answers": answers}).answers) == 100
