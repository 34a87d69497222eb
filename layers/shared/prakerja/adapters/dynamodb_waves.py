"""Waves in DynamoDB.

Items of the waves table:
- ``WAVE#<id> / META``: the wave
- ``WAVES / <created_at>#<id>``: the list of waves (few and rarely written: one partition)
- ``WAVE#<id>#P#<shard> / <applicant_id>``: a participant, in one of 64 shards so that joins
  spread over partitions and the selection workflow reads the shards in parallel
- ``WAVE#<id>#C#<shard> / JOINED``: per-province join counters, sharded the same way
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from prakerja.adapters import keys
from prakerja.adapters.dynamodb import (
    TRANSACTION_CANCELED,
    conditional,
    decode_token,
    encode_token,
    from_item,
    move_status,
    to_item,
    ts,
    value,
)
from prakerja.adapters.dynamodb_applicants import WAVE_JOINED, history_event, profile_key
from prakerja.registration.models import ApplicantStatus
from prakerja.registration.records import ApplicantRecord
from prakerja.selection.ports import JoinedParticipant
from prakerja.waves.models import PARTICIPANT_SHARDS, Wave, WaveReport, WaveStatus, participant_shard
from prakerja.waves.ports import JoinRefused, WaveNotOpen

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

_BATCH_GET = 100  # BatchGetItem's limit


def wave_key(wave_id: str) -> dict[str, Any]:
    return to_item(keys.wave(wave_id))


class DynamoDBWaveRepository:
    def __init__(self, client: DynamoDBClient, waves_table: str, applicants_table: str | None = None) -> None:
        """``applicants_table`` only where applicants join (ops manage waves without it)."""
        self._db = client
        self._table = waves_table
        self._applicants = applicants_table

    def create(self, wave: Wave) -> None:
        self._db.transact_write_items(
            TransactItems=[
                {
                    "Put": {
                        "TableName": self._table,
                        "Item": _to_item(wave),
                        "ConditionExpression": "attribute_not_exists(pk)",
                    }
                },
                {
                    "Put": {
                        "TableName": self._table,
                        "Item": to_item(
                            {**keys.wave_listing(ts(wave.created_at), wave.wave_id), "wave_id": wave.wave_id}
                        ),
                    }
                },
            ]
        )

    def get(self, wave_id: str) -> Wave | None:
        item = self._db.get_item(TableName=self._table, Key=wave_key(wave_id), ConsistentRead=True).get("Item")
        return _from_item(from_item(item)) if item else None

    def list_waves(self, limit: int, next_token: str | None) -> tuple[list[Wave], str | None]:
        query: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "pk = :index",
            "ExpressionAttributeValues": {":index": value(keys.WAVES)},
            "ScanIndexForward": False,
            "Limit": limit,
        }
        if next_token:
            query["ExclusiveStartKey"] = decode_token(next_token, keys.WAVES)
        page = self._db.query(**query)
        ids = [str(from_item(item)["wave_id"]) for item in page.get("Items", [])]
        found = {wave.wave_id: wave for wave in map(_from_item, self._batch_get([wave_key(i) for i in ids]))}
        waves = [found[wave_id] for wave_id in ids if wave_id in found]  # newest first, as listed
        last = page.get("LastEvaluatedKey")
        return waves, encode_token(last) if last else None

    def all_waves(self) -> Iterator[Wave]:
        token: str | None = None
        while True:
            waves, token = self.list_waves(200, token)
            yield from waves
            if token is None:
                return

    def join(self, wave: Wave, applicant: ApplicantRecord, at: datetime) -> None:
        if self._applicants is None:
            raise RuntimeError("joining needs the applicants table")
        applicant_id, province_code = applicant.applicant_id, applicant.province_code
        shard = participant_shard(applicant_id)
        try:
            self._db.transact_write_items(
                TransactItems=[
                    {
                        "Update": {
                            "TableName": self._applicants,
                            "Key": profile_key(applicant_id),
                            "UpdateExpression": "SET #status = :in_wave, wave_id = :wave, updated_at = :at",
                            "ConditionExpression": "#status IN (:verified, :not_selected) AND assessment.passed = :yes",
                            "ExpressionAttributeNames": {"#status": "status"},
                            "ExpressionAttributeValues": {
                                ":in_wave": value(ApplicantStatus.IN_WAVE.value),
                                ":verified": value(ApplicantStatus.VERIFIED.value),
                                ":not_selected": value(ApplicantStatus.NOT_SELECTED.value),
                                ":yes": value(True),
                                ":wave": value(wave.wave_id),
                                ":at": value(ts(at)),
                            },
                        }
                    },
                    {
                        "Put": {
                            "TableName": self._table,
                            "Item": to_item(
                                {
                                    "pk": keys.participants_partition(wave.wave_id, shard),
                                    "sk": applicant_id,
                                    "province_code": province_code,
                                    "nik_hash": applicant.nik_hash,
                                    "other_nik_hashes": list(applicant.other_nik_hashes) or None,
                                    "joined_at": ts(at),
                                }
                            ),
                            "ConditionExpression": "attribute_not_exists(pk)",
                        }
                    },
                    {
                        "Update": {
                            "TableName": self._table,
                            "Key": to_item(keys.join_counter(wave.wave_id, shard)),
                            "UpdateExpression": "ADD #province :one",
                            "ExpressionAttributeNames": {"#province": f"p{province_code}"},
                            "ExpressionAttributeValues": {":one": value(1)},
                        }
                    },
                    {
                        "ConditionCheck": {
                            "TableName": self._table,
                            "Key": wave_key(wave.wave_id),
                            "ConditionExpression": "#status = :open",
                            "ExpressionAttributeNames": {"#status": "status"},
                            "ExpressionAttributeValues": {":open": value(WaveStatus.OPEN.value)},
                        }
                    },
                    history_event(self._applicants, applicant_id, at, WAVE_JOINED, wave_id=wave.wave_id),
                ]
            )
        except ClientError as error:
            if error.response["Error"]["Code"] == TRANSACTION_CANCELED:
                raise JoinRefused() from None
            raise

    def joined_by_province(self, wave_id: str) -> dict[str, int]:
        counters = [to_item(keys.join_counter(wave_id, shard)) for shard in range(PARTICIPANT_SHARDS)]
        counts: dict[str, int] = {}
        for counter in self._batch_get(counters):
            for name, number in counter.items():
                if name.startswith("p") and name[1:].isdigit():
                    counts[name[1:]] = counts.get(name[1:], 0) + int(number)
        return dict(sorted(counts.items()))

    def _batch_get(self, wanted: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Items of these keys (missing ones left out), in BatchGetItem's chunks of 100,
        retrying what DynamoDB left unprocessed."""
        items: list[dict[str, Any]] = []
        for start in range(0, len(wanted), _BATCH_GET):
            request: Any = {self._table: {"Keys": wanted[start : start + _BATCH_GET], "ConsistentRead": True}}
            while request:
                response = self._db.batch_get_item(RequestItems=request)
                items.extend(from_item(item) for item in response.get("Responses", {}).get(self._table, []))
                request = response.get("UnprocessedKeys") or None
        return items

    def start_selection(self, wave_id: str, seed: str, at: datetime) -> None:
        if not self._move(wave_id, WaveStatus.OPEN, WaveStatus.SELECTING, seed=seed, closed_at=ts(at)):
            raise WaveNotOpen()

    def record_execution(self, wave_id: str, execution_arn: str) -> None:
        self._db.update_item(
            TableName=self._table,
            Key=wave_key(wave_id),
            UpdateExpression="SET execution_arn = :arn",
            ExpressionAttributeValues={":arn": value(execution_arn)},
        )

    def publish_result(self, wave_id: str, report: WaveReport) -> None:
        # False: published by an earlier run, and the first report stands.
        self._move(wave_id, WaveStatus.SELECTING, WaveStatus.SELECTED, report=report.model_dump(mode="json"))

    def mark_cards_swept(self, wave_id: str, revoked: int, returned: int, at: datetime) -> None:
        """After the deadline sweep; the first sweep's figures stand (a later one writes nothing)."""
        conditional(
            lambda: self._db.update_item(
                TableName=self._table,
                Key=wave_key(wave_id),
                UpdateExpression="SET cards_swept_at = :at, cards_revoked = :revoked, balance_returned = :returned",
                ConditionExpression="attribute_exists(pk) AND attribute_not_exists(cards_swept_at)",
                ExpressionAttributeValues={
                    ":at": value(ts(at)),
                    ":revoked": value(revoked),
                    ":returned": value(returned),
                },
            )
        )

    def _move(self, wave_id: str, current: WaveStatus, new: WaveStatus, **fields: Any) -> bool:
        return move_status(self._db, self._table, wave_key(wave_id), current.value, new.value, **fields)

    def participants(self, wave_id: str, shard: int) -> Iterator[JoinedParticipant]:
        """One shard's participants, page by page (the selection workflow's snapshot)."""
        query: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": {":pk": value(keys.participants_partition(wave_id, shard))},
            "ProjectionExpression": "sk, province_code, nik_hash, other_nik_hashes",
            "ConsistentRead": True,
        }
        while True:
            page = self._db.query(**query)
            for item in page.get("Items", []):
                row = from_item(item)
                others = tuple(row.get("other_nik_hashes", ()))
                yield JoinedParticipant(row["sk"], row["province_code"], row["nik_hash"], others)
            if "LastEvaluatedKey" not in page:
                return
            query["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def _to_item(wave: Wave) -> dict[str, Any]:
    return to_item(
        {
            **keys.wave(wave.wave_id),
            "wave_id": wave.wave_id,
            "name": wave.name,
            "opens_at": ts(wave.opens_at),
            "closes_at": ts(wave.closes_at),
            "quota_total": wave.quota_total,
            "quotas": wave.quotas,
            "scheme": wave.scheme,
            "seed_commitment": wave.seed_commitment,
            "status": wave.status.value,
            "created_at": ts(wave.created_at),
        }
    )


def _from_item(item: dict[str, Any]) -> Wave:
    return Wave(
        wave_id=item["wave_id"],
        name=item["name"],
        opens_at=datetime.fromisoformat(item["opens_at"]),
        closes_at=datetime.fromisoformat(item["closes_at"]),
        quota_total=int(item["quota_total"]),
        quotas={k: int(v) for k, v in item.get("quotas", {}).items()},
        scheme=item["scheme"],
        seed_commitment=item["seed_commitment"],
        status=WaveStatus(item["status"]),
        created_at=datetime.fromisoformat(item["created_at"]),
        seed=item.get("seed"),
        closed_at=datetime.fromisoformat(item["closed_at"]) if item.get("closed_at") else None,
        execution_arn=item.get("execution_arn"),
        report=WaveReport.model_validate(item["report"]) if item.get("report") else None,
        cards_swept_at=datetime.fromisoformat(item["cards_swept_at"]) if item.get("cards_swept_at") else None,
        cards_revoked=int(item["cards_revoked"]) if "cards_revoked" in item else None,
    )
