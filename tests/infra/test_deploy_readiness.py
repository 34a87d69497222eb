"""What a real account meets that synth alone cannot see (docs/deploy.md): alarms that reach
someone, e-mail through SES, texts claimed before they are sent, names that survive a rolled-back
first deploy, batch steps sized to their work, real partner endpoints, callbacks that resume a
Distributed Map's child, log groups outside the account's resource policy, API limits within the
account's quota, and CORS for the browser apps."""

from __future__ import annotations

import fnmatch
import json
import re
from pathlib import Path
from typing import Any

import pytest

from localcloud.template import LOCAL_STACK_PARAMETERS
from prakerja.cards.deadlines import CARDS_PER_INVOCATION
from prakerja.notifier_limits import NOTIFIER_BATCH_SIZE, NOTIFIER_CLAIM_LEASE_SECONDS, NOTIFIER_TIMEOUT_SECONDS
from prakerja_infra.constructs.api import CORS_ALLOWED_HEADERS
from prakerja_infra.constructs.endpoints import REAL_ENDPOINT
from prakerja_infra.constructs.steps import LAMBDA_THROTTLED, VENDED_LOGS_PREFIX
from prakerja_infra.stage import (
    DEFAULT_ACCOUNT_API_RATE,
    STAGES,
    AlarmSubscribers,
    EmailSender,
    StageConfig,
    stage_config,
)
from tests.infra.cfn import (
    API_FUNCTIONS,
    CfnTemplate,
    Resource,
    as_list,
    function_id,
    function_permissions,
    functions,
    invoked_functions,
    one,
    referenced_ids,
    resolve_string,
    resources,
    state_machine,
    walk,
)
from tests.infra.conftest import DEPLOY_ACCOUNT, DEPLOY_REGION, CliSynth

CONFIGURED = {
    "alarm_subscribers": AlarmSubscribers(
        emails=("oncall@ops.prakerja.test",),
        sms=("+6281234567890",),
        webhooks=("https://chat-relay.ops.prakerja.test/hooks/alarms",),  # type: ignore[arg-type]
    ),
    "email_sender": EmailSender(from_address="no-reply@mail.prakerja.test", verified_domain="mail.prakerja.test"),
    "fixed_egress": True,
}


@pytest.fixture(scope="module")
def configured_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Staging as a deployment fills its configuration in: alarm subscribers, an SES sender and
    fixed egress, synthesized in a concrete environment, with the app's checks."""
    import aws_cdk as cdk
    from app import FEATURE_FLAGS

    from prakerja_infra.nag import add_checks
    from prakerja_infra.stack import PrakerjaStack

    stage = stage_config("staging").model_copy(update=CONFIGURED)
    outdir = tmp_path_factory.mktemp("cdk-configured")
    app = cdk.App(outdir=str(outdir), context=FEATURE_FLAGS)
    PrakerjaStack(
        app, "Prakerja-staging", stage=stage, env=cdk.Environment(account=DEPLOY_ACCOUNT, region=DEPLOY_REGION)
    )
    add_checks(app)
    assembly = app.synth()
    return Path(assembly.directory) / "Prakerja-staging.template.json"


@pytest.fixture(scope="module")
def configured(configured_path: Path) -> CfnTemplate:
    template: CfnTemplate = json.loads(configured_path.read_text())
    return template


# --- 1. alarms reach someone


def _topic_statements(template: CfnTemplate) -> tuple[str, list[dict[str, Any]]]:
    topic_id = one(template, "AWS::SNS::Topic", "ObservabilityAlarmTopic")[0]
    (policy,) = [
        p
        for p in resources(template, "AWS::SNS::TopicPolicy").values()
        if {"Ref": topic_id} in p["Properties"]["Topics"]
    ]
    return topic_id, policy["Properties"]["PolicyDocument"]["Statement"]


def test_cloudwatch_may_publish_this_accounts_alarms_to_the_topic(dev_template: CfnTemplate) -> None:
    topic_id, statements = _topic_statements(dev_template)
    (allow,) = [s for s in statements if s["Effect"] == "Allow"]
    assert allow["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
    assert allow["Action"] == "sns:Publish"
    assert allow["Resource"] == {"Ref": topic_id}
    # Only this account's alarms: no other account's CloudWatch can use the topic (confused deputy).
    assert allow["Condition"]["StringEquals"] == {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}
    assert resolve_string(allow["Condition"]["ArnLike"]["aws:SourceArn"]).endswith(":alarm:*")


def test_the_stages_subscribers_are_subscribed(configured: CfnTemplate) -> None:
    topic_id, _ = _topic_statements(configured)
    subscriptions = {
        (s["Properties"]["Protocol"], s["Properties"]["Endpoint"])
        for s in resources(configured, "AWS::SNS::Subscription").values()
        if s["Properties"]["TopicArn"] == {"Ref": topic_id}
    }
    assert subscriptions == {
        ("email", "oncall@ops.prakerja.test"),
        ("sms", "+6281234567890"),
        ("https", "https://chat-relay.ops.prakerja.test/hooks/alarms"),
    }


def test_a_stage_without_subscribers_is_warned_about(cli_synths: dict[str, CliSynth]) -> None:
    synth = cli_synths["prod"]
    assert synth.returncode == 0, synth.output[-3000:]
    assert "prakerja:no-alarm-subscribers" in synth.output


def test_placeholder_web_origins_are_warned_about(cli_synths: dict[str, CliSynth]) -> None:
    assert "prakerja:placeholder-origins" in cli_synths["prod"].output
    assert "prakerja:placeholder-origins" not in cli_synths["dev"].output


def test_alarm_webhooks_must_be_https() -> None:
    with pytest.raises(ValueError, match="https"):
        AlarmSubscribers(webhooks=("http://chat.example.test/hook",))  # type: ignore[arg-type]


# --- 2. sign-up codes through SES


def test_cognito_sends_through_the_stages_ses_identity(configured: CfnTemplate) -> None:
    _, pool = one(configured, "AWS::Cognito::UserPool", "AuthApplicantPool")
    email = pool["Properties"]["EmailConfiguration"]
    assert email["EmailSendingAccount"] == "DEVELOPER"
    assert "no-reply@mail.prakerja.test" in email["From"]
    assert resolve_string(email["SourceArn"]).endswith(
        f":ses:{DEPLOY_REGION}:{DEPLOY_ACCOUNT}:identity/mail.prakerja.test"
    )


def test_an_ses_sender_is_in_its_verified_domain() -> None:
    with pytest.raises(ValueError, match="verified domain"):
        EmailSender(from_address="no-reply@elsewhere.test", verified_domain="mail.prakerja.test")


# --- 3. texts: small batches, a timeout that fits them, claims that outlast it


def test_the_notifier_takes_small_batches_within_its_timeout(dev_template: CfnTemplate) -> None:
    notifier_id, notifier = functions(dev_template)["Notifier"]
    assert notifier["Properties"]["Timeout"] == NOTIFIER_TIMEOUT_SECONDS
    (mapping,) = [
        m["Properties"]
        for m in resources(dev_template, "AWS::Lambda::EventSourceMapping").values()
        if notifier_id in referenced_ids(m["Properties"]["FunctionName"])
    ]
    assert mapping["BatchSize"] == NOTIFIER_BATCH_SIZE
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    # A crashed sender's claim lapses before the stream gives up on the record.
    assert NOTIFIER_CLAIM_LEASE_SECONDS > NOTIFIER_TIMEOUT_SECONDS
    assert mapping["MaximumRetryAttempts"] * NOTIFIER_TIMEOUT_SECONDS > NOTIFIER_CLAIM_LEASE_SECONDS
    assert notifier["Properties"]["Environment"]["Variables"]["SMS_SENDER_ID"] == stage_config("dev").sms_sender_id


def test_records_the_notifier_gave_up_on_alarm(dev_inlined: CfnTemplate) -> None:
    queue_id = one(dev_inlined, "AWS::SQS::Queue", "NotifierDeadLetters")[0]
    alarms = [
        a["Properties"]
        for a in resources(dev_inlined, "AWS::CloudWatch::Alarm").values()
        if a["Properties"].get("MetricName") == "ApproximateNumberOfMessagesVisible"
        and queue_id in referenced_ids(a["Properties"].get("Dimensions", []))
    ]
    assert len(alarms) == 1
    assert alarms[0]["Threshold"] == 1


def test_sns_may_log_sms_delivery_status_to_its_own_groups_only(cli_synths: dict[str, CliSynth]) -> None:
    template = cli_synths["staging"].template
    role_id, role = one(template, "AWS::IAM::Role", "NotificationsSmsDeliveryStatusRole")
    assert role["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {
        "Service": "sns.amazonaws.com"
    }
    statements = [
        s
        for p in resources(template, "AWS::IAM::Policy").values()
        if {"Ref": role_id} in p["Properties"]["Roles"]
        for s in p["Properties"]["PolicyDocument"]["Statement"]
    ]
    granted = {resolve_string(r) for s in statements for r in as_list(s["Resource"])}
    prefix = f"arn:aws:logs:{DEPLOY_REGION}:{DEPLOY_ACCOUNT}:log-group:sns/{DEPLOY_REGION}/{DEPLOY_ACCOUNT}/"
    assert granted == {prefix + "DirectPublishToPhoneNumber*", prefix + "DirectPublishToPhoneNumber*:*"}
    assert "SmsDeliveryStatusRoleArn" in template["Outputs"]


# --- 4. fixed names survive a first deploy that rolls back


def test_prod_keeps_its_data_except_when_a_first_deploy_rolls_back(prod_template: CfnTemplate) -> None:
    secrets = resources(prod_template, "AWS::SecretsManager::Secret")
    named = [lid for lid, s in secrets.items() if "Name" in s["Properties"]]
    assert len(named) == 12  # the partners' signing secrets, named for the functions to find
    for lid in named:
        assert secrets[lid]["DeletionPolicy"] == "RetainExceptOnCreate", lid
    for lid, group in resources(prod_template, "AWS::Logs::LogGroup").items():
        if "LogGroupName" in group["Properties"]:
            assert group["DeletionPolicy"] == "RetainExceptOnCreate", lid


# --- 5. batch steps sized to their work, fan-outs that survive Lambda throttling


@pytest.mark.parametrize(
    ("name", "at_least"), [("CollectDuePayouts", 300), ("RevokeUnusedCards", 300), ("ReconcileSettlement", 900)]
)
def test_batch_steps_have_time_for_their_work(dev_template: CfnTemplate, name: str, at_least: int) -> None:
    _, function = functions(dev_template)[name]
    assert function["Properties"]["Timeout"] >= at_least


def _map_task_states(definition: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    found = []
    for _key, value in walk(definition):
        if isinstance(value, dict) and value.get("Type") == "Map":
            processor: dict[str, Any] = value.get("ItemProcessor") or value["Iterator"]
            for name, state in processor["States"].items():
                if state["Type"] == "Task":  # every task of these maps invokes a function
                    found.append((name, state))
    return found


@pytest.mark.parametrize(
    "machine", ["SelectionWorkflowStateMachine", "CardDeadlinesWorkflowStateMachine", "PayoutWorkflowStateMachine"]
)
def test_every_fanned_out_task_retries_lambda_throttling(dev_template: CfnTemplate, machine: str) -> None:
    _, _, definition = state_machine(dev_template, machine)
    tasks = _map_task_states(definition)
    assert tasks
    for name, state in tasks:
        retried = [r for r in state.get("Retry", []) if LAMBDA_THROTTLED in r["ErrorEquals"]]
        assert retried, f"{machine}.{name} does not retry {LAMBDA_THROTTLED}"
        assert retried[0]["MaxAttempts"] >= 5


def test_the_card_sweep_pages_through_a_shard(dev_template: CfnTemplate) -> None:
    _, _, definition = state_machine(dev_template, "CardDeadlinesWorkflowStateMachine")
    states = definition["States"]["SweepShards"]["ItemProcessor"]["States"]
    revoke = states["RevokeUnusedCards"]
    assert {"cursor.$", "revoked.$", "returned.$"} <= set(revoke["Parameters"])
    assert revoke["Next"] == "MoreCards"
    (more,) = states["MoreCards"]["Choices"]
    assert more == {"Variable": "$.cursor", "IsNull": False, "Next": "RevokeUnusedCards"}
    assert functions(dev_template)["RevokeUnusedCards"][1]["Properties"]["Timeout"] > CARDS_PER_INVOCATION * 0.025


# --- 6. real partner endpoints, or no stack


def test_partner_endpoints_are_deploy_parameters_without_a_default(dev_template: CfnTemplate) -> None:
    parameters = {k: v for k, v in dev_template["Parameters"].items() if k != "BootstrapVersion"}
    assert set(parameters) == {"CivilRegistryUrl", "PaymentPartnersUrl"} == set(LOCAL_STACK_PARAMETERS)
    for name, parameter in parameters.items():
        assert "Default" not in parameter, name
        assert parameter["AllowedPattern"] == REAL_ENDPOINT
        assert "placeholder" in parameter["ConstraintDescription"]
    _, verify = functions(dev_template)["VerifyIdentity"]
    assert verify["Properties"]["Environment"]["Variables"]["CIVIL_REGISTRY_URL"] == {"Ref": "CivilRegistryUrl"}
    _, send = functions(dev_template)["SendTransfer"]
    assert send["Properties"]["Environment"]["Variables"]["PAYMENT_PARTNERS_URL"] == {"Ref": "PaymentPartnersUrl"}


@pytest.mark.parametrize(
    ("url", "accepted"),
    [
        ("https://dukcapil.kemendagri.go.id/api/v1", True),
        ("https://payments.bank.co.id:8443/v1", True),
        ("https://dukcapil-sandbox.example.go.id/api/v1", False),
        ("https://payments.example.prakerja.go.id/v1", False),
        ("https://example.com/api", False),
        ("http://dukcapil.kemendagri.go.id/api/v1", False),
        ("https://", False),
    ],
)
def test_the_endpoint_pattern_refuses_placeholders(url: str, accepted: bool) -> None:
    assert bool(re.match(REAL_ENDPOINT, url)) is accepted


def test_fixed_egress_puts_the_partner_callers_behind_stable_addresses(configured: CfnTemplate) -> None:
    gateways = resources(configured, "AWS::EC2::NatGateway")
    addresses = resources(configured, "AWS::EC2::EIP")
    assert len(gateways) == len(addresses) == 2  # one per zone
    for gateway in gateways.values():
        assert referenced_ids(gateway["Properties"]["AllocationId"]) <= set(addresses)
    # The addresses, for the partners' allowlists.
    assert referenced_ids(configured["Outputs"]["EgressAddresses"]["Value"]) == set(addresses)
    private = {
        lid
        for lid, subnet in resources(configured, "AWS::EC2::Subnet").items()
        if subnet["Properties"]["MapPublicIpOnLaunch"] is False
    }
    placed = set()
    for name, (_, function) in functions(configured).items():
        config = function["Properties"].get("VpcConfig")
        if config is None:
            continue
        placed.add(name)
        assert referenced_ids(config["SubnetIds"]) == private, name
    assert placed == {"VerifyIdentity", "ApplicantApi", "SendTransfer", "CheckTransfer"}
    assert resources(configured, "AWS::EC2::FlowLog")
    # Tables and buckets through gateway endpoints, not the NAT.
    endpoints = {
        resolve_string(e["Properties"]["ServiceName"]) for e in resources(configured, "AWS::EC2::VPCEndpoint").values()
    }
    assert {name.rsplit(".", 1)[-1] for name in endpoints} == {"dynamodb", "s3"}


def test_without_fixed_egress_no_function_is_in_a_vpc(dev_template: CfnTemplate) -> None:
    assert not resources(dev_template, "AWS::EC2::VPC")
    assert not any("VpcConfig" in f["Properties"] for _, f in functions(dev_template).values())


# --- 7. a callback resumes a transfer waiting in a Distributed Map's child


@pytest.mark.parametrize("name", ["PartnerApi", "SendTransfer", "CheckTransfer"])
def test_task_callbacks_are_allowed_for_the_maps_child_executions(cli_synths: dict[str, CliSynth], name: str) -> None:
    template = cli_synths["staging"].template
    machine_id = one(template, "AWS::StepFunctions::StateMachine", "PayoutWorkflowStateMachine")[0]
    machine_arn = f"arn:aws:states:{DEPLOY_REGION}:{DEPLOY_ACCOUNT}:stateMachine:prakerja-staging-payouts"
    # A child execution's state machine ARN: the machine's, with the Distributed Map run's label.
    child = f"{machine_arn}/PayOut"
    _, function = functions(template)[name]
    permissions = function_permissions(template, function)
    patterns = {
        resolve_string(r).replace("${" + machine_id + "}", machine_arn)
        for s in permissions.statements
        if s.allows("states:SendTaskSuccess")
        for r in s.resources
    }
    assert any(fnmatch.fnmatchcase(machine_arn, p) for p in patterns), patterns
    assert any(fnmatch.fnmatchcase(child, p) for p in patterns), patterns
    assert not any(fnmatch.fnmatchcase(machine_arn.replace("payouts", "selection"), p) for p in patterns)


# --- 8. state machine logs under /aws/vendedlogs/


def test_state_machines_log_to_vended_log_groups(dev_template: CfnTemplate) -> None:
    machines = resources(dev_template, "AWS::StepFunctions::StateMachine")
    assert len(machines) == 6  # the five workflows and the complaints overdue count
    for lid, machine in machines.items():
        destinations = machine["Properties"]["LoggingConfiguration"]["Destinations"]
        (group_id,) = referenced_ids(destinations)
        name = dev_template["Resources"][group_id]["Properties"]["LogGroupName"]
        assert name.startswith(VENDED_LOGS_PREFIX), lid
        assert name == VENDED_LOGS_PREFIX + machine["Properties"]["StateMachineName"]


# --- 9. API limits within what the account has


@pytest.mark.parametrize("name", sorted(STAGES))
def test_every_stage_throttles_within_the_accounts_default_quota(name: str) -> None:
    stage = stage_config(name)
    assert stage.api_rate_limit <= stage.account_api_rate_limit == DEFAULT_ACCOUNT_API_RATE


def test_a_stage_above_the_accounts_quota_is_refused() -> None:
    raw = stage_config("prod").model_dump()
    raw["api_rate_limit"] = DEFAULT_ACCOUNT_API_RATE + 1
    with pytest.raises(ValueError, match="quota increase"):
        StageConfig.model_validate(raw)
    raw["account_api_rate_limit"] = 10_000  # once AWS granted the increase
    assert StageConfig.model_validate(raw).api_rate_limit == DEFAULT_ACCOUNT_API_RATE + 1


# --- 10. browsers on the stage's origins


def _methods(template: CfnTemplate) -> dict[str, list[Resource]]:
    by_resource: dict[str, list[Resource]] = {}
    for method in resources(template, "AWS::ApiGateway::Method").values():
        (resource_id,) = referenced_ids(method["Properties"]["ResourceId"]) or {"root"}
        by_resource.setdefault(resource_id, []).append(method["Properties"])
    return by_resource


def test_api_gateway_answers_every_routes_preflight(dev_template: CfnTemplate) -> None:
    origins = stage_config("dev").web_origins
    for resource_id, methods in _methods(dev_template).items():
        verbs = {m["HttpMethod"] for m in methods}
        if verbs == {"OPTIONS"}:
            continue  # a path segment with no route of its own
        (preflight,) = [m for m in methods if m["HttpMethod"] == "OPTIONS"]
        assert preflight["AuthorizationType"] == "NONE"
        integration = preflight["Integration"]
        assert integration["Type"] == "MOCK", resource_id
        (response,) = integration["IntegrationResponses"]
        headers = response["ResponseParameters"]
        assert headers["method.response.header.Access-Control-Allow-Origin"] == f"'{origins[0]}'"
        allowed = headers["method.response.header.Access-Control-Allow-Headers"].strip("'").split(",")
        assert set(CORS_ALLOWED_HEADERS) <= set(allowed)
        # The other origins are echoed when they are the request's (never any origin).
        template = response["ResponseTemplates"]["application/json"]
        for origin in origins[1:]:
            assert f'$origin == "{origin}"' in template


def test_the_gateways_own_problems_carry_cors_headers(dev_template: CfnTemplate) -> None:
    origin = stage_config("dev").web_origins[0]
    for lid, response in resources(dev_template, "AWS::ApiGateway::GatewayResponse").items():
        parameters = response["Properties"]["ResponseParameters"]
        assert parameters["gatewayresponse.header.Access-Control-Allow-Origin"] == f"'{origin}'", lid
        assert "Retry-After" in parameters["gatewayresponse.header.Access-Control-Expose-Headers"]


def test_the_api_functions_know_the_stages_origins(dev_template: CfnTemplate) -> None:
    origins = ",".join(stage_config("dev").web_origins)
    for name in ("PublicApi", "ApplicantApi", "OpsApi"):
        _, function = functions(dev_template)[name]
        assert function["Properties"]["Environment"]["Variables"]["CORS_ALLOWED_ORIGINS"] == origins, name


# --- CloudFormation's limit of 500 resources a stack


# CloudFormation refuses a stack over 500 resources: each stack stays under 400, room for what
# the open issues add (docs/deploy.md, "Resources").
# CloudFormation refuses a stack (or nested stack) of more than 500 resources; each of ours stays
# at 400 or fewer, room for the routes, functions and alarms still to come. The stage's stack and its
# nested one (the alarms) are counted separately, as CloudFormation counts them.
# `python infra/synth.py --stage <stage> --counts` prints them (docs/deploy.md).
RESOURCE_BUDGET = 400


def _assert_within_budget(label: str, parent: Path) -> None:
    from synth import resource_counts

    counts = resource_counts(parent)
    print(f"{label}: {counts}")  # shown with -rP: the room left, per stack
    assert len(counts) >= 2, f"{label}: the alarms' nested stack is missing: {counts}"
    over = {name: count for name, count in counts.items() if count > RESOURCE_BUDGET}
    assert not over, f"{label}: above {RESOURCE_BUDGET} resources: {over} (every stack: {counts})"


@pytest.mark.parametrize("stage", ["dev", "staging", "prod"])
def test_every_stage_stays_well_under_cloudformations_resource_limit(
    cli_synths: dict[str, CliSynth], stage: str
) -> None:
    synth = cli_synths[stage]
    assert synth.returncode == 0, synth.output[-3000:]
    _assert_within_budget(stage, synth.template_path)


def test_fixed_egress_stays_under_the_limit_too(configured_path: Path) -> None:
    _assert_within_budget("staging with fixed egress and subscribers", configured_path)


def test_only_api_gateway_may_invoke_the_api_functions_and_not_its_test_button(dev_template: CfnTemplate) -> None:
    permissions = resources(dev_template, "AWS::Lambda::Permission").values()
    sources = [resolve_string(p["Properties"].get("SourceArn", "")) for p in permissions]
    assert not [s for s in sources if "/test-invoke-stage/" in s]


def test_each_api_function_has_one_permission_for_the_apis_stage(dev_template: CfnTemplate) -> None:
    """One per function, not one per method: the stage's methods, of this API only, through the
    alias the routes invoke."""
    (api_id,) = resources(dev_template, "AWS::ApiGateway::RestApi")
    permissions = list(resources(dev_template, "AWS::Lambda::Permission").values())
    invoked = [next(iter(invoked_functions(dev_template, p["Properties"]["FunctionName"]))) for p in permissions]
    assert sorted(invoked) == sorted(function_id(dev_template, name) for name in API_FUNCTIONS)
    for permission in permissions:
        properties = permission["Properties"]
        assert properties["Principal"] == "apigateway.amazonaws.com"
        assert dev_template["Resources"][properties["FunctionName"]["Ref"]]["Type"] == "AWS::Lambda::Alias"
        assert api_id in referenced_ids(properties["SourceArn"])
        assert resolve_string(properties["SourceArn"]).endswith(f":${{{api_id}}}/dev/*/*")
