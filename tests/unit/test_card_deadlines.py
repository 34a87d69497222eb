"""The card-deadline sweep's paging, without DynamoDB: the adapter's query and cursor, and the
sweeper's refusal of a page that would loop the state machine or skip cards (the sweep itself,
page by page on moto: tests/integration/test_marketplace.py)."""

from __future__ import annotations

import base64
import json
from typing import Any, cast

import pytest

from prakerja.adapters.dynamodb_cards import DynamoDBDueCards, decode_cursor, encode_cursor
from prakerja.cards.deadlines import ShardItem, ShardSweeper, ShardSwept
from tests.fakes import FixedClock

PARTITION = "wave-7#03"


def position(applicant_id: str, partition: str = PARTITION) -> dict[str, Any]:
    return {"card_due": {"S": partition}, "pk": {"S": f"APPLICANT#{applicant_id}"}, "sk": {"S": "PROFILE"}}


class Index:
    """A query that answers with the page given, and records what it was asked."""

    def __init__(self, ids: list[str], last: str | None) -> None:
        self.asked: list[dict[str, Any]] = []
        self._response: dict[str, Any] = {"Items": [position(i) for i in ids]}
        if last is not None:
            self._response["LastEvaluatedKey"] = position(last)

    def query(self, **query: Any) -> dict[str, Any]:
        self.asked.append(query)
        return self._response


def cards(index: Index) -> DynamoDBDueCards:
    return DynamoDBDueCards(cast(Any, index), "applicants", "exclusions", "outbox", cast(Any, None))


def test_a_short_page_with_a_last_key_still_hands_back_a_cursor() -> None:
    """DynamoDB stops a page at 1 MB too, with fewer items than the limit: not the end."""
    index = Index(["a-1"], last="a-1")
    ids, cursor = cards(index).due("wave-7", 3, None, 2_000)
    assert ids == ["a-1"] and cursor is not None
    assert decode_cursor(cursor, PARTITION) == position("a-1")
    (asked,) = index.asked
    assert asked["Limit"] == 2_000 and "ExclusiveStartKey" not in asked
    assert asked["IndexName"] == "CardsDue" and asked["ExpressionAttributeValues"] == {":due": {"S": PARTITION}}


def test_the_cursor_is_the_next_pages_start_and_none_at_the_end() -> None:
    index = Index(["a-3", "a-4"], last=None)
    cursor = encode_cursor(position("a-2"))
    assert cards(index).due("wave-7", 3, cursor, 2) == (["a-3", "a-4"], None)
    assert index.asked[0]["ExclusiveStartKey"] == position("a-2")
    assert index.asked[0]["Limit"] == 2


def test_the_cursor_is_compact_json_of_keys_only() -> None:
    cursor = encode_cursor(position("a-2"))
    assert base64.urlsafe_b64decode(cursor) == b'{"card_due":"wave-7#03","pk":"APPLICANT#a-2","sk":"PROFILE"}'
    with pytest.raises(ValueError, match="not a position"):
        encode_cursor({**position("a-2"), "nik_hash": {"S": "k1:nik"}})


@pytest.mark.parametrize(
    "cursor",
    [
        encode_cursor(position("a-2", partition="wave-7#04")),  # another shard's
        encode_cursor(position("a-2", partition="wave-8#03")),  # another wave's
        base64.urlsafe_b64encode(json.dumps({"card_due": PARTITION, "pk": "APPLICANT#a-2"}).encode()).decode(),
        base64.urlsafe_b64encode(json.dumps({"card_due": PARTITION, "pk": 1, "sk": "PROFILE"}).encode()).decode(),
        base64.urlsafe_b64encode(b"[]").decode(),
        "%%% not base64",
    ],
)
def test_a_cursor_not_issued_for_the_shard_is_refused(cursor: str) -> None:
    index = Index([], last=None)
    with pytest.raises(ValueError, match="not a cursor"):
        cards(index).due("wave-7", 3, cursor, 2)
    assert index.asked == []


class Pages:
    """DueCards answering every page with the same ids and cursor."""

    def __init__(self, ids: list[str], cursor: str | None) -> None:
        self._page = (ids, cursor)

    def due(self, wave_id: str, shard: int, cursor: str | None, limit: int) -> tuple[list[str], str | None]:
        return self._page

    def revoke(self, *args: object) -> bool:
        raise AssertionError("nothing to revoke here")


class NoApplicants:
    def get(self, applicant_id: str) -> None:
        return None


def sweeper(ids: list[str], cursor: str | None) -> ShardSweeper:
    return ShardSweeper(Pages(ids, cursor), NoApplicants(), FixedClock())


def test_a_page_of_nothing_due_moves_on_and_keeps_the_totals() -> None:
    item = ShardItem(wave_id="wave-7", shard=3, cursor="c1", revoked=40, returned=1_400)
    assert sweeper(["gone-1", "gone-2"], "c2").sweep(item, limit=2) == ShardSwept(
        wave_id="wave-7", shard=3, cursor="c2", revoked=40, returned=1_400
    )


def test_a_cursor_handed_back_unchanged_fails_the_page_instead_of_looping() -> None:
    item = ShardItem(wave_id="wave-7", shard=3, cursor="c1")
    with pytest.raises(RuntimeError, match="did not move past"):
        sweeper([], "c1").sweep(item)


def test_a_page_longer_than_its_limit_fails_instead_of_skipping_cards() -> None:
    with pytest.raises(RuntimeError, match="more than its limit"):
        sweeper(["a-1", "a-2", "a-3"], "c3").sweep(ShardItem(wave_id="wave-7", shard=3), limit=2)


def test_a_page_holds_at_least_one_card() -> None:
    with pytest.raises(ValueError, match="at least one"):
        sweeper([], None).sweep(ShardItem(wave_id="wave-7", shard=3), limit=0)
