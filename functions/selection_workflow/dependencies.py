"""Wiring of the selection workflow's steps; each step function validates only its own
settings at cold start (they run as separate Lambda functions)."""

from __future__ import annotations

import boto3
from botocore.config import Config

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
        DynamoDBWaveRepository(boto3.client("dynamodb"), config.waves_table),
        S3ObjectStore(boto3.client("s3"), config.selection_bucket),
    )


def planning() -> tuple[DynamoDBWaveRepository, S3ObjectStore]:
    return _common(load_settings(SelectionSettings))


def snapshot_shard() -> SnapshotShard:
    config = load_settings(SnapshotShardSettings)
    waves, store = _common(config)
    lookups = boto3.client("dynamodb", config=Config(max_pool_connections=LOOKUP_THREADS))
    return SnapshotShard(
        waves, waves, DynamoDBExclusionRepository(lookups, config.exclusions_table), store, load_program()
    )


def merge_draw() -> MergeDraw:
    return MergeDraw(*_common(load_settings(SelectionSettings)))


def apply_shard() -> ApplyShard:
    config = load_settings(ApplyShardSettings)
    waves, store = _common(config)
    writes = boto3.client("dynamodb", config=Config(max_pool_connections=SETTLE_THREADS))
    clock = SystemClock()
    ledger = DynamoDBLedger(writes, config.ledger_table)
    outcomes = DynamoDBOutcomeWriter(writes, config.applicants_table, config.outbox_table, clock, ledger)
    return ApplyShard(waves, store, outcomes, clock, load_program())


def publish_result() -> PublishResult:
    waves, store = _common(load_settings(SelectionSettings))
    return PublishResult(waves, store, SystemClock())
