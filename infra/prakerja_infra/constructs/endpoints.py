"""The partners' endpoints a stage calls: the civil registry's e-KYC API and the payment partners'.

They are deploy-time parameters, not code: each deployment names the real endpoints it was given
(`npx cdk deploy -c stage=prod --parameters CivilRegistryUrl=https://...`, kept by later deploys),
and CloudFormation refuses to create a stack without them, or with a placeholder, with a message
that says which (docs/deploy.md). A placeholder made every e-KYC exhaust its retries.
"""

from __future__ import annotations

from aws_cdk import CfnParameter
from constructs import Construct

# https only, and no placeholder host (*.example, example.*): Java's regex, as CloudFormation reads it.
REAL_ENDPOINT = r"^https://(?![^/]*\bexample\b)[A-Za-z0-9.-]+(:[0-9]+)?(/[^\s]*)?$"
# The parameters' names: the local runtime gives them its simulated partners' addresses.
CIVIL_REGISTRY_URL = "CivilRegistryUrl"
PAYMENT_PARTNERS_URL = "PaymentPartnersUrl"


class PartnerEndpoints(Construct):
    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        self.civil_registry_url = self._endpoint(
            CIVIL_REGISTRY_URL,
            "The civil registry's (Dukcapil) e-KYC API base URL, e.g. https://<host>/api/v1; the e-KYC step "
            "POSTs to <url>/verify.",
        )
        self.payment_partners_url = self._endpoint(
            PAYMENT_PARTNERS_URL,
            "The payment partners' gateway base URL; each partner at <url>/<provider> (its sandbox outside prod).",
        )

    def _endpoint(self, name: str, description: str) -> str:
        parameter = CfnParameter(
            self,
            name,
            type="String",
            description=description,
            allowed_pattern=REAL_ENDPOINT,
            constraint_description=f"{name} must be the real https endpoint this stage was given, not a "
            "placeholder (docs/deploy.md, step 4).",
        )
        # The stack's parameter is named as written, not with CDK's construct path and hash.
        parameter.override_logical_id(name)
        return parameter.value_as_string
