"""Wiring of the payout workflow's steps (each its own Lambda function)."""

from __future__ import annotations

from functools import cache

from prakerja.adapters import aws, payouts_wiring
from prakerja.adapters.dynamodb_ledger import DynamoDBLedger
from prakerja.adapters.s3_objects import S3ObjectStore
from prakerja.clock import SystemClock
from prakerja.config import PayoutWorkflowSettings, load_settings
from prakerja.ledger.service import LedgerService
from prakerja.partners import load_partners
from prakerja.payouts.service import TransferService


@cache
def settings() -> PayoutWorkflowSettings:
    return load_settings(PayoutWorkflowSettings)


@cache
def transfers() -> TransferService:
    config = settings()
    return payouts_wiring.transfer_service(config, config.ledger_table, config.personal_data_key_arn)


@cache
def run_files() -> S3ObjectStore:
    return S3ObjectStore(aws.s3(), settings().payouts_bucket)


@cache
def ledger() -> LedgerService:
    return LedgerService(DynamoDBLedger(aws.dynamodb(), settings().ledger_table), load_partners(), SystemClock())
