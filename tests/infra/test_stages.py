"""What differs between stages: prod keeps its data when the stack goes, and takes more traffic."""

from __future__ import annotations

import pytest

from prakerja_infra.stage import stage_config
from tests.infra.cfn import (
    CfnTemplate,
    function_permissions,
    functions,
    one,
    referenced_ids,
    resolve_string,
    resources,
)
from tests.infra.test_data import TABLES

# Everything that holds applicants' data or can decrypt it.
DATA_TYPES = (
    "AWS::DynamoDB::Table",
    "AWS::KMS::Key",
    "AWS::SecretsManager::Secret",
    "AWS::Cognito::UserPool",
    "AWS::S3::Bucket",
)


def _data_resources(template: CfnTemplate) -> dict[str, str | None]:
    """Logical id -> DeletionPolicy of every data-holding resource."""
    found = {
        lid: resource.get("DeletionPolicy")
        for resource_type in DATA_TYPES
        for lid, resource in resources(template, resource_type).items()
    }
    tables = sorted(lid.removeprefix("Data")[:-8] for lid in resources(template, "AWS::DynamoDB::Table"))
    assert tables == TABLES
    buckets = sorted(lid.removeprefix("Data")[:-8] for lid in resources(template, "AWS::S3::Bucket"))
    # The payouts bucket holds settlement reports and reconciliations: audit records.
    assert buckets == ["AccessLogsBucket", "PayoutsBucket", "SelectionBucket"]
    # The hashing key and one signing secret per partner (seven platforms, five payment partners).
    assert len(resources(template, "AWS::SecretsManager::Secret")) == 13
    return found


def test_prod_retains_tables_keys_secrets_and_users(prod_template: CfnTemplate) -> None:
    # Retained on update and deletion; deleted only when the first deploy that created it rolls
    # back, so that the next one does not fail on a name that "already exists" (docs/deploy.md).
    for lid, policy in _data_resources(prod_template).items():
        assert policy == "RetainExceptOnCreate", f"{lid}: {policy}"
        assert prod_template["Resources"][lid].get("UpdateReplacePolicy") == "Retain", lid


def test_dev_deletes_its_data_with_the_stack(dev_template: CfnTemplate) -> None:
    for lid, policy in _data_resources(dev_template).items():
        assert policy in (None, "Delete"), f"{lid}: {policy}"


def test_prod_personal_data_key_waits_the_longest_before_deletion(
    dev_template: CfnTemplate, prod_template: CfnTemplate
) -> None:
    _, prod_key = one(prod_template, "AWS::KMS::Key", "DataPersonalDataKey")
    _, dev_key = one(dev_template, "AWS::KMS::Key", "DataPersonalDataKey")
    assert prod_key["Properties"].get("PendingWindowInDays", 30) == 30
    assert dev_key["Properties"]["PendingWindowInDays"] < 30


def test_prod_keeps_function_logs_a_year(prod_template: CfnTemplate) -> None:
    for name, (_, function) in functions(prod_template).items():
        (group_id,) = referenced_ids(function["Properties"]["LoggingConfig"]["LogGroup"])
        group = prod_template["Resources"][group_id]
        assert group["Properties"]["RetentionInDays"] == stage_config("prod").log_retention_days == 365, name
        assert group["DeletionPolicy"] == "RetainExceptOnCreate", name


def _throttling(template: CfnTemplate) -> tuple[int, int]:
    _, stage = one(template, "AWS::ApiGateway::Stage", "ApiRestApiDeploymentStage")
    (setting,) = [s for s in stage["Properties"]["MethodSettings"] if s["ResourcePath"] == "/*"]
    return setting["ThrottlingRateLimit"], setting["ThrottlingBurstLimit"]


def test_prod_throttles_higher_than_dev(dev_template: CfnTemplate, prod_template: CfnTemplate) -> None:
    dev_rate, dev_burst = _throttling(dev_template)
    prod_rate, prod_burst = _throttling(prod_template)
    assert prod_rate > dev_rate
    assert prod_burst > dev_burst
    # The 2020 launch peak: ~80,000 registrations a minute (~1,300/s), with headroom.
    assert prod_rate >= 1_300
    assert (prod_rate, prod_burst) == (stage_config("prod").api_rate_limit, stage_config("prod").api_burst_limit)


def test_staging_can_rehearse_the_surge(dev_template: CfnTemplate, staging_template: CfnTemplate) -> None:
    dev_rate, dev_burst = _throttling(dev_template)
    staging_rate, staging_burst = _throttling(staging_template)
    assert staging_rate > dev_rate
    assert staging_burst > dev_burst
    assert staging_rate >= 1_300


@pytest.mark.parametrize("stage", ["dev", "prod"])
def test_each_stage_names_its_api_and_workflow(
    dev_template: CfnTemplate, prod_template: CfnTemplate, stage: str
) -> None:
    template = {"dev": dev_template, "prod": prod_template}[stage]
    _, api = one(template, "AWS::ApiGateway::RestApi", "ApiRestApi")
    _, machine = one(template, "AWS::StepFunctions::StateMachine", "RegistrationWorkflowStateMachine")
    assert api["Properties"]["Name"] == f"prakerja-{stage}"
    assert machine["Properties"]["StateMachineName"] == f"prakerja-{stage}-registration"


@pytest.mark.parametrize("stage", ["dev", "prod"])
def test_transfer_steps_resume_their_own_stages_payout_workflow(
    dev_template: CfnTemplate, prod_template: CfnTemplate, stage: str
) -> None:
    """The transfer steps name the payout state machine by its name's ARN (no reference, no
    cycle): that name must be the stage's machine's own."""
    template = {"dev": dev_template, "prod": prod_template}[stage]
    _, machine = one(template, "AWS::StepFunctions::StateMachine", "PayoutWorkflowStateMachine")
    name = machine["Properties"]["StateMachineName"]
    assert name == f"prakerja-{stage}-payouts"
    for step in ("SendTransfer", "CheckTransfer"):
        _, function = functions(template)[step]
        permissions = function_permissions(template, function)
        (statement,) = [s for s in permissions.statements if s.allows("states:SendTaskSuccess")]
        machine_arn = f"arn:${{AWS::Partition}}:states:${{AWS::Region}}:${{AWS::AccountId}}:stateMachine:{name}"
        # The machine, and its Distributed Map's children (stateMachine:<name>/<map run label>).
        assert [resolve_string(r) for r in statement.resources] == [machine_arn, f"{machine_arn}/*"], step
