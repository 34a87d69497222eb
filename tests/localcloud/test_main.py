"""`python -m localcloud` helpers that need no running stack."""

from __future__ import annotations

from datetime import date

import pytest

from localcloud.__main__ import demo_population


def test_demo_residents_have_valid_niks_and_are_adults():
    nik = pytest.importorskip("prakerja.registration.nik")
    today = date(2026, 11, 22)
    residents = demo_population(today)
    assert len(residents) == 5
    assert len({r.nik for r in residents}) == 5
    for resident in residents:
        info = nik.parse_nik(resident.nik)
        assert nik.nik_matches(info, resident.date_of_birth, resident.gender) == []
        assert info.province_code == "32"
        assert len(resident.kk_number) == 16
        assert resident.kk_number.isdigit()
        age = (
            today.year
            - resident.date_of_birth.year
            - ((today.month, today.day) < (resident.date_of_birth.month, resident.date_of_birth.day))
        )
        assert 20 <= age <= 40
    assert {r.gender for r in residents} == {"M", "F"}
