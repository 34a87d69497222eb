"""Wiring of the public routes, built once per cold start."""

from __future__ import annotations

from functools import cache

import boto3

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
        DynamoDBWaveRepository(boto3.client("dynamodb"), config.waves_table),
        S3ObjectStore(boto3.client("s3"), config.selection_bucket),
    )
