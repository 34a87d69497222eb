"""The payout and reconciliation state machines: a transfer waits for the partner's callback
(task token) and asks the partner when none comes; runs every 15 minutes over a list in the
payouts bucket; a settlement report dropped in the bucket starts its reconciliation, which fails
on any discrepancy. And the payouts bucket itself: private, TLS only, logged."""

from __future__ import annotations

from typing import Any

import pytest

from prakerja.observability import EXECUTION_CORRELATION, PAYOUT_RUN_CORRELATION
from tests.infra.cfn import (
    CfnTemplate,
    Resource,
    function_id,
    one,
    referenced_ids,
    resolve_string,
    resources,
    role_permissions,
    state_machine,
    walk,
)

MACHINE = "AWS::StepFunctions::StateMachine"
# The ids a payout item carries, and nothing else of the applicant.
ITEM_PARAMETERS = {
    "applicant_id.$": "$.applicant_id",
    "payout_id.$": "$.payout_id",
    "callback_timeout_seconds.$": "$.callback_timeout_seconds",
    # The run's id, in each item of its list: the steps' logs carry it as their correlation id.
    f"{PAYOUT_RUN_CORRELATION}.$": f"$.{PAYOUT_RUN_CORRELATION}",
}


@pytest.fixture(scope="module")
def payouts(dev_template: CfnTemplate) -> tuple[str, dict[str, Any], dict[str, Any]]:
    return state_machine(dev_template, "PayoutWorkflowStateMachine")


@pytest.fixture(scope="module")
def reconciliation(dev_template: CfnTemplate) -> tuple[str, dict[str, Any], dict[str, Any]]:
    return state_machine(dev_template, "ReconciliationWorkflowStateMachine")


@pytest.fixture(scope="module")
def bucket_id(dev_template: CfnTemplate) -> str:
    return one(dev_template, "AWS::S3::Bucket", "DataPayoutsBucket")[0]


def _function_id(template: CfnTemplate, name: str) -> str:
    return function_id(template, name)


def _pay_out(definition: dict[str, Any]) -> dict[str, Any]:
    state: dict[str, Any] = definition["States"]["PayOut"]
    return state


def _item_states(definition: dict[str, Any]) -> dict[str, Any]:
    states: dict[str, Any] = _pay_out(definition)["ItemProcessor"]["States"]
    return states


def _retry(state: dict[str, Any], error: str) -> dict[str, Any]:
    retries: list[dict[str, Any]] = [r for r in state["Retry"] if error in r["ErrorEquals"]]
    (retry,) = retries
    return retry


# --- the payout run


def test_a_run_collects_the_due_payouts_then_pays_each_if_any(
    dev_template: CfnTemplate, payouts: tuple[str, dict[str, Any], dict[str, Any]]
) -> None:
    definition = payouts[2]
    states = definition["States"]
    assert definition["StartAt"] == "CollectDuePayouts"
    collect = states["CollectDuePayouts"]
    assert collect["Resource"] == "${" + _function_id(dev_template, "CollectDuePayouts") + "}"
    assert collect["Parameters"] == {"run_id.$": "$$.Execution.Name"}
    assert collect["ResultPath"] == "$.collected"
    anything_due = states[collect["Next"]]
    assert anything_due["Type"] == "Choice"
    (when_due,) = anything_due["Choices"]
    assert when_due == {"Variable": "$.collected.count", "NumericGreaterThan": 0, "Next": "PayOut"}
    assert states[anything_due["Default"]]["Type"] == "Succeed"


def test_the_distributed_map_reads_the_runs_list_from_the_payouts_bucket(
    payouts: tuple[str, dict[str, Any], dict[str, Any]], bucket_id: str
) -> None:
    pay_out = _pay_out(payouts[2])
    assert pay_out["Type"] == "Map"
    assert pay_out["ItemProcessor"]["ProcessorConfig"] == {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"}
    assert pay_out["ItemProcessor"]["StartAt"] == "SendTransfer"
    reader = pay_out["ItemReader"]
    assert reader["Resource"] == "arn:${AWS::Partition}:states:::s3:getObject"
    assert reader["ReaderConfig"] == {"InputType": "JSON"}
    assert reader["Parameters"] == {"Bucket": "${" + bucket_id + "}", "Key.$": "$.collected.items_key"}
    # Transfers in flight are bounded: each mostly waits for its callback.
    assert 0 < pay_out["MaxConcurrency"] <= 1000


def test_the_runs_results_are_written_to_the_payouts_bucket(
    dev_template: CfnTemplate, payouts: tuple[str, dict[str, Any], dict[str, Any]], bucket_id: str
) -> None:
    writer = _pay_out(payouts[2])["ResultWriter"]
    assert writer["Resource"] == "arn:${AWS::Partition}:states:::s3:putObject"
    assert writer["Parameters"] == {"Bucket": "${" + bucket_id + "}", "Prefix": "payout-runs/results"}
    (role_id,) = referenced_ids(payouts[1]["RoleArn"])
    assert role_permissions(dev_template, role_id).allows("s3:PutObject", on=bucket_id)


def test_send_transfer_waits_for_the_partners_callback_with_the_items_timeout(
    dev_template: CfnTemplate, payouts: tuple[str, dict[str, Any], dict[str, Any]]
) -> None:
    send = _item_states(payouts[2])["SendTransfer"]
    assert send["Type"] == "Task"
    assert send["Resource"] == "arn:${AWS::Partition}:states:::lambda:invoke.waitForTaskToken"
    assert send["Parameters"] == {
        "FunctionName": "${" + _function_id(dev_template, "SendTransfer") + "}",
        "Payload": {**ITEM_PARAMETERS, "task_token.$": "$$.Task.Token"},
    }
    # The wait is bounded by the item's own callback timeout, not a constant.
    assert send["TimeoutSecondsPath"] == "$.callback_timeout_seconds"
    assert "TimeoutSeconds" not in send
    assert send["ResultPath"] == "$.settled"
    assert _item_states(payouts[2])[send["Next"]]["Type"] == "Succeed"


@pytest.mark.parametrize("error", ["PartnerUnavailable", "RateLimited"])
def test_send_transfer_retries_partner_faults_with_backoff(
    payouts: tuple[str, dict[str, Any], dict[str, Any]], error: str
) -> None:
    """Safe to repeat: the transfer is sent again under the same transfer id."""
    retry = _retry(_item_states(payouts[2])["SendTransfer"], error)
    assert retry["MaxAttempts"] >= 2
    assert retry["IntervalSeconds"] >= 1
    assert retry["BackoffRate"] > 1


def test_no_callback_in_time_asks_the_partner(
    dev_template: CfnTemplate, payouts: tuple[str, dict[str, Any], dict[str, Any]]
) -> None:
    states = _item_states(payouts[2])
    (timed_out,) = [c for c in states["SendTransfer"]["Catch"] if "States.Timeout" in c["ErrorEquals"]]
    assert timed_out["Next"] == "CheckTransfer"
    # The error goes beside the item, whose ids the status query needs.
    assert timed_out["ResultPath"] == "$.error"
    # Nothing that waits or the partner's faults ends the item unsettled: every catch asks the partner.
    assert {c["Next"] for c in states["SendTransfer"]["Catch"]} == {"CheckTransfer"}
    check = states["CheckTransfer"]
    assert check["Type"] == "Task"
    # A plain invocation: no task token, nothing to wait for.
    assert check["Resource"] == "${" + _function_id(dev_template, "CheckTransfer") + "}"
    assert check["Parameters"] == ITEM_PARAMETERS
    assert check["ResultPath"] == "$.settled"
    assert {"TransferPending", "PartnerUnavailable"} <= {e for r in check["Retry"] for e in r["ErrorEquals"]}


def test_payout_execution_data_are_ids_and_counts(payouts: tuple[str, dict[str, Any], dict[str, Any]]) -> None:
    paths = {value for key, value in walk(payouts[2]) if key.endswith(".$")}
    assert paths == {
        "$$.Execution.Name",
        "$.collected.items_key",
        "$.applicant_id",
        "$.payout_id",
        "$.callback_timeout_seconds",
        "$.run_id",  # the execution's name again, carried by each item
        "$$.Task.Token",
    }


def test_payout_role_invokes_its_three_steps_and_reads_only_its_bucket(
    dev_template: CfnTemplate, payouts: tuple[str, dict[str, Any], dict[str, Any]], bucket_id: str
) -> None:
    machine_id, properties, _ = payouts
    (role_id,) = referenced_ids(properties["RoleArn"])
    permissions = role_permissions(dev_template, role_id)
    invoked = {
        i
        for s in permissions.statements
        if s.allows("lambda:InvokeFunction")
        for i in referenced_ids(list(s.resources))
    }
    assert invoked == {_function_id(dev_template, n) for n in ("CollectDuePayouts", "SendTransfer", "CheckTransfer")}
    assert not any(s.any_resource for s in permissions.statements if s.allows("lambda:InvokeFunction"))
    for statement in permissions.statements:
        if any(a.startswith("s3:") for a in statement.actions):
            assert referenced_ids(list(statement.resources)) == {bucket_id}, statement.raw
            assert not {"s3:DeleteObject", "s3:PutBucketPolicy"} & set(statement.actions), statement.raw
    starts = [s for s in permissions.statements if s.allows("states:StartExecution")]
    assert starts and all(list(s.resources) == [{"Ref": machine_id}] for s in starts)


def test_a_payout_run_starts_every_15_minutes(
    dev_template: CfnTemplate, payouts: tuple[str, dict[str, Any], dict[str, Any]]
) -> None:
    machine_id = payouts[0]
    (rule,) = [
        r["Properties"]
        for r in resources(dev_template, "AWS::Events::Rule").values()
        if r["Properties"].get("ScheduleExpression") == "rate(15 minutes)"
    ]
    assert rule["State"] == "ENABLED"
    (target,) = rule["Targets"]
    assert target["Arn"] == {"Ref": machine_id}
    _assert_role_only_starts(dev_template, target, machine_id)


# --- reconciliation


def test_reconciliation_fails_on_any_discrepancy(
    dev_template: CfnTemplate, reconciliation: tuple[str, dict[str, Any], dict[str, Any]]
) -> None:
    states = reconciliation[2]["States"]
    start = states[reconciliation[2]["StartAt"]]
    assert start["Resource"] == "${" + _function_id(dev_template, "ReconcileSettlement") + "}"
    # And the execution's name, the correlation id of the step's logs.
    assert start["Parameters"] == {"report_key.$": "$.report_key", f"{EXECUTION_CORRELATION}.$": "$$.Execution.Name"}
    outcome = states[start["Next"]]
    assert outcome["Type"] == "Choice"
    # Only an explicitly balanced report succeeds; anything else ends in a failed execution (an alarm).
    (balanced,) = outcome["Choices"]
    assert balanced == {"Variable": "$.result.status", "StringEquals": "BALANCED", "Next": "Balanced"}
    assert states["Balanced"]["Type"] == "Succeed"
    failed = states[outcome["Default"]]
    assert outcome["Default"] == "DiscrepanciesFound"
    assert failed["Type"] == "Fail"
    assert failed["Error"] == "SettlementDiscrepancies"
    assert {s["Type"] for s in states.values()} == {"Task", "Choice", "Succeed", "Fail"}


def test_reconciliation_role_invokes_only_its_step(
    dev_template: CfnTemplate, reconciliation: tuple[str, dict[str, Any], dict[str, Any]]
) -> None:
    (role_id,) = referenced_ids(reconciliation[1]["RoleArn"])
    permissions = role_permissions(dev_template, role_id)
    invoked = {
        i
        for s in permissions.statements
        if s.allows("lambda:InvokeFunction")
        for i in referenced_ids(list(s.resources))
    }
    assert invoked == {_function_id(dev_template, "ReconcileSettlement")}
    assert not any(a.startswith(("s3:", "dynamodb:")) for a in permissions.actions())


def test_a_settlement_report_in_the_bucket_starts_its_reconciliation(
    dev_template: CfnTemplate, reconciliation: tuple[str, dict[str, Any], dict[str, Any]], bucket_id: str
) -> None:
    machine_id = reconciliation[0]
    (rule,) = [
        r["Properties"]
        for r in resources(dev_template, "AWS::Events::Rule").values()
        if "EventPattern" in r["Properties"]
    ]
    assert rule["State"] == "ENABLED"
    assert rule["EventPattern"] == {
        "source": ["aws.s3"],
        "detail-type": ["Object Created"],
        "detail": {"bucket": {"name": [{"Ref": bucket_id}]}, "object": {"key": [{"prefix": "settlements/"}]}},
    }
    (target,) = rule["Targets"]
    assert target["Arn"] == {"Ref": machine_id}
    # The execution gets the report's key, nothing else of the event.
    assert target["InputTransformer"] == {
        "InputPathsMap": {"detail-object-key": "$.detail.object.key"},
        "InputTemplate": '{"report_key":<detail-object-key>}',
    }
    _assert_role_only_starts(dev_template, target, machine_id)


def test_the_payouts_bucket_sends_its_events_to_eventbridge(dev_template: CfnTemplate, bucket_id: str) -> None:
    # Without it, no "Object Created" event is ever sent and no report is reconciled.
    notifications = dev_template["Resources"][bucket_id]["Properties"]["NotificationConfiguration"]
    assert notifications == {"EventBridgeConfiguration": {"EventBridgeEnabled": True}}


def _assert_role_only_starts(template: CfnTemplate, target: dict[str, Any], machine_id: str) -> None:
    (role_id,) = referenced_ids(target["RoleArn"])
    permissions = role_permissions(template, role_id)
    assert permissions.actions() == {"states:StartExecution"}
    assert all(list(s.resources) == [{"Ref": machine_id}] for s in permissions.statements)


# --- both machines


@pytest.mark.parametrize(
    ("prefix", "name"), [("PayoutWorkflow", "payouts"), ("ReconciliationWorkflow", "reconciliation")]
)
def test_is_standard_traced_logged_without_data_bounded_and_alarmed(
    dev_template: CfnTemplate, dev_inlined: CfnTemplate, prefix: str, name: str
) -> None:
    machine_id, properties, definition = state_machine(dev_template, f"{prefix}StateMachine")
    assert properties["StateMachineName"] == f"prakerja-dev-{name}"
    assert properties["StateMachineType"] == "STANDARD"
    assert properties["TracingConfiguration"] == {"Enabled": True}
    logging = properties["LoggingConfiguration"]
    assert logging["Level"] == "ALL"
    assert logging["IncludeExecutionData"] is False
    assert 0 < definition["TimeoutSeconds"] <= 24 * 3600
    alarms = [
        alarm["Properties"]
        for alarm in resources(dev_inlined, "AWS::CloudWatch::Alarm").values()
        if alarm["Properties"].get("MetricName") == "ExecutionsFailed"
        and {"Name": "StateMachineArn", "Value": {"Ref": machine_id}} in alarm["Properties"].get("Dimensions", [])
    ]
    assert len(alarms) == 1


# --- the payouts bucket


@pytest.fixture(scope="module")
def bucket(dev_template: CfnTemplate, bucket_id: str) -> Resource:
    resource: Resource = dev_template["Resources"][bucket_id]
    return resource


def test_the_payouts_bucket_blocks_public_access(bucket: Resource) -> None:
    properties = bucket["Properties"]
    assert properties["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    assert "AccessControl" not in properties
    assert properties["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert properties["VersioningConfiguration"] == {"Status": "Enabled"}


def test_the_payouts_bucket_enforces_tls(dev_template: CfnTemplate, bucket_id: str) -> None:
    (policy,) = [
        p["Properties"]["PolicyDocument"]["Statement"]
        for p in resources(dev_template, "AWS::S3::BucketPolicy").values()
        if p["Properties"]["Bucket"] == {"Ref": bucket_id}
    ]
    (deny,) = [s for s in policy if s["Effect"] == "Deny"]
    assert deny["Action"] == "s3:*"
    assert deny["Principal"] == {"AWS": "*"}
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    # The bucket and every object in it.
    assert sorted(resolve_string(r) for r in deny["Resource"]) == [
        "${" + bucket_id + "}",
        "${" + bucket_id + "}/*",
    ]
    # Nobody outside the account is let in by the bucket policy; in dev, CDK's provider that
    # empties the bucket on `cdk destroy` (a role of this stack) may list and delete.
    allowed = [s for s in policy if s["Effect"] == "Allow"]
    assert all(
        {ref.split("Role")[0] for ref in referenced_ids(s["Principal"])}
        == {"CustomS3AutoDeleteObjectsCustomResourceProvider"}
        for s in allowed
    ), allowed


def test_the_payouts_bucket_logs_access(dev_template: CfnTemplate, bucket: Resource, bucket_id: str) -> None:
    logs_id, _ = one(dev_template, "AWS::S3::Bucket", "DataAccessLogsBucket")
    logging = bucket["Properties"]["LoggingConfiguration"]
    assert logging == {"DestinationBucketName": {"Ref": logs_id}, "LogFilePrefix": "payouts/"}
    # Delivered under the log bucket's policy, for this bucket's logs and prefix only.
    (policy,) = [
        p["Properties"]["PolicyDocument"]["Statement"]
        for p in resources(dev_template, "AWS::S3::BucketPolicy").values()
        if p["Properties"]["Bucket"] == {"Ref": logs_id}
    ]
    (delivery,) = [
        s
        for s in policy
        if s["Effect"] == "Allow"
        and s.get("Condition", {}).get("ArnLike", {}).get("aws:SourceArn") == {"Fn::GetAtt": [bucket_id, "Arn"]}
    ]
    assert delivery["Principal"] == {"Service": "logging.s3.amazonaws.com"}
    assert delivery["Action"] == "s3:PutObject"
    assert resolve_string(delivery["Resource"]) == "${" + logs_id + "}/payouts/*"
