"""One client per AWS service and process. A client costs tens of milliseconds to make (its
service model is loaded and parsed) and holds a connection pool: the functions' wiring
(``functions/*/dependencies.py``) asks for them here, when a call first needs one, never at import.

After a SnapStart restore (prakerja.snapstart) the clients are made anew: a connection opened
before the snapshot is not one the restored sandbox holds.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

import boto3
from botocore.config import Config

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_kms import KMSClient
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_secretsmanager import SecretsManagerClient
    from mypy_boto3_sns import SNSClient
    from mypy_boto3_stepfunctions import SFNClient

# A Publish that hangs fails within the notifier's invocation (its claim given back, the record
# retried) instead of running it into its timeout with the message still claimed: botocore's
# default read timeout (60 s) is twice the function's. Throttling is still retried, with backoff.
SNS_CONFIG = Config(connect_timeout=2, read_timeout=5, retries={"mode": "standard", "max_attempts": 3})


@cache
def dynamodb(pool: int | None = None) -> DynamoDBClient:
    """``pool``: connections for a step that calls from that many threads (botocore keeps 10)."""
    return boto3.client("dynamodb", config=Config(max_pool_connections=pool) if pool else None)


@cache
def kms() -> KMSClient:
    return boto3.client("kms")


@cache
def s3() -> S3Client:
    return boto3.client("s3")


@cache
def secretsmanager() -> SecretsManagerClient:
    return boto3.client("secretsmanager")


@cache
def stepfunctions() -> SFNClient:
    return boto3.client("stepfunctions")


@cache
def sns() -> SNSClient:
    return boto3.client("sns", config=SNS_CONFIG)


CLIENTS = (dynamodb, kms, s3, secretsmanager, stepfunctions, sns)


def made() -> int:
    """How many clients this process has made (a handler's import makes none)."""
    return sum(factory.cache_info().currsize for factory in CLIENTS)


def forget() -> None:
    """Every client made anew at its next use."""
    for factory in CLIENTS:
        factory.cache_clear()
