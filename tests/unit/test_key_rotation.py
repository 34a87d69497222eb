"""Rotating the hashing key loses no lookup (docs/personal-data.md): with the fakes, a NIK, a
family card or a list entry recorded under the old key is still found once the keyring writes
under a new one, and what is written during the rotation is found by code that knows only
the old key (the functions do not all restart at once)."""

from __future__ import annotations

import pytest

from prakerja.exclusions import ExclusionListService, ExclusionListUpload
from prakerja.personal_data import HashingKeyring
from prakerja.registration.models import BLACKLIST, ApplicantStatus, ExclusionSource, RejectionReason
from prakerja.registration.ports import NikAlreadyRegistered
from tests.factories import build_kk
from tests.unit.test_registration_service import KEYRING, World

K1 = b"unit-test-hashing-key-0123456789"  # KEYRING's key: the ring before the rotation
K2 = b"the-next-hashing-key-abcdefghijk"
ROTATED = HashingKeyring({"k1": K1, "k2": K2}, "k2")  # k2 writes, k1 still looked up
ANNOUNCED = HashingKeyring({"k1": K1, "k2": K2}, "k1")  # the first phase: k2 known, k1 writes
# Functions pick the secret up at their next cold start, so two consecutive phases run side by
# side for a while (the rotation waits for every function to restart before the next phase):
# old and announced, announced and rotated, in either order; never old and rotated.
PHASES = {"old": KEYRING, "announced": ANNOUNCED, "rotated": ROTATED}
SIDE_BY_SIDE = [
    pytest.param(PHASES[a], PHASES[b], id=f"{a}-then-{b}")
    for a, b in [
        ("old", "old"),
        ("old", "announced"),
        ("announced", "old"),
        ("announced", "rotated"),
        ("rotated", "announced"),
        ("rotated", "rotated"),
        ("old", "rotated"),  # the old key's records, found by the rotated keyring
    ]
]


def test_a_nik_registered_under_the_old_key_is_still_refused_under_the_new_one() -> None:
    world = World()
    body = world.body()
    world.register("account-1", body)
    world.use_keyring(ROTATED)
    with pytest.raises(NikAlreadyRegistered):
        world.register("account-2", body)
    assert len(world.applicants.profiles) == 1


@pytest.mark.parametrize(("first", "then"), SIDE_BY_SIDE)
def test_one_profile_per_nik_whichever_keyring_each_registration_met(
    first: HashingKeyring, then: HashingKeyring
) -> None:
    world = World()
    body = world.body()
    world.use_keyring(first)
    world.register("account-1", body)
    world.use_keyring(then)
    with pytest.raises(NikAlreadyRegistered):
        world.register("account-2", body)


def test_a_new_profile_is_identified_under_the_current_key_and_keeps_the_others_for_lookups() -> None:
    world = World()
    body = world.body()
    world.use_keyring(ROTATED)
    record = world.applicants.profiles[world.register("account-1", body)]
    nik = str(body["nik"])
    assert record.nik_hash == ROTATED.digest("nik", nik) and record.nik_hash.startswith("k2:")
    assert record.nik_hashes == ROTATED.digests("nik", nik)
    assert record.kk_hashes == ROTATED.digests("kk", str(body["kk_number"]))


def test_an_exclusion_list_imported_under_the_old_key_still_excludes() -> None:
    world = World()
    body = world.body()
    lists = ExclusionListService(world.exclusions, KEYRING, world.clock)
    lists.import_list("TNI", ExclusionListUpload(niks=[str(body["nik"])]))
    world.use_keyring(ROTATED)
    assert world.run_workflow(world.register("account-1", body)) == (
        ApplicantStatus.REJECTED,
        (RejectionReason.EXCLUDED_OCCUPATION,),
    )


def test_a_list_imported_under_the_new_key_names_a_profile_known_by_its_old_digest() -> None:
    """A wave re-screens its participants with the one digest each joined with."""
    world = World()
    body = world.body()
    record = world.applicants.profiles[world.register("account-1", body)]  # k1 only
    imported = ExclusionListService(world.exclusions, ROTATED, world.clock).import_list(
        "PRIORITY", ExclusionListUpload(niks=[str(body["nik"]), str(body["nik"])])
    )
    assert (imported.received, imported.stored) == (2, 1)  # NIKs, not digests
    assert world.exclusions.sources_for_many([record.nik_hash]) == {record.nik_hash: {ExclusionSource.PRIORITY}}


def test_a_blacklisting_under_the_old_key_still_refuses_the_nik() -> None:
    world = World()
    body = world.body()
    world.exclusions.add(BLACKLIST, [KEYRING.digest("nik", str(body["nik"]))], world.clock.now())
    world.use_keyring(ROTATED)
    assert world.run_workflow(world.register("account-1", body)) == (
        ApplicantStatus.REJECTED,
        (RejectionReason.BLACKLISTED,),
    )


def test_family_card_places_taken_under_the_old_key_count_under_the_new_one() -> None:
    world = World()
    kk = build_kk(serial=42)
    for account in ("first", "second"):
        assert world.run_workflow(world.register(account, world.body(kk_number=kk)))[0] is ApplicantStatus.VERIFIED
    world.use_keyring(ROTATED)
    assert world.run_workflow(world.register("third", world.body(kk_number=kk))) == (
        ApplicantStatus.REJECTED,
        (RejectionReason.KK_LIMIT_REACHED,),
    )
    assert list(world.applicants.kk_members) == [KEYRING.digest("kk", kk)]  # still one set of places


@pytest.mark.parametrize(("first", "then"), SIDE_BY_SIDE)
def test_one_family_card_is_counted_once_whichever_keyring_each_registration_met(
    first: HashingKeyring, then: HashingKeyring
) -> None:
    world = World()
    kk = build_kk(serial=43)
    world.use_keyring(first)
    decided = [world.run_workflow(world.register("one", world.body(kk_number=kk)))[0]]
    world.use_keyring(then)
    decided += [world.run_workflow(world.register(a, world.body(kk_number=kk)))[0] for a in ("two", "three")]
    assert decided == [ApplicantStatus.VERIFIED, ApplicantStatus.VERIFIED, ApplicantStatus.REJECTED]
