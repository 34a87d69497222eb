"""Cognito user pool: applicants sign up with email + OTP; operations staff are in `ops`."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_cognito as cognito
from constructs import Construct

from prakerja_infra.nag import acknowledge, resource_of
from prakerja_infra.stage import StageConfig, removal_policy

OPS_GROUP = "ops"


class Auth(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, stage: StageConfig) -> None:
        super().__init__(scope, construct_id)
        self.user_pool = cognito.UserPool(
            self,
            "ApplicantPool",
            self_sign_up_enabled=True,
            sign_in_aliases=cognito.SignInAliases(email=True),
            auto_verify=cognito.AutoVerifiedAttrs(email=True),  # the e-mail OTP of the journey
            account_recovery=cognito.AccountRecovery.EMAIL_ONLY,
            password_policy=cognito.PasswordPolicy(
                min_length=10,
                require_digits=True,
                require_lowercase=True,
                require_uppercase=True,
                require_symbols=True,
            ),
            mfa=cognito.Mfa.OPTIONAL,
            mfa_second_factor=cognito.MfaSecondFactor(sms=False, otp=True),
            feature_plan=cognito.FeaturePlan.PLUS,
            standard_threat_protection_mode=cognito.StandardThreatProtectionMode.FULL_FUNCTION,
            removal_policy=removal_policy(stage),
        )
        acknowledge(
            resource_of(self.user_pool),
            "AwsSolutions-COG2",
            "Millions of applicants sign up with e-mail OTP verification; TOTP MFA is offered "
            "(optional) and required of the ops group by policy, not of every applicant.",
        )
        self.client = self.user_pool.add_client(
            "WebClient",
            auth_flows=cognito.AuthFlow(user_srp=True),
            # The web app signs in with SRP; no hosted UI, so no OAuth flows or callback URLs.
            disable_o_auth=True,
            prevent_user_existence_errors=True,
            access_token_validity=Duration.hours(1),
            id_token_validity=Duration.hours(1),
        )
        cognito.CfnUserPoolGroup(
            self,
            "OpsGroup",
            user_pool_id=self.user_pool.user_pool_id,
            group_name=OPS_GROUP,
            description="Operations staff: waves, exclusion lists, payouts, ledger",
        )
