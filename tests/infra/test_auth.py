"""Cognito: the applicant pool, its password policy and verification, the ops group."""

from __future__ import annotations

from typing import Any

import pytest

from tests.infra.cfn import CfnTemplate, one


@pytest.fixture(scope="module")
def pool(dev_template: CfnTemplate) -> tuple[str, dict[str, Any]]:
    pool_id, resource = one(dev_template, "AWS::Cognito::UserPool", "AuthApplicantPool")
    return pool_id, resource["Properties"]


def test_ops_group_exists_in_the_pool(dev_template: CfnTemplate, pool: tuple[str, dict[str, Any]]) -> None:
    _, group = one(dev_template, "AWS::Cognito::UserPoolGroup", "AuthOpsGroup")
    assert group["Properties"]["GroupName"] == "ops"
    assert group["Properties"]["UserPoolId"] == {"Ref": pool[0]}


def test_password_policy(pool: tuple[str, dict[str, Any]]) -> None:
    policy = pool[1]["Policies"]["PasswordPolicy"]
    assert policy["MinimumLength"] >= 10
    assert all(policy[f"Require{kind}"] for kind in ("Lowercase", "Uppercase", "Numbers", "Symbols"))


def test_email_is_the_verified_sign_in(pool: tuple[str, dict[str, Any]]) -> None:
    properties = pool[1]
    assert properties["AutoVerifiedAttributes"] == ["email"]
    assert properties["UsernameAttributes"] == ["email"]
    assert properties["VerificationMessageTemplate"]["DefaultEmailOption"] == "CONFIRM_WITH_CODE"
    assert properties["AccountRecoverySetting"]["RecoveryMechanisms"] == [{"Name": "verified_email", "Priority": 1}]


def test_threat_protection_and_totp_are_on(pool: tuple[str, dict[str, Any]]) -> None:
    properties = pool[1]
    assert properties["UserPoolAddOns"]["AdvancedSecurityMode"] == "ENFORCED"
    assert properties["MfaConfiguration"] in ("OPTIONAL", "ON")
    assert "SOFTWARE_TOKEN_MFA" in properties["EnabledMfas"]


def test_client_does_not_reveal_which_users_exist(dev_template: CfnTemplate) -> None:
    _, client = one(dev_template, "AWS::Cognito::UserPoolClient", "AuthApplicantPoolWebClient")
    properties = client["Properties"]
    assert properties["PreventUserExistenceErrors"] == "ENABLED"
    # A browser client: no secret to leak.
    assert not properties.get("GenerateSecret", False)


def test_client_offers_no_implicit_grant_or_placeholder_callback(dev_template: CfnTemplate) -> None:
    _, client = one(dev_template, "AWS::Cognito::UserPoolClient", "AuthApplicantPoolWebClient")
    properties = client["Properties"]
    assert "implicit" not in properties.get("AllowedOAuthFlows", [])
    assert "https://example.com" not in properties.get("CallbackURLs", [])
