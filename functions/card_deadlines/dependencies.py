"""Wiring of the card deadlines workflow's steps (each its own Lambda function)."""

from __future__ import annotations

from functools import cache

from prakerja.adapters import aws
from prakerja.adapters.dynamodb_applicants import DynamoDBApplicantRepository
from prakerja.adapters.dynamodb_cards import DynamoDBDueCards
from prakerja.adapters.dynamodb_ledger import DynamoDBLedger
from prakerja.adapters.dynamodb_waves import DynamoDBWaveRepository
from prakerja.cards.deadlines import ShardSweeper, SweepPlanner
from prakerja.clock import SystemClock
from prakerja.config import CardDeadlineSettings, RevokeCardsSettings, load_settings


@cache
def planner() -> SweepPlanner:
    config = load_settings(CardDeadlineSettings)
    return SweepPlanner(DynamoDBWaveRepository(aws.dynamodb(), config.waves_table), SystemClock())


@cache
def shard_sweeper() -> ShardSweeper:
    config = load_settings(RevokeCardsSettings)
    client = aws.dynamodb()
    cards = DynamoDBDueCards(
        client,
        config.applicants_table,
        config.exclusions_table,
        config.outbox_table,
        DynamoDBLedger(client, config.ledger_table),
    )
    return ShardSweeper(cards, DynamoDBApplicantRepository(client, config.applicants_table), SystemClock())
