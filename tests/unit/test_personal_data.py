from __future__ import annotations

import hashlib
import hmac
import json
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from prakerja.personal_data import (
    HashingKeyring,
    PersonalDataHasher,
    digest_key_id,
    mask_account_number,
    mask_kk,
    mask_name,
    mask_nik,
    mask_phone,
)

KEY = b"k" * 32


def test_a_nik_shows_its_province_and_serial_only() -> None:
    assert mask_nik("3201234567890001") == "32**********0001"


def test_a_kk_number_is_masked_like_a_nik() -> None:
    assert mask_kk("3201231501200007") == "32**********0007"


def test_a_name_keeps_the_initial_of_each_word() -> None:
    assert mask_name("Budi Santoso") == "B*** S******"
    assert mask_name("Ni Luh Putu Ayu") == "N* L** P*** A**"
    assert mask_name("A") == "A"


def test_a_phone_keeps_its_operator_prefix_and_last_three_digits() -> None:
    assert mask_phone("+6281234567890") == "+62812*****890"
    assert mask_phone("081234567890") == "0812*****890"


def test_an_account_number_shows_its_last_four() -> None:
    assert mask_account_number("0123456789") == "******6789"


@pytest.mark.parametrize(
    ("mask", "value"),
    [(mask_nik, "123456"), (mask_kk, ""), (mask_phone, "+62812345"), (mask_account_number, "1234")],
)
def test_values_too_short_to_mask_are_hidden_entirely(mask: object, value: str) -> None:
    assert callable(mask)
    assert mask(value) == "*" * len(value)


def visible(masked: str) -> list[tuple[int, str]]:
    return [(i, c) for i, c in enumerate(masked) if c != "*"]


@given(st.text(alphabet="0123456789", min_size=16, max_size=16))
def test_a_masked_nik_reveals_exactly_the_first_two_and_last_four_digits(nik: str) -> None:
    masked = mask_nik(nik)

    assert len(masked) == 16
    assert masked[2:12] == "*" * 10
    assert masked[:2] + masked[12:] == nik[:2] + nik[12:]


@given(st.text(alphabet="0123456789", max_size=30))
def test_no_mask_reveals_more_than_its_allowance(value: str) -> None:
    for mask, allowance in ((mask_nik, 6), (mask_kk, 6), (mask_account_number, 4), (mask_phone, 7)):
        masked = mask(value)
        assert len(masked) == len(value)
        assert len(visible(masked)) <= min(allowance, max(len(value) - 1, 0))
        assert all(value[i] == c for i, c in visible(masked))


@given(st.text(alphabet="+0123456789", min_size=1, max_size=20))
def test_a_masked_phone_shows_at_most_nine_characters(phone: str) -> None:
    masked = mask_phone(phone)

    assert len(visible(masked)) <= 9
    assert len(masked) == len(phone)


@given(st.lists(st.text(alphabet=st.characters(categories=["L"]), min_size=1, max_size=12), min_size=1, max_size=5))
def test_a_masked_name_reveals_one_letter_per_word(words: list[str]) -> None:
    masked = mask_name(" ".join(words))

    assert [w[0] + "*" * (len(w) - 1) for w in words] == masked.split(" ")


# Hashing


def test_a_digest_is_the_key_id_and_the_hmac_of_kind_and_value() -> None:
    digest = PersonalDataHasher(KEY, "2026-01").digest("nik", "3201234567890001")

    expected = hmac.new(KEY, b"nik:3201234567890001", hashlib.sha256).hexdigest()
    assert digest == f"2026-01:{expected}"
    assert re.fullmatch(r"2026-01:[0-9a-f]{64}", digest)


def test_a_digest_is_deterministic() -> None:
    assert PersonalDataHasher(KEY, "k1").digest("nik", "1") == PersonalDataHasher(KEY, "k1").digest("nik", "1")


def test_a_kk_and_a_nik_with_the_same_digits_do_not_collide() -> None:
    hasher = PersonalDataHasher(KEY, "k1")

    assert hasher.digest("nik", "3201231501200001") != hasher.digest("kk", "3201231501200001")


def test_another_key_gives_another_digest_and_names_itself() -> None:
    old = PersonalDataHasher(KEY, "k1").digest("nik", "3201234567890001")
    new = PersonalDataHasher(b"n" * 32, "k2").digest("nik", "3201234567890001")

    assert old.split(":")[1] != new.split(":")[1]
    assert (digest_key_id(old), digest_key_id(new)) == ("k1", "k2")


def test_digest_key_id_refuses_what_is_not_a_digest() -> None:
    with pytest.raises(ValueError, match="not a personal data digest"):
        digest_key_id("abc")


@pytest.mark.parametrize(("key", "key_id"), [(b"short", "k1"), (b"", "k1"), (KEY, ""), (KEY, "k:1")])
def test_weak_keys_and_ambiguous_key_ids_are_refused(key: bytes, key_id: str) -> None:
    with pytest.raises(ValueError):
        PersonalDataHasher(key, key_id)


@pytest.mark.parametrize("kind", ["", "nik:kk"])
def test_a_kind_must_not_blur_into_the_value(kind: str) -> None:
    with pytest.raises(ValueError):
        PersonalDataHasher(KEY, "k1").digest(kind, "1")


def test_the_key_never_appears_in_its_representation() -> None:
    hasher = PersonalDataHasher(b"super-secret-key-material", "k1")

    assert "secret" not in repr(hasher)
    assert "k1" in repr(hasher)


@given(st.text(), st.text())
def test_different_values_give_different_digests(first: str, second: str) -> None:
    hasher = PersonalDataHasher(KEY, "k1")

    assert (hasher.digest("nik", first) == hasher.digest("nik", second)) == (first == second)


# -- the keyring ---------------------------------------------------------------------------------
OLD, NEW = b"o" * 32, b"n" * 32


def test_a_bare_secret_is_key_k1_and_hashes_exactly_as_before_rotation_existed() -> None:
    keyring = HashingKeyring.from_secret("o" * 32)
    assert (keyring.current, keyring.key_ids) == ("k1", ("k1",))
    assert keyring.digest("nik", "3201234567890001") == PersonalDataHasher(OLD, "k1").digest("nik", "3201234567890001")
    assert keyring.digests("nik", "3201234567890001") == (keyring.digest("nik", "3201234567890001"),)


def test_a_keyring_secret_writes_under_its_current_key_and_looks_up_under_all() -> None:
    keyring = HashingKeyring.from_secret(json.dumps({"current": "k2", "keys": {"k1": "o" * 32, "k2": "n" * 32}}))
    under_old = PersonalDataHasher(OLD, "k1").digest("kk", "3201231501200007")
    under_new = PersonalDataHasher(NEW, "k2").digest("kk", "3201231501200007")
    assert (keyring.current, keyring.key_ids) == ("k2", ("k2", "k1"))
    assert keyring.digest("kk", "3201231501200007") == under_new
    assert keyring.digests("kk", "3201231501200007") == (under_new, under_old)


def test_the_current_key_comes_first_and_the_others_in_a_stable_order() -> None:
    keys = {"k3": b"3" * 32, "k1": OLD, "k2": NEW}
    assert HashingKeyring(keys, "k2").key_ids == ("k2", "k1", "k3")
    assert HashingKeyring(dict(reversed(keys.items())), "k2").key_ids == ("k2", "k1", "k3")


@pytest.mark.parametrize(
    "secret",
    [
        '{"current": "k2", "keys": {"k1": "' + "o" * 32 + '"}}',  # current not among the keys
        '{"current": "k1", "keys": {}}',
        '{"current": "k1", "keys": {"k1": 12345}}',
        '{"current": "k1", "keys": ["' + "o" * 32 + '"]}',
        '{"keys": {"k1": "' + "o" * 32 + '"}}',
        '{"current": "k1", "keys": {"k1": "' + "o" * 32 + '"',  # cut short
        '{"current": "k1", "keys": {"k1": "too-short"}}',
        '{"current": "k:1", "keys": {"k:1": "' + "o" * 32 + '"}}',
    ],
)
def test_a_malformed_keyring_secret_is_refused_without_showing_a_key(secret: str) -> None:
    with pytest.raises(ValueError) as refused:
        HashingKeyring.from_secret(secret)
    assert "o" * 16 not in str(refused.value)


def test_a_keyring_never_shows_its_keys() -> None:
    keyring = HashingKeyring({"k1": b"super-secret-key-material", "k2": NEW}, "k2")
    assert "secret" not in repr(keyring) and "nnnn" not in repr(keyring)
    assert "k1" in repr(keyring) and "k2" in repr(keyring)
