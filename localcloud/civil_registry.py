"""The simulated civil registry (Dukcapil): who exists, and an outage switch for retry tests.

Held in memory by the runtime; the functions reach it over HTTP at
`$CIVIL_REGISTRY_URL/verify` like they would reach the real e-KYC service.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class Resident:
    nik: str
    kk_number: str
    full_name: str
    date_of_birth: date
    gender: str


def normalize_name(name: str) -> str:
    """Case-insensitive, whitespace-collapsed, as the registry's name matching is."""
    return " ".join(name.split()).casefold()


class CivilRegistry:
    def __init__(self) -> None:
        self._residents: dict[str, Resident] = {}
        self._fail_next = 0
        self._lock = threading.Lock()

    def add(self, residents: list[Resident]) -> int:
        with self._lock:
            for resident in residents:
                self._residents[resident.nik] = resident
        return len(residents)

    def __len__(self) -> int:
        return len(self._residents)

    def residents(self) -> list[Resident]:
        """Everyone the registry knows (for tests that account for every copy of personal data)."""
        with self._lock:
            return list(self._residents.values())

    def fail_next(self, count: int) -> None:
        with self._lock:
            self._fail_next = count

    def take_outage(self) -> bool:
        """True when this call should fail (and counts it)."""
        with self._lock:
            if self._fail_next > 0:
                self._fail_next -= 1
                return True
            return False

    def verify(self, nik: str, full_name: str, date_of_birth: str) -> dict[str, bool]:
        resident = self._residents.get(nik)
        if resident is None:
            return {"found": False, "name_match": False, "date_of_birth_match": False}
        return {
            "found": True,
            "name_match": normalize_name(resident.full_name) == normalize_name(full_name),
            "date_of_birth_match": resident.date_of_birth.isoformat() == date_of_birth,
        }
