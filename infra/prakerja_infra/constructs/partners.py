"""The partners' signing secrets: one Secrets Manager secret per partner in partners.json
(the shared layer's data), named ``prakerja/<stage>/partners/<partner_id>``."""

from __future__ import annotations

import json

from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from prakerja_infra.constructs.functions import ROOT
from prakerja_infra.nag import acknowledge
from prakerja_infra.stage import StageConfig, removal_policy

PARTNERS_FILE = ROOT / "layers" / "shared" / "prakerja" / "partners.json"


def partner_ids(kinds: tuple[str, ...] = ("platforms", "payment")) -> list[str]:
    raw = json.loads(PARTNERS_FILE.read_text(encoding="utf-8"))
    return [p["partner_id"] for kind in kinds for p in raw[kind]]


class PartnerSecrets(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, stage: StageConfig, key: kms.IKey) -> None:
        super().__init__(scope, construct_id)
        self.prefix = f"prakerja/{stage.name}/partners/"
        self.secrets: dict[str, secretsmanager.Secret] = {}
        for partner_id in partner_ids():
            secret = secretsmanager.Secret(
                self,
                partner_id,
                secret_name=self.prefix + partner_id,
                description=f"HMAC signing secret shared with the partner {partner_id}",
                encryption_key=key,
                generate_secret_string=secretsmanager.SecretStringGenerator(
                    password_length=48, exclude_punctuation=True
                ),
                removal_policy=removal_policy(stage),
            )
            acknowledge(
                secret,
                "AwsSolutions-SMG4",
                "The partner holds a copy to sign with: rotation is a planned exchange with the partner "
                "(a new secret version, then the old one retired), not a schedule that breaks their calls.",
            )
            self.secrets[partner_id] = secret

    def grant_read(self, grantee: iam.IGrantable, partner_type: str | None = None) -> None:
        """Every partner's secret, or only the payment partners' (``partner_type="PAYMENT"``)."""
        wanted = set(partner_ids(("payment",))) if partner_type == "PAYMENT" else set(self.secrets)
        for partner_id, secret in self.secrets.items():
            if partner_id in wanted:
                secret.grant_read(grantee)
