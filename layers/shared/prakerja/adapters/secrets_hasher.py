"""The HMAC key for NIK/KK lookups, read from Secrets Manager once per cold start."""

from __future__ import annotations

from typing import TYPE_CHECKING

from prakerja.personal_data import PersonalDataHasher

if TYPE_CHECKING:
    from mypy_boto3_secretsmanager import SecretsManagerClient

# Bumped by the re-hash job of a key rotation (docs/personal-data.md); stored in each digest.
KEY_ID = "k1"


def load_hasher(client: SecretsManagerClient, secret_arn: str) -> PersonalDataHasher:
    secret = client.get_secret_value(SecretId=secret_arn)
    return PersonalDataHasher(secret["SecretString"].encode(), KEY_ID)
