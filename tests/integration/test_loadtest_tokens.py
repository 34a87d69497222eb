"""The load test's token file minted from a user pool with Cognito's admin API (moto)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import jwt
import pytest
from moto import mock_aws

from loadtest.tokens import CognitoSignIn, mint

REGION = "ap-southeast-3"


@pytest.fixture
def cognito(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        yield boto3.client("cognito-idp", region_name=REGION)


def test_applicant_accounts_are_created_and_recipients_signed_in(cognito: Any) -> None:
    pool = cognito.create_user_pool(PoolName="applicants")["UserPool"]["Id"]
    client = cognito.create_user_pool_client(
        UserPoolId=pool, ClientName="loadtest", ExplicitAuthFlows=["ALLOW_ADMIN_USER_PASSWORD_AUTH"]
    )["UserPoolClient"]["ClientId"]
    cognito.admin_create_user(UserPoolId=pool, Username="penerima@example.com", MessageAction="SUPPRESS")
    sign_in = CognitoSignIn(cognito, pool, client)

    content = mint(sign_in, ["a1@example.com", "a2@example.com"], ["penerima@example.com"])
    again = mint(sign_in, ["a1@example.com"], [])  # a second mint signs the same account in again

    def account(token: str) -> str:
        claims = jwt.decode(token, options={"verify_signature": False})
        assert claims["token_use"] == "id"
        return str(claims["cognito:username"])

    assert [account(t) for t in content["applicants"]] == ["a1@example.com", "a2@example.com"]
    assert [account(t) for t in content["recipients"]] == ["penerima@example.com"]
    assert [account(t) for t in again["applicants"]] == ["a1@example.com"]
