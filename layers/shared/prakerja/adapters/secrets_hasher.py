"""The hashing keyring for NIK/KK lookups, read from Secrets Manager once per cold start.

The secret is a bare key (key id ``k1``) or a keyring document (docs/personal-data.md):
``{"current": "k2", "keys": {"k1": "...", "k2": "..."}}``. A changed secret takes effect at
each function's next cold start.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from prakerja.personal_data import HashingKeyring

if TYPE_CHECKING:
    from mypy_boto3_secretsmanager import SecretsManagerClient


def load_keyring(client: SecretsManagerClient, secret_arn: str) -> HashingKeyring:
    secret = client.get_secret_value(SecretId=secret_arn)
    return HashingKeyring.from_secret(secret["SecretString"])
