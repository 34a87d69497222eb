"""Exact grants, one action and one resource at a time: CDK's grant_* helpers add wildcards (every
index of a table, every object of a bucket) that least privilege does not want here. Each
function's grants are written by the construct that creates it, with these."""

from __future__ import annotations

from aws_cdk import ArnFormat, Stack
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_stepfunctions as sfn

from prakerja_infra.nag import acknowledge, acknowledge_resource

# A profile and its guard items, read and written (transactions need ConditionCheckItem).
APPLICANT_RECORDS = ("dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:ConditionCheckItem")


def allow_table(table: dynamodb.ITable, fn: lambda_.Function, *actions: str) -> None:
    """Exact actions on the table itself. Table.grant() would add ``<table>/index/*`` for a
    table with indexes: only the one function that queries an index is granted that index."""
    fn.add_to_role_policy(iam.PolicyStatement(actions=list(actions), resources=[table.table_arn]))


def allow_index_query(table: dynamodb.ITable, index: str, fn: lambda_.Function) -> None:
    """Query on one index of a table, and nothing on the table's items."""
    fn.add_to_role_policy(
        iam.PolicyStatement(actions=["dynamodb:Query"], resources=[f"{table.table_arn}/index/{index}"])
    )


def allow_ledger_postings(ledger: dynamodb.ITable, fn: lambda_.Function) -> None:
    """The ledger is append-only: postings and entries are put, and only the running totals
    (keys TOTAL#...) may be updated, by ADD. No function may change or delete a posting."""
    fn.add_to_role_policy(iam.PolicyStatement(actions=["dynamodb:PutItem"], resources=[ledger.table_arn]))
    fn.add_to_role_policy(
        iam.PolicyStatement(
            actions=["dynamodb:UpdateItem"],
            resources=[ledger.table_arn],
            conditions={"ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["TOTAL#*"]}},
        )
    )


def allow_audit_append(audit_log: dynamodb.ITable, fn: lambda_.Function) -> None:
    """The audit log is append-only: entries are put (alone or in a transaction of the change they
    record, with a condition that the key is new), never updated or deleted."""
    fn.add_to_role_policy(iam.PolicyStatement(actions=["dynamodb:PutItem"], resources=[audit_log.table_arn]))


# The complaint tickets' partitions of the cases table (adapters/keys.py: a ticket and its
# updates, an account's list of tickets); the ops actions' partitions are not among them.
TICKET_PARTITIONS = ["TICKET#*", "ACCOUNT#*#TICKETS"]


def allow_tickets(cases: dynamodb.ITable, fn: lambda_.Function, *actions: str) -> None:
    """Exact actions on the complaint tickets' items of the cases table, and on no other item."""
    fn.add_to_role_policy(
        iam.PolicyStatement(
            actions=list(actions),
            resources=[cases.table_arn],
            conditions={"ForAllValues:StringLike": {"dynamodb:LeadingKeys": TICKET_PARTITIONS}},
        )
    )


# An ops action's item and its copy in the applicant's partition (adapters/dynamodb_cases.py).
ACTION_PARTITIONS = ["ACTION#*", "APPLICANT#*"]


def allow_actions(cases: dynamodb.ITable, fn: lambda_.Function, *actions: str) -> None:
    """Exact actions on the ops actions' items of the cases table, and on no other item."""
    fn.add_to_role_policy(
        iam.PolicyStatement(
            actions=list(actions),
            resources=[cases.table_arn],
            conditions={"ForAllValues:StringLike": {"dynamodb:LeadingKeys": ACTION_PARTITIONS}},
        )
    )


def allow_ticket_messages(key: kms.IKey, fn: lambda_.Function, *actions: str) -> None:
    """Encrypting or decrypting with the personal-data key what is bound to a ticket (encryption
    context ``{"ticket_id": ...}`` and nothing else): never a profile (bound to an applicant)."""
    fn.add_to_role_policy(
        iam.PolicyStatement(
            actions=list(actions),
            resources=[key.key_arn],
            conditions={
                "ForAllValues:StringEquals": {"kms:EncryptionContextKeys": ["ticket_id"]},
                "Null": {"kms:EncryptionContextKeys": "false"},
            },
        )
    )


def allow_audit_read(audit_log: dynamodb.ITable, fn: lambda_.Function) -> None:
    """Reading the audit log: the time-sorted partition and the index of each filter."""
    fn.add_to_role_policy(
        iam.PolicyStatement(
            actions=["dynamodb:Query"],
            resources=[
                audit_log.table_arn,
                f"{audit_log.table_arn}/index/AuditByActor",
                f"{audit_log.table_arn}/index/AuditByAction",
            ],
        )
    )


def allow_case_work(applicants: dynamodb.ITable, payouts: dynamodb.ITable, fn: lambda_.Function) -> None:
    """The ops function's narrow path to people's data, by IAM's leading-keys condition:
    - the case view reads an applicant's own partition (profile, history, purchases; payout account
      and payouts) and the NIK guards a search by NIK reads, and queries the index of e-mails;
    - actions write an applicant's own partition (a card revoked, a restart of the checks and its
      history event, the payout hold item) and a family card's places (given back by a restart).
    Account, card-number and voucher guards stay out of its reach; nothing is decrypted."""
    conditioned = (
        (applicants, ["dynamodb:GetItem", "dynamodb:Query"], ["APPLICANT#*", "NIK#*"]),
        (applicants, ["dynamodb:UpdateItem", "dynamodb:PutItem"], ["APPLICANT#*", "KK#*"]),
        (payouts, ["dynamodb:GetItem", "dynamodb:Query", "dynamodb:PutItem", "dynamodb:DeleteItem"], ["APPLICANT#*"]),
    )
    for table, actions, partitions in conditioned:
        fn.add_to_role_policy(
            iam.PolicyStatement(
                actions=actions,
                resources=[table.table_arn],
                conditions={"ForAllValues:StringLike": {"dynamodb:LeadingKeys": partitions}},
            )
        )
    allow_index_query(applicants, "ApplicantsByEmail", fn)


def allow_bucket_objects(bucket: s3.IBucket, fn: lambda_.Function, *actions: str, prefix: str) -> None:
    """Exact S3 actions on one prefix of a bucket (the grant_* helpers would add wildcards)."""
    fn.add_to_role_policy(iam.PolicyStatement(actions=list(actions), resources=[bucket.arn_for_objects(f"{prefix}*")]))
    stack = Stack.of(bucket)
    bucket_id = stack.resolve(stack.get_logical_id(bucket.node.default_child))  # type: ignore[arg-type]
    assert fn.role is not None
    acknowledge(
        fn.role,
        f"AwsSolutions-IAM5[Resource::<{bucket_id}.Arn>/{prefix}*]",
        f"Objects are named at run time (per wave, shard, run or report) under {prefix}: the grant is "
        "that prefix, no wider.",
    )


def allow_registration_restarts(fn: lambda_.Function, registration: sfn.StateMachine) -> None:
    """Starting the registration workflow again (a correction, ops' REVERIFY) and asking whether a
    profile's run is still going first: DescribeExecution on this machine's executions only."""
    registration.grant_start_execution(fn)
    stack = Stack.of(registration)
    executions = stack.format_arn(
        service="states",
        resource="execution",
        resource_name=f"{registration.state_machine_name}:*",
        arn_format=ArnFormat.COLON_RESOURCE_NAME,
    )
    fn.add_to_role_policy(iam.PolicyStatement(actions=["states:DescribeExecution"], resources=[executions]))
    assert fn.role is not None
    acknowledge_resource(
        fn.role,
        "AwsSolutions-IAM5",
        executions,
        "Registration executions are named per applicant and attempt at run time; only their status is read, "
        "and only this state machine's.",
    )


def allow_task_success(fn: lambda_.Function, state_machine_arn: str) -> None:
    """A task token's callback, for the state machine's own executions and for its Distributed Map's
    child executions: a child's state machine ARN carries the map run's label
    (``stateMachine:<name>/<label>``), which the machine's ARN alone would not match."""
    children = f"{state_machine_arn}/*"
    fn.add_to_role_policy(
        iam.PolicyStatement(actions=["states:SendTaskSuccess"], resources=[state_machine_arn, children])
    )
    assert fn.role is not None
    acknowledge_resource(
        fn.role,
        "AwsSolutions-IAM5",
        children,
        "The payout state machine's Distributed Map runs each transfer in a child execution whose state "
        "machine ARN is this machine's with the map run's label appended; only its callbacks are allowed.",
    )
