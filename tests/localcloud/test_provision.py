"""Provisioning from a template in-process under moto.mock_aws (what data-layer tests do)."""

from __future__ import annotations

import string

import boto3
import pytest
from moto import mock_aws

from localcloud.apigateway import RestApiModel
from localcloud.provision import generate_secret_string, provision

REGION = "ap-southeast-3"


def clients(service):
    return boto3.client(service, region_name=REGION)


@pytest.fixture
def aws(monkeypatch):
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "testing")
    with mock_aws():
        yield


def test_tables_and_the_rest_from_the_template(aws, template_body):
    resources = provision(template_body, clients, stack_name="Fake-test")
    ddb = clients("dynamodb")
    table = resources.find("ItemsTable")
    assert table.ref == "Fake-test-ItemsTable1A2B3C4D"
    description = ddb.describe_table(TableName=table.ref)["Table"]
    assert [k["AttributeName"] for k in description["KeySchema"]] == ["pk", "sk"]
    assert description["GlobalSecondaryIndexes"][0]["IndexName"] == "gsi1"
    assert description["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    assert table.arn == description["TableArn"]
    ttl = ddb.describe_time_to_live(TableName=table.ref)["TimeToLiveDescription"]
    assert ttl == {"TimeToLiveStatus": "ENABLED", "AttributeName": "expires_at"}
    backups = ddb.describe_continuous_backups(TableName=table.ref)["ContinuousBackupsDescription"]
    assert backups["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"] == "ENABLED"
    # explicit names win; conditions apply
    assert resources["NamedTable"].ref == "Fake-test-named-dev"
    assert sorted(ddb.list_tables()["TableNames"]) == ["Fake-test-ItemsTable1A2B3C4D", "Fake-test-named-dev"]
    assert "ProdOnlyTable" not in resources

    secret = clients("secretsmanager").get_secret_value(SecretId=resources.find("HashingSecret").ref)
    assert len(secret["SecretString"]) == 40
    assert set(secret["SecretString"]) <= set(string.ascii_letters + string.digits)

    pool = resources.find("Pool1")
    assert pool.ref in {p["Id"] for p in clients("cognito-idp").list_user_pools(MaxResults=10)["UserPools"]}
    assert resources.find("OpsGroup").ref == "ops"
    lam = {f["FunctionName"]: f for f in clients("lambda").list_functions()["Functions"]}
    api_function = lam["Fake-test-ApiFunctionCCCC3333"]
    assert api_function["Handler"] == "fake_api.handler.lambda_handler"
    assert api_function["Environment"]["Variables"]["TABLE_NAME"] == table.ref
    machine = resources.find("WorkflowStateMachine")
    definition = clients("stepfunctions").describe_state_machine(stateMachineArn=machine.ref)["definition"]
    assert resources.find("StepOneFunction").arn in definition
    assert resources.outputs["StateMachineName"] == "Fake-test-workflow"
    assert resources.outputs["UserPoolId"] == pool.ref

    assert not resources.find("FunctionRole").provisioned
    assert resources.skipped["AWS::ApiGateway::Method"] == 10
    assert "IAM::Role x1" in resources.summary()


def test_api_routes_from_the_template(aws, template_body):
    api = RestApiModel(provision(template_body, clients, stack_name="Fake-test"))
    assert api.stage == "test"
    routes = {(r.method, r.resource_path): r for r in api.routes()}
    assert routes[("GET", "/me")].authorization == "COGNITO_USER_POOLS"
    assert routes[("GET", "/items/{item_id}")].authorization == "NONE"
    matched = api.match("GET", "/items/42/parts")
    assert matched is not None
    assert matched[0].resource_path == "/items/{item_id}/parts"
    assert matched[1] == {"item_id": "42"}
    greedy = api.match("DELETE", "/files/a/b")
    assert greedy is not None
    assert greedy[1] == {"path": "a/b"}
    assert api.match("DELETE", "/items/42") is None
    assert api.responses["MISSING_AUTHENTICATION_TOKEN"].status == 404


def test_generated_secrets_follow_the_options():
    value = generate_secret_string({"PasswordLength": 64, "ExcludePunctuation": True})
    assert len(value) == 64
    assert set(value) <= set(string.ascii_letters + string.digits)
    digits = generate_secret_string(
        {"PasswordLength": 12, "ExcludeLowercase": True, "ExcludeUppercase": True, "ExcludePunctuation": "true"}
    )
    assert digits.isdigit()
    templated = generate_secret_string({"SecretStringTemplate": '{"user": "app"}', "GenerateStringKey": "password"})
    assert '"user": "app"' in templated
    assert '"password"' in templated


def test_the_real_template_provisions(aws):
    synth = pytest.importorskip("synth")
    path = synth.template_path("dev")
    if not path.exists():
        pytest.skip("cdk.out has no synthesized dev template")
    import json

    resources = provision(json.loads(path.read_text()), clients, stack_name="Prakerja-dev")
    assert resources.of_type("AWS::DynamoDB::Table")
    assert resources.of_type("AWS::StepFunctions::StateMachine")
    api = RestApiModel(resources)
    assert any(r.authorization == "COGNITO_USER_POOLS" for r in api.routes())
    assert all(r.function_arn for r in api.routes() if r.integration.get("Type") == "AWS_PROXY")


def test_a_functions_alias_and_version_resolve_to_its_qualified_arns(aws, template_body):
    """Not created (the local workers run the function itself), but referred to as CloudFormation
    answers: Ref of a version or an alias is the function's ARN qualified by it."""
    body = {
        **template_body,
        "Resources": {
            **template_body["Resources"],
            "ApiFunctionVersionX": {
                "Type": "AWS::Lambda::Version",
                "Properties": {"FunctionName": {"Ref": "ApiFunctionCCCC3333"}},
            },
            "ApiFunctionLive": {
                "Type": "AWS::Lambda::Alias",
                "Properties": {
                    "FunctionName": {"Ref": "ApiFunctionCCCC3333"},
                    "FunctionVersion": {"Fn::GetAtt": ["ApiFunctionVersionX", "Version"]},
                    "Name": "live",
                },
            },
        },
    }
    resources = provision(body, clients, stack_name="Fake-test")
    function_arn = resources.find("ApiFunctionCCCC3333").arn
    assert (
        function_arn
        == clients("lambda").get_function(FunctionName="Fake-test-ApiFunctionCCCC3333")["Configuration"]["FunctionArn"]
    )
    assert resources.find("ApiFunctionLive").ref == f"{function_arn}:live"
    assert resources.find("ApiFunctionVersionX").ref == f"{function_arn}:1"
