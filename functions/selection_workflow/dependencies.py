"""Wiring of the selection workflow's steps, made once per process at a step's first call; each
step function loads only its own settings (they run as separate Lambda functions)."""

from __future__ import annotations

from functools import cache

from prakerja.adapters import aws
from prakerja.adapters.dynamodb_exclusions import LOOKUP_THREADS, DynamoDBExclusionRepository
from prakerja.adapters.dynamodb_ledger import DynamoDBLedger
from prakerja.adapters.dynamodb_outcomes import SETTLE_THREADS, DynamoDBOutcomeWriter
from prakerja.adapters.dynamodb_waves import DynamoDBWaveRepository
from prakerja.adapters.s3_objects import S3ObjectStore
from prakerja.clock import SystemClock
from prakerja.config import ApplyShardSettings, SelectionSettings, SnapshotShardSettings, load_settings
from prakerja.program import load_program
from prakerja.selection.workflow import ApplyShard, MergeDraw, PublishResult, SnapshotShard


def _common(config: SelectionSettings) -> tuple[DynamoDBWaveRepository, S3ObjectStore]:
    return (
        DynamoDBWaveRepository(aws.dynamodb(), config.waves_table),
        S3ObjectStore(aws.s3(), config.selection_bucket),
    )


@cache
def planning() -> tuple[DynamoDBWaveRepository, S3ObjectStore]:
    return _common(load_settings(SelectionSettings))


@cache
def snapshots() -> SnapshotShard:
    config = load_settings(SnapshotShardSettings)
    waves, store = _common(config)
    lookups = aws.dynamodb(LOOKUP_THREADS)
    return SnapshotShard(
        waves, waves, DynamoDBExclusionRepository(lookups, config.exclusions_table), store, load_program()
    )


@cache
def draw_merge() -> MergeDraw:
    return MergeDraw(*_common(load_settings(SelectionSettings)))


@cache
def outcomes() -> ApplyShard:
    config = load_settings(ApplyShardSettings)
    waves, store = _common(config)
    writes = aws.dynamodb(SETTLE_THREADS)
    clock = SystemClock()
    ledger = DynamoDBLedger(writes, config.ledger_table)
    writer = DynamoDBOutcomeWriter(writes, config.applicants_table, config.outbox_table, clock, ledger)
    return ApplyShard(waves, store, writer, clock, load_program())


@cache
def publication() -> PublishResult:
    waves, store = _common(load_settings(SelectionSettings))
    return PublishResult(waves, store, SystemClock())
