"""The AWS requests of one complaint filed, counted through the applicant function's real handler
on moto (every boto3 client of the process, Powertools' idempotency store's included): the figure
docs/grievances.md gives."""

from __future__ import annotations

import importlib
import json
import sys
import uuid
from collections import Counter
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import pytest
from botocore.client import BaseClient
from moto.core.models import DEFAULT_ACCOUNT_ID

from localcloud.provision import Resources
from prakerja.adapters.dynamodb_applicants import DynamoDBApplicantRepository
from tests.integration.conftest import REGION, physical
from tests.integration.test_applicant_repository import applicant


@dataclass
class Context:
    function_name: str = "applicant-api"
    memory_limit_in_mb: int = 1024
    invoked_function_arn: str = f"arn:aws:lambda:{REGION}:{DEFAULT_ACCOUNT_ID}:function:applicant-api"
    aws_request_id: str = "request-1"


@pytest.fixture
def handler(aws: Resources, monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    tables = {
        "APPLICANTS_TABLE": "DataApplicantsTable",
        "WAVES_TABLE": "DataWavesTable",
        "IDEMPOTENCY_TABLE": "DataIdempotencyTable",
        "ATTEMPTS_TABLE": "DataAttemptsTable",
        "CASES_TABLE": "DataCasesTable",
        "CATALOG_TABLE": "DataCatalogTable",
        "LEDGER_TABLE": "DataLedgerTable",
        "PAYOUTS_TABLE": "DataPayoutsTable",
    }
    for variable, table in tables.items():
        monkeypatch.setenv(variable, physical(aws, table))
    monkeypatch.setenv("PERSONAL_DATA_KEY_ARN", str(aws.find("DataPersonalDataKey", "AWS::KMS::Key").arn))
    monkeypatch.setenv("HASHING_SECRET_ARN", str(aws.find("DataPersonalDataHashingKey").ref))
    monkeypatch.setenv("REGISTRATION_STATE_MACHINE_ARN", "arn:aws:states:ap-southeast-3:123456789012:stateMachine:x")
    monkeypatch.setenv("PAYMENT_PARTNERS_URL", "http://127.0.0.1:9/partners")
    monkeypatch.setenv("PARTNER_SECRET_NAME_PREFIX", "prakerja/dev/partners/")
    monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "1")
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "Prakerja")
    for name in [m for m in sys.modules if m.startswith("applicant_api")]:
        sys.modules.pop(name)
    module = importlib.import_module("applicant_api.handler")  # cold start inside moto
    for wiring in ("settings", "applicants", "attempt_limiter", "idempotent_responses", "grievance_service"):
        getattr(importlib.import_module("applicant_api.dependencies"), wiring).cache_clear()
    monkeypatch.setattr(module.metrics, "namespace", "Prakerja")
    return module


def complaint_event(sub: str, key: str) -> dict[str, Any]:
    headers = {"Content-Type": "application/json", "Idempotency-Key": key}
    return {
        "resource": "/v1/complaints",
        "path": "/v1/complaints",
        "httpMethod": "POST",
        "headers": headers,
        "multiValueHeaders": {name: [value] for name, value in headers.items()},
        "queryStringParameters": None,
        "multiValueQueryStringParameters": None,
        "pathParameters": None,
        "requestContext": {
            "requestId": f"r-{uuid.uuid4().hex[:8]}",
            "resourcePath": "/v1/complaints",
            "httpMethod": "POST",
            "stage": "dev",
            "authorizer": {"claims": {"sub": sub}},
        },
        "body": json.dumps({"category": "PAYMENT", "message": "Insentif belum masuk"}),
        "isBase64Encoded": False,
    }


@pytest.fixture
def requests_made(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    made: Counter[str] = Counter()
    call = BaseClient._make_api_call  # type: ignore[attr-defined]

    def counted(client: BaseClient, operation: str, params: dict[str, Any]) -> Any:
        made[f"{client.meta.service_model.service_name}:{operation}"] += 1
        return call(client, operation, params)

    monkeypatch.setattr(BaseClient, "_make_api_call", counted)
    return made


def test_a_complaint_filed_with_a_key_by_an_account_without_a_profile(
    handler: ModuleType, requests_made: Counter[str]
) -> None:
    answer = handler.lambda_handler(complaint_event("sub-1", f"complaint-{uuid.uuid4()}"), Context())
    assert answer["statusCode"] == 201, answer
    assert requests_made == Counter(
        {
            "dynamodb:PutItem": 1,  # the idempotency record, in progress
            "dynamodb:UpdateItem": 2,  # the attempt counter; the idempotency record, done
            "dynamodb:GetItem": 1,  # the account's profile guard: none
            "dynamodb:TransactWriteItems": 1,  # the ticket and my list's row
            "kms:Encrypt": 1,  # the message
        }
    )
    print(f"\nrequests per complaint filed: {dict(requests_made)}")

    requests_made.clear()
    again = handler.lambda_handler(complaint_event("sub-1", f"complaint-{uuid.uuid4()}"), Context())
    assert again["statusCode"] == 201
    assert sum(n for op, n in requests_made.items() if op.startswith("dynamodb:")) == 5


def test_a_complaint_filed_with_a_key_by_an_applicant(
    handler: ModuleType, aws: Resources, clients: dict[str, Any], requests_made: Counter[str]
) -> None:
    DynamoDBApplicantRepository(clients["dynamodb"], physical(aws, "DataApplicantsTable")).create(
        applicant("a-1", account="sub-2")
    )
    requests_made.clear()
    answer = handler.lambda_handler(complaint_event("sub-2", f"complaint-{uuid.uuid4()}"), Context())
    assert answer["statusCode"] == 201, answer
    # One more than without a profile: the profile itself, for the applicant id an answer's SMS needs.
    assert requests_made["dynamodb:GetItem"] == 2
    assert sum(n for op, n in requests_made.items() if op.startswith("dynamodb:")) == 6
    assert requests_made["kms:Encrypt"] == 1
