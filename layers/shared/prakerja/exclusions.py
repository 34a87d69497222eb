"""Agency exclusion lists (ASN, TNI, POLRI, ...), the priority list and the formal-education
and other-assistance lists: imported by ops, stored only as keyed NIK hashes."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic_core import PydanticCustomError

from prakerja.clock import Clock
from prakerja.errors import NotFound
from prakerja.personal_data import HashingKeyring
from prakerja.registration.models import ExclusionSource
from prakerja.registration.nik import NikError, parse_nik
from prakerja.registration.ports import ExclusionRepository

MAX_NIKS_PER_UPLOAD = 5000


class ExclusionListUpload(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    niks: list[str] = Field(min_length=1, max_length=MAX_NIKS_PER_UPLOAD)

    @field_validator("niks")
    @classmethod
    def _valid_niks(cls, niks: list[str]) -> list[str]:
        for index, nik in enumerate(niks):
            try:
                parse_nik(nik)
            except NikError as error:
                # The position, not the value: a NIK never goes into a response or a log.
                raise PydanticCustomError(error.code, f"entry {index}: {error.message}") from None
        return niks


class ExclusionListImported(BaseModel):
    source: ExclusionSource
    received: int
    stored: int  # distinct NIKs in this upload


class ExclusionListRemoved(BaseModel):
    source: ExclusionSource
    received: int
    removed: int  # distinct NIKs in this upload: none of them is on the list any more


class UnknownList(NotFound):
    def __init__(self) -> None:
        super().__init__("EXCLUSION_LIST_UNKNOWN", f"Lists are: {', '.join(s.value for s in ExclusionSource)}.")


class ExclusionListService:
    def __init__(self, lists: ExclusionRepository, keyring: HashingKeyring, clock: Clock) -> None:
        self._lists = lists
        self._keyring = keyring
        self._clock = clock

    def import_list(self, source: str, upload: ExclusionListUpload) -> ExclusionListImported:
        list_source = _source(source)
        niks = set(upload.niks)
        # Under every key: a wave's participants carry their NIK's digest under the key current
        # when they registered, and re-screening at close looks the lists up with it.
        hashes = (digest for nik in niks for digest in self._keyring.digests("nik", nik))
        self._lists.add(list_source, hashes, self._clock.now())
        return ExclusionListImported(source=list_source, received=len(upload.niks), stored=len(niks))

    def remove(self, source: str, upload: ExclusionListUpload) -> ExclusionListRemoved:
        """The NIKs off the list, under every key of the keyring (as they were imported). The
        internal lists (RECIPIENT, BLACKLIST) are not agencies' lists: the blacklist is left only
        by an approved LIFT_BLACKLIST action (prakerja.cases)."""
        list_source = _source(source)
        niks = set(upload.niks)
        hashes = (digest for nik in niks for digest in self._keyring.digests("nik", nik))
        self._lists.remove(list_source, hashes)
        return ExclusionListRemoved(source=list_source, received=len(upload.niks), removed=len(niks))


def _source(source: str) -> ExclusionSource:
    if source not in ExclusionSource.__members__:
        raise UnknownList()
    return ExclusionSource(source)
