"""Cognito user pool: applicants sign up with email + OTP; operations staff are in `ops`."""

from __future__ import annotations

from aws_cdk import Annotations, Duration
from aws_cdk import aws_cognito as cognito
from constructs import Construct

from prakerja_infra.nag import acknowledge, resource_of
from prakerja_infra.stage import HOME_REGION, StageConfig, removal_policy

OPS_GROUP = "ops"


def _email(stage: StageConfig) -> cognito.UserPoolEmail | None:
    """Sign-up and recovery codes through SES from the stage's verified identity; Cognito's own
    e-mail (a few dozen a day) only where no sender is configured, which synth warns about
    outside dev (docs/deploy.md: verifying the identity, SES production access)."""
    sender = stage.email_sender
    if sender is None:
        return None
    return cognito.UserPoolEmail.with_ses(
        from_email=sender.from_address,
        from_name=sender.from_name,
        reply_to=sender.reply_to,
        ses_verified_domain=sender.verified_domain,
        ses_region=HOME_REGION,
    )


class Auth(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, stage: StageConfig) -> None:
        super().__init__(scope, construct_id)
        if stage.email_sender is None and stage.name != "dev":
            Annotations.of(self).add_warning_v2(
                "prakerja:cognito-email",
                f"{stage.name}: Cognito sends sign-up codes with its built-in e-mail (a few dozen a day); set "
                "email_sender in infra/prakerja_infra/stage.py to send through SES (docs/deploy.md).",
            )
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
            email=_email(stage),
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
