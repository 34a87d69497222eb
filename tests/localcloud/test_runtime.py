"""The runtime end to end: moto server, Lambda workers, Step Functions, API Gateway, /_local."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import boto3
import jwt
import pytest
import requests
from cryptography.hazmat.primitives.asymmetric import rsa
from moto.utilities.utils import load_resource

from localcloud import LocalCloud
from localcloud.runtime import FunctionError

from .conftest import TEMPLATE

# -- provisioning and the workers' environment ----------------------------------------------


def test_resources_exist_in_moto(cloud):
    tables = cloud.boto3_client("dynamodb").list_tables()["TableNames"]
    assert sorted(tables) == ["Fake-test-ItemsTable1A2B3C4D", "Fake-test-named-dev"]
    functions = {f["FunctionName"] for f in cloud.boto3_client("lambda").list_functions()["Functions"]}
    assert "Fake-test-ApiFunctionCCCC3333" in functions
    machines = cloud.boto3_client("stepfunctions").list_state_machines()["stateMachines"]
    assert [m["name"] for m in machines] == ["Fake-test-workflow"]
    assert cloud.resources.find("Pool1").provisioned
    assert not cloud.resources.find("RestApi0").provisioned


def test_local_aws_tells_tools_the_endpoint_and_the_stack_outputs(cloud):
    """What `aws cloudformation describe-stacks` would tell an ops tool on AWS."""
    described = requests.get(f"{cloud.api_url}/_local/aws", timeout=10).json()
    assert (described["endpoint_url"], described["region"]) == (cloud.moto_url, cloud.region)
    assert described["stack_name"] == "Fake-test"
    outputs = described["outputs"]
    assert outputs["StateMachineName"] == "Fake-test-workflow"
    assert outputs["UserPoolId"] == cloud.resources.find("Pool1").ref
    assert outputs["ApiUrl"] == cloud.api_url  # the local API, not the template's execute-api URL
    sfn = boto3.client(
        "stepfunctions",
        endpoint_url=described["endpoint_url"],
        region_name=described["region"],
        aws_access_key_id="x",
        aws_secret_access_key="x",
    )
    assert [m["name"] for m in sfn.list_state_machines()["stateMachines"]] == ["Fake-test-workflow"]


def test_workers_see_resolved_physical_names_and_a_clean_environment(cloud):
    answer = requests.get(f"{cloud.api_url}/env", timeout=10).json()
    env = answer["env"]
    resources = cloud.resources
    assert env["TABLE_NAME"] == resources.find("ItemsTable").ref == "Fake-test-ItemsTable1A2B3C4D"
    assert env["NAMED_TABLE"] == "Fake-test-named-dev"
    assert env["KEY_ARN"] == resources.find("DataKey").arn
    assert env["SECRET_ARN"] == resources.find("HashingSecret").ref
    assert env["STATE_MACHINE_ARN"] == resources.find("WorkflowStateMachine").ref
    assert env["QUEUE_URL"] == resources.find("WorkQueue").ref
    assert env["GREETING"] == "hello-dev"
    assert env["REGION_ACCOUNT"] == "ap-southeast-3/123456789012/aws/amazonaws.com"
    assert env["SECOND"] == "beta"
    assert env["AWS_ENDPOINT_URL"] == cloud.moto_url
    assert env["CIVIL_REGISTRY_URL"] == f"{cloud.api_url}/_local/dukcapil"
    assert env["AWS_REGION"] == "ap-southeast-3"
    assert env["AWS_LAMBDA_FUNCTION_NAME"] == "Fake-test-ApiFunctionCCCC3333"
    assert env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == "256"
    assert env["POWERTOOLS_TRACE_DISABLED"] == "true"
    assert env["EXTRA_SETTING"] == "from-overrides"
    assert env["HOME_SECRET"] is None  # nothing leaks from the runtime's own environment
    assert answer["tests_importable"] is False  # only what would be deployed is importable
    assert answer["first_path"].endswith("fake_functions")


# -- Step Functions through moto's interpreter ----------------------------------------------


def test_state_machine_retries_a_custom_error_and_catch_sees_its_name(cloud):
    sfn = cloud.boto3_client("stepfunctions")
    run_retry, run_fatal = uuid.uuid4().hex, uuid.uuid4().hex
    started = requests.post(f"{cloud.api_url}/workflow", json={"run_id": run_retry, "fail_times": 2}, timeout=10)
    assert started.status_code == 202
    retried = started.json()["execution_arn"]
    machine = cloud.resources.find("WorkflowStateMachine").ref
    caught = sfn.start_execution(stateMachineArn=machine, input=json.dumps({"run_id": run_fatal, "fatal": True}))
    cloud.wait_for_executions("WorkflowStateMachine", timeout=30)

    first = sfn.describe_execution(executionArn=retried)
    assert first["status"] == "SUCCEEDED"
    output = json.loads(first["output"])
    assert output["attempts"] == 3  # failed twice with TransientError, retried, then passed
    assert output["status"] == "DONE"
    assert output["table"] == "Fake-test-ItemsTable1A2B3C4D"
    history = sfn.get_execution_history(executionArn=retried)["events"]
    failures = [e["lambdaFunctionFailedEventDetails"] for e in history if e["type"] == "LambdaFunctionFailed"]
    assert [f["error"] for f in failures] == ["TransientError", "TransientError"]

    second = sfn.describe_execution(executionArn=caught["executionArn"])
    assert second["status"] == "SUCCEEDED"
    error = json.loads(second["output"])["error"]
    assert error["Error"] == "FatalError"
    cause = json.loads(error["Cause"])
    assert cause["errorType"] == "FatalError"
    assert cause["errorMessage"] == f"run {run_fatal} cannot continue"
    assert isinstance(cause["stackTrace"], list)
    assert "steps.py" in cause["stackTrace"][-1]
    # unnamed executions get distinct names (moto would call both "None")
    assert retried != caught["executionArn"]


# -- Lambda invocations -----------------------------------------------------------------------


def test_invoke_directly_and_through_moto(cloud):
    run_id = uuid.uuid4().hex
    assert cloud.invoke("StepOneFunctionAAAA1111", {"run_id": run_id}) == {"run_id": run_id, "attempts": 1}
    with pytest.raises(FunctionError) as failure:
        cloud.invoke("StepOneFunctionAAAA1111", {"run_id": run_id, "fatal": True})
    assert failure.value.payload["errorType"] == "FatalError"
    assert failure.value.payload["stackTrace"]

    lam = cloud.boto3_client("lambda")
    response = lam.invoke(FunctionName="Fake-test-StepOneFunctionAAAA1111", Payload=json.dumps({"run_id": run_id}))
    assert json.loads(response["Payload"].read()) == {"run_id": run_id, "attempts": 3}
    failed = lam.invoke(
        FunctionName=cloud.resources.find("StepOneFunction").arn,
        Payload=json.dumps({"run_id": run_id, "fatal": True}),
    )
    assert "FunctionError" in failed
    assert json.loads(failed["Payload"].read())["errorType"] == "FatalError"


def test_event_invocations_return_at_once_and_run_in_the_background(cloud):
    lam = cloud.boto3_client("lambda")
    started = time.monotonic()
    slow = lam.invoke(
        FunctionName="Fake-test-SlowFunctionDDDD4444", InvocationType="Event", Payload=b'{"seconds": 0.9}'
    )
    assert slow["StatusCode"] == 202
    assert time.monotonic() - started < 0.8
    run_id = uuid.uuid4().hex
    lam.invoke(
        FunctionName="Fake-test-StepOneFunctionAAAA1111", InvocationType="Event", Payload=json.dumps({"run_id": run_id})
    )
    ddb = cloud.boto3_client("dynamodb")
    key = {"pk": {"S": f"attempts#{run_id}"}, "sk": {"S": "step_one"}}
    deadline = time.monotonic() + 10
    while "Item" not in ddb.get_item(TableName=cloud.resources.find("ItemsTable").ref, Key=key):
        assert time.monotonic() < deadline, "the event invocation never ran"
        time.sleep(0.05)


def test_a_function_running_past_its_timeout_is_stopped(cloud):
    with pytest.raises(FunctionError) as failure:
        cloud.invoke("SlowFunctionDDDD4444", {"seconds": 5})
    assert failure.value.payload["errorType"] == "Sandbox.Timedout"
    assert "Task timed out after 1.00 seconds" in failure.value.payload["errorMessage"]
    assert cloud.invoke("SlowFunctionDDDD4444", {"seconds": 0}) == {"slept": True}  # a fresh worker


def test_worker_output_goes_to_per_function_log_files(cloud):
    requests.get(f"{cloud.api_url}/items/logged", timeout=10)
    log_file = cloud.state_dir / "logs" / "ApiFunctionCCCC3333.log"
    text = log_file.read_text()
    assert "handling GET /items/{item_id}" in text
    assert "START RequestId:" in text
    assert "REPORT RequestId:" in text
    assert "cold start Fake-test-StepOneFunctionAAAA1111" in cloud.function_logs("StepOneFunctionAAAA1111")
    assert "==> ApiFunctionCCCC3333.log <==" in cloud.function_logs()


# -- API Gateway --------------------------------------------------------------------------------


def test_proxy_event_has_api_gateway_shape(cloud):
    response = requests.get(f"{cloud.api_url}/items/abc%20d?x=1&x=2&y=3", headers={"X-Custom": "v"}, timeout=10)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    assert response.headers["x-amzn-RequestId"]
    event = response.json()["event"]
    assert event["resource"] == "/items/{item_id}"
    assert event["path"] == "/items/abc d"
    assert event["httpMethod"] == "GET"
    assert event["pathParameters"] == {"item_id": "abc d"}
    assert event["queryStringParameters"] == {"x": "2", "y": "3"}
    assert event["multiValueQueryStringParameters"] == {"x": ["1", "2"], "y": ["3"]}
    assert event["headers"]["X-Custom"] == "v"
    assert event["multiValueHeaders"]["X-Custom"] == ["v"]
    assert event["stageVariables"] is None
    assert event["body"] is None
    assert event["isBase64Encoded"] is False
    context = event["requestContext"]
    assert context["resourcePath"] == "/items/{item_id}"
    assert context["httpMethod"] == "GET"
    assert context["path"] == "/test/items/abc d"
    assert context["stage"] == "test"
    assert context["requestId"] == response.headers["x-amzn-RequestId"]
    assert context["identity"]["sourceIp"] == "127.0.0.1"
    assert abs(context["requestTimeEpoch"] / 1000 - time.time()) < 30
    assert "authorizer" not in context
    assert 0 < response.json()["remaining_ms"] <= 10_000


def test_nested_greedy_and_stage_prefixed_routes(cloud):
    nested = requests.get(f"{cloud.api_url}/items/42/parts", timeout=10).json()["event"]
    assert nested["pathParameters"] == {"item_id": "42"}
    greedy = requests.put(f"{cloud.api_url}/files/a/b/c.txt", data="x", timeout=10).json()["event"]
    assert greedy["resource"] == "/files/{path+}"
    assert greedy["pathParameters"] == {"path": "a/b/c.txt"}
    assert greedy["body"] == "x"
    staged = requests.get(f"{cloud.api_url}/test/items/7", timeout=10).json()["event"]
    assert staged["path"] == "/items/7"


def test_unknown_routes_and_methods_use_the_template_gateway_response(cloud):
    for method, path in (("GET", "/nowhere"), ("DELETE", "/items/1"), ("GET", "/items")):
        response = requests.request(method, f"{cloud.api_url}{path}", timeout=10)
        assert response.status_code == 404, path
        assert response.headers["Content-Type"] == "application/problem+json"
        body = response.json()
        assert body["code"] == "NOT_FOUND"
        assert body["status"] == 404
        assert body["instance"] == response.headers["x-amzn-RequestId"]  # $context.requestId substituted


def test_a_failing_handler_gives_api_gateways_default_502(cloud):
    response = requests.get(f"{cloud.api_url}/boom", timeout=10)
    assert response.status_code == 502
    assert response.json() == {"message": "Internal server error"}
    logs = cloud.function_logs("ApiFunctionCCCC3333")
    assert "[ERROR] RuntimeError: boom goes the handler" in logs
    assert "Traceback" in logs


def test_binary_bodies_travel_base64(cloud):
    raw = bytes([0xFF, 0xFE, 0x00, 0x41])
    response = requests.post(f"{cloud.api_url}/binary", data=raw, timeout=10)
    assert response.status_code == 200
    assert response.content == raw[::-1]
    assert response.headers["Content-Type"] == "application/octet-stream"
    assert response.headers["X-Multi"] == "a, b"


def test_parallel_conditional_puts_have_exactly_one_winner(cloud):
    key = f"nik-{uuid.uuid4().hex}"

    def register(i: int) -> int:
        body = {"pk": key, "owner": f"account-{i}"}
        return requests.post(f"{cloud.api_url}/items", json=body, timeout=30).status_code

    with ThreadPoolExecutor(max_workers=20) as pool:
        statuses = list(pool.map(register, range(20)))
    assert sorted(statuses) == [201] + [409] * 19
    assert 1 < cloud.worker_counts()["ApiFunctionCCCC3333"] <= 8  # the pool grew, within Lambda's limit


def test_usage_counts_what_aws_would_bill(cloud):
    """The operation counts behind the cost estimate: each invocation, and each AWS request by
    service and operation, counted once."""

    def usage() -> dict[str, Any]:
        answer = requests.get(f"{cloud.api_url}/_local/usage", timeout=10)
        assert answer.status_code == 200, answer.text
        return dict(answer.json())

    before = usage()
    for i in range(3):
        body = {"pk": f"usage-{uuid.uuid4().hex}", "owner": f"account-{i}"}
        assert requests.post(f"{cloud.api_url}/items", json=body, timeout=30).status_code == 201
    after = usage()
    api = after["functions"]["ApiFunctionCCCC3333"]
    assert api["invocations"] == before["functions"]["ApiFunctionCCCC3333"]["invocations"] + 3
    assert api["seconds"] > before["functions"]["ApiFunctionCCCC3333"]["seconds"]
    puts = after["aws_requests"].get("dynamodb:PutItem", 0) - before["aws_requests"].get("dynamodb:PutItem", 0)
    assert puts == 3

    # A transaction is one request, billed per item it names.
    table = cloud.resources.find("ItemsTable1A2B3C4D").ref
    cloud.boto3_client("dynamodb").transact_write_items(
        TransactItems=[
            {"Put": {"TableName": table, "Item": {"pk": {"S": f"usage-{uuid.uuid4().hex}"}, "sk": {"S": "-"}}}}
            for _ in range(2)
        ]
    )
    final = usage()
    transactions = "dynamodb:TransactWriteItems"
    assert final["aws_requests"][transactions] == after["aws_requests"].get(transactions, 0) + 1
    assert final["dynamodb_items"][transactions] == after["dynamodb_items"].get(transactions, 0) + 2


# -- Cognito authorizer -----------------------------------------------------------------------


def _token(cloud: LocalCloud, email: str, groups: list[str] | None = None) -> str:
    body: dict[str, Any] = {"email": email} if groups is None else {"email": email, "groups": groups}
    response = requests.post(f"{cloud.api_url}/_local/tokens", json=body, timeout=10)
    assert response.status_code == 200, response.text
    return str(response.json()["token"])


def _me(cloud: LocalCloud, authorization: str | None) -> requests.Response:
    headers = {} if authorization is None else {"Authorization": authorization}
    return requests.get(f"{cloud.api_url}/me", headers=headers, timeout=10)


def _encode(header: dict[str, Any], claims: dict[str, Any], sign: Callable[[bytes], bytes]) -> str:
    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    signing_input = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(claims).encode())}"
    return f"{signing_input}.{b64(sign(signing_input.encode()))}"


def test_tokens_from_local_route_pass_the_authorizer(cloud):
    token = _token(cloud, "Applicant@Example.com")
    response = _me(cloud, f"Bearer {token}")
    assert response.status_code == 200
    claims = response.json()
    assert claims["email"] == "applicant@example.com"
    assert claims["token_use"] == "id"
    assert claims["sub"]
    assert all(isinstance(v, str) for v in claims.values())  # as a REST API authorizer passes them
    assert "cognito:groups" not in claims
    assert _me(cloud, token).status_code == 200  # the raw token works too

    ops = _me(cloud, f"Bearer {_token(cloud, 'ops@example.com', ['ops'])}").json()
    assert ops["cognito:groups"] == "ops"
    again = _me(cloud, f"Bearer {_token(cloud, 'ops@example.com')}").json()
    assert "cognito:groups" not in again  # groups are what was asked for this time
    assert again["sub"] == ops["sub"]  # same account


def test_the_authorizer_rejects_bad_tokens(cloud):
    good = _token(cloud, "victim@example.com")
    claims = jwt.decode(good, options={"verify_signature": False})
    moto_key = jwt.PyJWK.from_dict(load_resource("cognitoidp/resources/jwks-private.json"))
    other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public_jwk = load_resource("cognitoidp/resources/jwks-public.json")["keys"][0]

    forged = jwt.encode(claims, other_key, algorithm="RS256", headers={"kid": "dummy"})
    expired = jwt.encode({**claims, "exp": int(time.time()) - 60}, moto_key.key, "RS256", headers={"kid": "dummy"})
    other_pool = {**claims, "iss": claims["iss"].rsplit("/", 1)[0] + "/ap-southeast-3_other"}
    wrong_issuer = jwt.encode(other_pool, moto_key.key, "RS256", headers={"kid": "dummy"})
    access = jwt.encode({**claims, "token_use": "access"}, moto_key.key, "RS256", headers={"kid": "dummy"})
    alg_none = _encode({"alg": "none", "kid": "dummy"}, claims, lambda _: b"")
    hs256 = _encode(
        {"alg": "HS256", "kid": "dummy"},
        claims,
        lambda data: hmac.new(json.dumps(public_jwk).encode(), data, hashlib.sha256).digest(),
    )
    for name, header in {
        "missing": None,
        "empty": "Bearer ",
        "garbage": "Bearer not-a-jwt",
        "forged": f"Bearer {forged}",
        "expired": f"Bearer {expired}",
        "wrong issuer": f"Bearer {wrong_issuer}",
        "access token": f"Bearer {access}",
        "alg none": f"Bearer {alg_none}",
        "hs256": f"Bearer {hs256}",
        "tampered": f"Bearer {good[:-4]}AAAA",
    }.items():
        response = _me(cloud, header)
        assert response.status_code == 401, name
        assert response.headers["Content-Type"] == "application/problem+json"
        assert response.json()["code"] == "UNAUTHORIZED"
    assert _me(cloud, f"Bearer {good}").status_code == 200


# -- /_local routes -----------------------------------------------------------------------------


def test_local_routes_validate_their_input(cloud):
    bad_json = requests.post(f"{cloud.api_url}/_local/tokens", data="{nope", timeout=10)
    assert bad_json.status_code == 400
    assert bad_json.headers["Content-Type"] == "application/problem+json"
    assert {"type", "title", "status", "code", "detail"} <= set(bad_json.json())
    no_email = requests.post(f"{cloud.api_url}/_local/tokens", json={"groups": ["ops"]}, timeout=10)
    assert no_email.status_code == 422
    assert no_email.json()["errors"][0]["field"] == "email"
    resident = {"nik": "123", "kk_number": "1" * 16, "full_name": "X", "date_of_birth": "1990-13-01", "gender": "M"}
    bad = requests.post(f"{cloud.api_url}/_local/population", json={"residents": [resident]}, timeout=10)
    assert bad.status_code == 422
    assert {e["field"] for e in bad.json()["errors"]} == {"residents[0].nik", "residents[0].date_of_birth"}
    assert requests.get(f"{cloud.api_url}/_local/nothing", timeout=10).status_code == 404
    assert requests.get(f"{cloud.api_url}/_local/outbox", timeout=10).json() == {"items": []}


def test_functions_reach_the_simulated_civil_registry(cloud):
    resident = {
        "nik": "3201014101950001",
        "kk_number": "3201010101950001",
        "full_name": "Siti  Rahayu",
        "date_of_birth": "1995-01-01",
        "gender": "F",
    }
    added = requests.post(f"{cloud.api_url}/_local/population", json={"residents": [resident]}, timeout=10)
    assert added.status_code == 201
    assert added.json() == {"added": 1}

    def verify(full_name: str, date_of_birth: str = "1995-01-01", nik: str = resident["nik"]) -> Any:
        body = {"nik": nik, "full_name": full_name, "date_of_birth": date_of_birth}
        return requests.post(f"{cloud.api_url}/registry", json=body, timeout=10).json()

    assert verify(" siti rahayu ") == {"registry": {"found": True, "name_match": True, "date_of_birth_match": True}}
    assert verify("Siti", "1995-01-02")["registry"] == {
        "found": True,
        "name_match": False,
        "date_of_birth_match": False,
    }
    assert verify("Siti", nik="3201014101950002")["registry"]["found"] is False

    outage = requests.post(f"{cloud.api_url}/_local/dukcapil/outage", json={"fail_next": 2}, timeout=10)
    assert outage.status_code == 200
    assert verify("Siti Rahayu") == {"registry_status": 503}
    assert verify("Siti Rahayu") == {"registry_status": 503}
    assert verify("Siti Rahayu")["registry"]["found"] is True


def test_assessment_key_comes_from_the_shared_layer(cloud):
    assessment = pytest.importorskip("prakerja.registration.assessment")
    response = requests.get(f"{cloud.api_url}/_local/assessment-key", timeout=10)
    assert response.status_code == 200
    assert response.json() == {"answers": assessment.load_assessment().answer_key()}


def test_only_one_runtime_per_process(cloud, tmp_path):
    with pytest.raises(RuntimeError, match="already running"):
        LocalCloud(TEMPLATE, api_port=0, state_dir=tmp_path).start()
    assert requests.get(f"{cloud.api_url}/items/still-up", timeout=10).status_code == 200
