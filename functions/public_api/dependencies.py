"""Wiring of the public routes, made once per process at the first call that needs it."""

from __future__ import annotations

from functools import cache

from prakerja.adapters import aws
from prakerja.adapters.dynamodb_waves import DynamoDBWaveRepository
from prakerja.adapters.s3_objects import S3ObjectStore
from prakerja.config import PublicApiSettings, load_settings
from prakerja.selection.published import PublishedDraw


@cache
def settings() -> PublicApiSettings:
    return load_settings(PublicApiSettings)


@cache
def published_draw() -> PublishedDraw:
    config = settings()
    return PublishedDraw(
        DynamoDBWaveRepository(aws.dynamodb(), config.waves_table),
        S3ObjectStore(aws.s3(), config.selection_bucket),
    )
