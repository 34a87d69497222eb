"""AWS requests made on the request path of one registration (POST /v1/applicants), counted
at botocore level around the real service and adapters, on moto provisioned from the
synthesized template. The hashing key is read once per cold start, so it is counted apart.
Usage: python bench/registration_requests.py [--registrations 50]
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import boto3
from moto import mock_aws

ROOT = Path(__file__).resolve().parents[1]
for extra in ("infra", "layers/shared", "functions", "."):
    sys.path.insert(0, str(ROOT / extra))

from localcloud.provision import provision  # noqa: E402
from prakerja.adapters.dynamodb_applicants import DynamoDBApplicantRepository  # noqa: E402
from prakerja.adapters.kms_cipher import KmsCipher  # noqa: E402
from prakerja.adapters.secrets_hasher import load_keyring  # noqa: E402
from prakerja.adapters.stepfunctions_starter import StepFunctionsStarter  # noqa: E402
from prakerja.clock import SystemClock  # noqa: E402
from prakerja.registration.models import RegistrationRequest  # noqa: E402
from prakerja.registration.service import PersonalDataVault, RegistrationService  # noqa: E402
from synth import ensure_synthesized  # noqa: E402
from tests.factories import build_kk, build_nik, valid_registration  # noqa: E402

REGION = "ap-southeast-3"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--registrations", type=int, default=50)
    args = parser.parse_args()
    template = json.loads(ensure_synthesized("dev").read_text())
    calls: Counter[str] = Counter()

    def count(event_name: str, **kwargs: Any) -> None:
        _, service_name, operation = event_name.split(".", 2)
        calls[f"{service_name}.{operation}"] += 1

    with mock_aws():
        resources = provision(template, lambda s: boto3.client(s, region_name=REGION))  # type: ignore[call-overload]
        dynamodb = boto3.client("dynamodb", region_name=REGION)
        kms = boto3.client("kms", region_name=REGION)
        secrets = boto3.client("secretsmanager", region_name=REGION)
        sfn = boto3.client("stepfunctions", region_name=REGION)
        registration = RegistrationService(
            applicants=DynamoDBApplicantRepository(dynamodb, str(resources.find("DataApplicantsTable").ref)),
            vault=PersonalDataVault(KmsCipher(kms, str(resources.find("DataPersonalDataKey").arn))),
            keyring=load_keyring(secrets, str(resources.find("DataPersonalDataHashingKey").ref)),
            workflow=StepFunctionsStarter(
                sfn, str(resources.find("RegistrationWorkflowStateMachine", "AWS::StepFunctions::StateMachine").ref)
            ),
            clock=SystemClock(),
        )
        clients: list[Any] = [dynamodb, kms, secrets, sfn]
        for client in clients:
            client.meta.events.register("before-call.*.*", count)
        for i in range(args.registrations):
            body = valid_registration(nik=build_nik(serial=i + 1), kk_number=build_kk(serial=i + 1))
            registration.register(f"account-{i}", RegistrationRequest.model_validate(body))

    n = args.registrations
    print(f"registrations={n}")
    for name, total in sorted(calls.items()):
        print(f"  {name}: {total / n:.2f} per registration")
    per_registration = sum(v for k, v in calls.items() if k.startswith("dynamodb.")) / n
    print(f"dynamodb_requests_per_registration={per_registration:.2f} (one TransactWriteItems of 3 puts = 6 WCU)")
    print(f"all_aws_requests_per_registration={sum(calls.values()) / n:.2f}")


if __name__ == "__main__":
    main()
