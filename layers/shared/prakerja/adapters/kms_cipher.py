"""Personal data encrypted with the KMS personal-data key; the encryption context binds each
ciphertext to its record and shows up in CloudTrail for every decrypt."""

from __future__ import annotations

import base64
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mypy_boto3_kms import KMSClient


class KmsCipher:
    def __init__(self, client: KMSClient, key_arn: str) -> None:
        self._kms = client
        self._key = key_arn

    def encrypt(self, plaintext: bytes, context: dict[str, str]) -> str:
        blob = self._kms.encrypt(KeyId=self._key, Plaintext=plaintext, EncryptionContext=context)["CiphertextBlob"]
        return base64.b64encode(blob).decode()

    def decrypt(self, ciphertext: str, context: dict[str, str]) -> bytes:
        return self._kms.decrypt(
            KeyId=self._key, CiphertextBlob=base64.b64decode(ciphertext), EncryptionContext=context
        )["Plaintext"]
