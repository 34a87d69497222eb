"""The DynamoDB adapters through a hashing key rotation, on moto: a NIK claimed under any key of
the ring refuses a second profile, also under concurrency; a family card's places are counted
in one item whichever key each applicant came with; lists are read under every key; and the
keyring is read from the stack's secret in both of its formats."""

from __future__ import annotations

import itertools
import json
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from localcloud.provision import Resources
from prakerja.adapters.dynamodb_applicants import DynamoDBApplicantRepository
from prakerja.adapters.dynamodb_exclusions import DynamoDBExclusionRepository
from prakerja.adapters.secrets_hasher import load_keyring
from prakerja.personal_data import PersonalDataHasher
from prakerja.registration.models import ApplicantStatus, ExclusionSource
from prakerja.registration.ports import KkLimitReached, NikAlreadyRegistered
from tests.integration.conftest import Serialized, physical
from tests.integration.test_applicant_repository import NOW, applicant

OLD_ONLY = ("k1:nik",)  # a function that knows only the old key
BOTH_NEW_FIRST = ("k2:nik", "k1:nik")  # k2 current
BOTH_OLD_FIRST = ("k1:nik", "k2:nik")  # k2 announced, k1 still current


@pytest.fixture
def table(aws: Resources) -> str:
    return physical(aws, "DataApplicantsTable")


@pytest.fixture
def repo(table: str, clients: dict[str, Any]) -> DynamoDBApplicantRepository:
    client: Any = Serialized(clients["dynamodb"])
    return DynamoDBApplicantRepository(client, table)


def by_ring(applicant_id: str, nik_hashes: tuple[str, ...]) -> Any:
    nik_hash, *others = nik_hashes
    return applicant(applicant_id, nik_hash=nik_hash, other_nik_hashes=tuple(others))


def items(clients: dict[str, Any], table: str, prefix: str) -> list[dict[str, Any]]:
    scanned = clients["dynamodb"].scan(TableName=table)["Items"]
    return [i for i in scanned if i["pk"]["S"].startswith(prefix)]


@pytest.mark.parametrize(
    ("first", "second"),
    [
        (OLD_ONLY, BOTH_NEW_FIRST),
        (BOTH_NEW_FIRST, OLD_ONLY),
        (BOTH_OLD_FIRST, BOTH_NEW_FIRST),
        (BOTH_NEW_FIRST, ("k2:nik",)),  # after the old key is gone, what was claimed under k2 holds
    ],
)
def test_a_nik_claimed_under_any_key_of_the_ring_refuses_another_profile_and_writes_nothing(
    table: str, repo: DynamoDBApplicantRepository, clients: dict[str, Any], first: Any, second: Any
) -> None:
    repo.create(by_ring("a1", first))
    before = clients["dynamodb"].scan(TableName=table)["Count"]
    with pytest.raises(NikAlreadyRegistered):
        repo.create(by_ring("a2", second))
    assert repo.get("a2") is None
    assert clients["dynamodb"].scan(TableName=table)["Count"] == before


def test_a_new_profile_claims_its_nik_under_every_key_and_keeps_its_digests(
    table: str, repo: DynamoDBApplicantRepository, clients: dict[str, Any]
) -> None:
    record = by_ring("a1", BOTH_NEW_FIRST)
    repo.create(record)
    assert repo.get("a1") == record and record.nik_hashes == BOTH_NEW_FIRST
    assert sorted(i["pk"]["S"] for i in items(clients, table, "NIK#")) == ["NIK#k1:nik", "NIK#k2:nik"]


def test_parallel_registrations_of_one_nik_under_both_keyrings_give_exactly_one_profile(
    repo: DynamoDBApplicantRepository,
) -> None:
    rings = itertools.cycle([OLD_ONLY, BOTH_NEW_FIRST, BOTH_OLD_FIRST])
    attempts = [by_ring(f"a{i}", next(rings)) for i in range(24)]

    def register(record: Any) -> str:
        try:
            repo.create(record)
        except NikAlreadyRegistered:
            return "refused"
        return "created"

    with ThreadPoolExecutor(8) as pool:
        outcomes = list(pool.map(register, attempts))
    assert sorted(outcomes) == ["created"] + ["refused"] * 23


def decide(repo: DynamoDBApplicantRepository, applicant_id: str, kk_hashes: tuple[str, ...]) -> ApplicantStatus:
    try:
        return repo.decide(applicant_id, ApplicantStatus.VERIFIED, [], NOW, kk_hashes=kk_hashes, kk_limit=2).status
    except KkLimitReached:
        return ApplicantStatus.REJECTED


def test_family_card_places_taken_under_the_old_key_are_counted_under_the_new_one(
    table: str, repo: DynamoDBApplicantRepository, clients: dict[str, Any]
) -> None:
    for applicant_id in ("a1", "a2", "a3"):
        repo.create(applicant(applicant_id, kk="card"))
    assert decide(repo, "a1", ("k1:card",)) is ApplicantStatus.VERIFIED
    assert decide(repo, "a2", ("k2:card", "k1:card")) is ApplicantStatus.VERIFIED
    assert not repo.kk_has_room(("k2:card", "k1:card"), "a3", 2)
    assert decide(repo, "a3", ("k2:card", "k1:card")) is ApplicantStatus.REJECTED
    assert decide(repo, "a2", ("k1:card", "k2:card")) is ApplicantStatus.VERIFIED  # a retried step keeps its place
    [slots] = items(clients, table, "KK#")
    assert slots["pk"]["S"] == "KK#k1:card" and set(slots["members"]["SS"]) == {"a1", "a2"}


class LookTogether(DynamoDBApplicantRepository):
    """Every decision looks at the card's places before any takes one: the worst interleaving."""

    def __init__(self, client: Any, table: str, parties: int) -> None:
        super().__init__(client, table)
        self._barrier = threading.Barrier(parties, timeout=30)
        self._looked = threading.local()

    def _kk_holder(self, kk_hashes: tuple[str, ...]) -> tuple[str, list[str]]:
        found = super()._kk_holder(kk_hashes)
        if not getattr(self._looked, "once", False):
            self._looked.once = True
            self._barrier.wait()
        return found


def test_parallel_decisions_on_one_card_under_both_keyrings_take_exactly_its_places(
    table: str, clients: dict[str, Any]
) -> None:
    """Half the applicants came with k1 first, half with k2 first, and all find no places yet."""
    rings = itertools.cycle([("k1:card", "k2:card"), ("k2:card", "k1:card")])
    applicants = [(f"a{i}", next(rings)) for i in range(6)]
    repo = LookTogether(Serialized(clients["dynamodb"]), table, parties=len(applicants))
    for applicant_id, _ in applicants:
        repo.create(applicant(applicant_id, kk="card"))
    with ThreadPoolExecutor(len(applicants)) as pool:
        decided = list(pool.map(lambda a: decide(repo, *a), applicants))
    assert sorted(decided) == sorted([ApplicantStatus.VERIFIED] * 2 + [ApplicantStatus.REJECTED] * 4)
    [slots] = items(clients, table, "KK#")  # one item holds the card's places, whatever the keys
    assert len(slots["members"]["SS"]) == 2


class StaleFirstLook(DynamoDBApplicantRepository):
    """Its first look at the card's places is from before another applicant took one."""

    def __init__(self, client: Any, table: str, stale: Callable[[], tuple[str, list[str]]]) -> None:
        super().__init__(client, table)
        self._stale: Callable[[], tuple[str, list[str]]] | None = stale

    def _kk_holder(self, kk_hashes: tuple[str, ...]) -> tuple[str, list[str]]:
        stale, self._stale = self._stale, None
        return stale() if stale else super()._kk_holder(kk_hashes)


def test_places_that_appear_under_another_key_meanwhile_are_counted_there(table: str, clients: dict[str, Any]) -> None:
    plain = DynamoDBApplicantRepository(clients["dynamodb"], table)
    for applicant_id in ("a1", "a2"):
        plain.create(applicant(applicant_id, kk="card"))
    assert decide(plain, "a1", ("k1:card",)) is ApplicantStatus.VERIFIED
    late = StaleFirstLook(clients["dynamodb"], table, lambda: ("k2:card", ["k1:card"]))  # "no places yet"
    assert decide(late, "a2", ("k2:card", "k1:card")) is ApplicantStatus.VERIFIED
    [slots] = items(clients, table, "KK#")
    assert slots["pk"]["S"] == "KK#k1:card" and set(slots["members"]["SS"]) == {"a1", "a2"}


def test_lists_are_read_under_every_digest_of_a_nik(aws: Resources, clients: dict[str, Any]) -> None:
    lists = DynamoDBExclusionRepository(clients["dynamodb"], physical(aws, "DataExclusionsTable"))
    lists.add(ExclusionSource.ASN, ["k1:nik"], NOW)
    lists.add(ExclusionSource.PRIORITY, ["k2:nik"], NOW)
    assert lists.sources_for("k2:nik", "k1:nik") == {"ASN", "PRIORITY"}
    assert lists.sources_for("k1:nik") == {"ASN"}
    assert lists.sources_for() == frozenset()


def test_the_keyring_comes_from_the_stack_secret_in_either_format(aws: Resources, clients: dict[str, Any]) -> None:
    secrets = clients["secretsmanager"]
    arn = str(aws.find("DataPersonalDataHashingKey").ref)
    bare = secrets.get_secret_value(SecretId=arn)["SecretString"]
    before = load_keyring(secrets, arn)
    assert before.key_ids == ("k1",)
    assert before.digest("nik", "3201234567890001") == PersonalDataHasher(bare.encode(), "k1").digest(
        "nik", "3201234567890001"
    )

    rotated = {"current": "k2", "keys": {"k1": bare, "k2": "n" * 64}}
    secrets.put_secret_value(SecretId=arn, SecretString=json.dumps(rotated))
    after = load_keyring(secrets, arn)
    assert after.current == "k2"
    assert after.digests("nik", "3201234567890001")[1] == before.digest("nik", "3201234567890001")
