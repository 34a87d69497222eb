"""Least privilege, function by function: what each Lambda role may do, read from the IAM policies
attached to it in the template."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pytest

from tests.infra.cfn import (
    FUNCTION_HANDLERS,
    CfnTemplate,
    Permissions,
    Statement,
    function_permissions,
    functions,
    logical_id,
    one,
    referenced_ids,
    resolve_string,
    resources,
)

NAMES = sorted(FUNCTION_HANDLERS)
# Anything that produces ciphertext under the personal-data key.
ENCRYPT_ACTIONS = ("kms:Encrypt", "kms:GenerateDataKey", "kms:GenerateDataKeyWithoutPlaintext", "kms:ReEncryptTo")
TABLE_WRITE_ACTIONS = (
    "dynamodb:PutItem",
    "dynamodb:BatchWriteItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:PartiQLInsert",
    "dynamodb:PartiQLUpdate",
    "dynamodb:PartiQLDelete",
)


@dataclass(frozen=True)
class Stack:
    permissions: dict[str, Permissions]
    applicants: str
    exclusions: str
    idempotency: str
    attempts: str
    waves: str
    outbox: str
    catalog: str
    ledger: str
    payouts: str
    cases: str
    audit_log: str
    personal_data_key: str
    hashing_secret: str
    registration: str
    selection: str
    payout_runs: str
    reconciliation: str
    payout_runs_name: str
    selection_bucket: str
    payouts_bucket: str

    def table(self, name: str) -> str:
        tables = {"applicants": self.applicants, "exclusions": self.exclusions, "idempotency": self.idempotency}
        more = {"waves": self.waves, "outbox": self.outbox, "catalog": self.catalog, "ledger": self.ledger}
        cases = {"cases": self.cases, "audit_log": self.audit_log}
        return {**tables, **more, **cases, "payouts": self.payouts, "attempts": self.attempts}[name]


@pytest.fixture(scope="module")
def stack(dev_template: CfnTemplate) -> Stack:
    payout_runs_id, payout_runs = one(dev_template, "AWS::StepFunctions::StateMachine", "PayoutWorkflowStateMachine")
    return Stack(
        permissions={
            name: function_permissions(dev_template, function)
            for name, (_, function) in functions(dev_template).items()
        },
        applicants=logical_id(dev_template, "AWS::DynamoDB::Table", "DataApplicantsTable"),
        exclusions=logical_id(dev_template, "AWS::DynamoDB::Table", "DataExclusionsTable"),
        idempotency=logical_id(dev_template, "AWS::DynamoDB::Table", "DataIdempotencyTable"),
        attempts=logical_id(dev_template, "AWS::DynamoDB::Table", "DataAttemptsTable"),
        waves=logical_id(dev_template, "AWS::DynamoDB::Table", "DataWavesTable"),
        outbox=logical_id(dev_template, "AWS::DynamoDB::Table", "DataOutboxTable"),
        catalog=logical_id(dev_template, "AWS::DynamoDB::Table", "DataCatalogTable"),
        ledger=logical_id(dev_template, "AWS::DynamoDB::Table", "DataLedgerTable"),
        payouts=logical_id(dev_template, "AWS::DynamoDB::Table", "DataPayoutsTable"),
        cases=logical_id(dev_template, "AWS::DynamoDB::Table", "DataCasesTable"),
        audit_log=logical_id(dev_template, "AWS::DynamoDB::Table", "DataAuditLogTable"),
        personal_data_key=logical_id(dev_template, "AWS::KMS::Key", "DataPersonalDataKey"),
        hashing_secret=logical_id(dev_template, "AWS::SecretsManager::Secret", "DataPersonalDataHashingKey"),
        registration=logical_id(dev_template, "AWS::StepFunctions::StateMachine", "RegistrationWorkflowStateMachine"),
        selection=logical_id(dev_template, "AWS::StepFunctions::StateMachine", "SelectionWorkflowStateMachine"),
        payout_runs=payout_runs_id,
        reconciliation=logical_id(
            dev_template, "AWS::StepFunctions::StateMachine", "ReconciliationWorkflowStateMachine"
        ),
        payout_runs_name=payout_runs["Properties"]["StateMachineName"],
        selection_bucket=logical_id(dev_template, "AWS::S3::Bucket", "DataSelectionBucket"),
        payouts_bucket=logical_id(dev_template, "AWS::S3::Bucket", "DataPayoutsBucket"),
    )


def test_every_function_is_known_and_runs_its_handler(dev_template: CfnTemplate) -> None:
    found = functions(dev_template)
    assert sorted(found) == NAMES
    for name, (_, function) in found.items():
        assert function["Properties"]["Handler"] == FUNCTION_HANDLERS[name]


def test_each_function_has_its_own_role(stack: Stack) -> None:
    roles = [p.role_id for p in stack.permissions.values()]
    assert len(set(roles)) == len(roles)


@pytest.mark.parametrize("name", NAMES)
def test_no_wildcard_actions_or_negations(stack: Stack, name: str) -> None:
    for statement in stack.permissions[name].statements:
        assert statement.effect == "Allow", statement.raw
        assert not {"NotAction", "NotResource", "NotPrincipal"} & set(statement.raw), statement.raw
        for action in statement.actions:
            assert action != "*" and not action.endswith(":*"), f"{name}: {action}"


def test_no_policy_in_the_stack_grants_a_whole_service(dev_template: CfnTemplate) -> None:
    for lid, policy in resources(dev_template, "AWS::IAM::Policy").items():
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            for action in actions:
                assert action != "*" and not action.endswith(":*"), f"{lid}: {action}"


@pytest.mark.parametrize("name", NAMES)
def test_no_dynamodb_action_on_every_resource(stack: Stack, name: str) -> None:
    for statement in stack.permissions[name].statements:
        # ListStreams names stream ARNs and reads no data; stream consumers need it on "*".
        if any(a.lower().startswith("dynamodb:") and a != "dynamodb:ListStreams" for a in statement.actions):
            assert not statement.any_resource, f"{name}: {statement.raw}"


def test_only_the_notifier_sends_sms_and_reads_the_outbox_stream(stack: Stack) -> None:
    for name, permissions in stack.permissions.items():
        assert permissions.allows("sns:Publish") == (name == "Notifier"), name
        assert permissions.allows("dynamodb:GetRecords", on=stack.outbox) == (name == "Notifier"), name


@pytest.mark.parametrize("name", NAMES)
def test_no_managed_policy_and_logs_written_only_to_the_functions_own_group(
    dev_template: CfnTemplate, stack: Stack, name: str
) -> None:
    """Not AWSLambdaBasicExecutionRole, which may create log groups and write to every one."""
    permissions = stack.permissions[name]
    assert permissions.managed_policy_arns == ()
    _, function = functions(dev_template)[name]
    (own_group,) = referenced_ids(function["Properties"]["LoggingConfig"]["LogGroup"])
    logging = [s for s in permissions.statements if any(a.lower().startswith("logs:") for a in s.actions)]
    assert [(set(s.actions), s.resources) for s in logging] == [
        ({"logs:CreateLogStream", "logs:PutLogEvents"}, ({"Fn::GetAtt": [own_group, "Arn"]},))
    ]


# Which function may read (GetItem) and write (PutItem) which table. Anything not listed: neither.
TABLE_ACCESS = {
    "PublicApi": {"waves": "r"},
    "ApplicantApi": {
        "applicants": "rw",
        "idempotency": "rw",
        "waves": "rw",
        "catalog": "rw",
        "ledger": "w",
        "payouts": "rw",  # payout accounts, incentives, survey responses
        "attempts": "w",  # counts attempts by UpdateItem; never reads one
        "cases": "w",  # complaint tickets, read by Query only
    },
    # The audit log: appended to, never read back item by item (its list is a Query).
    # The case view reads an applicant's partition (and NIK guards); ops actions revoke a card (the card
    # sweep's items), hold payouts, restart the checks (REVERIFY).
    # Complaint tickets are read by Query only; an answer's notice goes to the outbox.
    "OpsApi": {
        "exclusions": "rw",
        "waves": "rw",
        "catalog": "rw",
        "ledger": "w",
        "audit_log": "w",
        "cases": "rw",
        "applicants": "rw",
        "outbox": "w",
        "payouts": "rw",
    },
    # Payment callbacks settle their payout with its ledger posting.
    "PartnerApi": {"applicants": "rw", "payouts": "rw", "ledger": "w", "attempts": "rw"},
    "VerifyIdentity": {"applicants": "rw"},
    "ScreenEligibility": {"applicants": "rw", "exclusions": "r"},
    "PlanSelection": {"waves": "r"},
    "SnapshotShard": {"waves": "r"},  # exclusions: Query only (below)
    "MergeDraw": {"waves": "r"},
    # Outcome transactions write profiles and card-number guards but never read a profile.
    "ApplyShard": {"waves": "r", "applicants": "w", "outbox": "w", "ledger": "w"},
    "PublishResult": {"waves": "rw"},
    "Notifier": {"applicants": "r", "outbox": "w"},
    "PlanCardSweep": {},  # waves: Query only
    "RevokeUnusedCards": {"applicants": "rw", "exclusions": "w", "outbox": "w", "ledger": "w"},
    "FinishCardSweep": {"waves": "w"},
    "CollectDuePayouts": {},  # payouts: Query on the PayoutsDue index only; ledger: BatchGetItem only
    "SendTransfer": {"payouts": "rw", "ledger": "w"},
    "CheckTransfer": {"payouts": "rw", "ledger": "w"},
    "ReconcileSettlement": {},  # ledger: Query only
    "CountOverdueComplaints": {},  # cases: Query on the ComplaintQueue index only
}
TABLES = [
    "applicants",
    "exclusions",
    "idempotency",
    "waves",
    "outbox",
    "catalog",
    "ledger",
    "payouts",
    "attempts",
    "cases",
    "audit_log",
]
LEDGER_POSTINGS = {"dynamodb:PutItem", "dynamodb:UpdateItem"}
# The selection steps are granted single actions, not CDK's grant_read/grant_write sets.
EXACT_TABLE_ACTIONS = {
    "PlanSelection": {"waves": {"dynamodb:GetItem"}},
    "SnapshotShard": {"waves": {"dynamodb:GetItem", "dynamodb:Query"}, "exclusions": {"dynamodb:Query"}},
    "MergeDraw": {"waves": {"dynamodb:GetItem"}},
    "ApplyShard": {
        "waves": {"dynamodb:GetItem"},
        "applicants": {"dynamodb:UpdateItem", "dynamodb:PutItem"},
        "outbox": {"dynamodb:PutItem"},
        "ledger": LEDGER_POSTINGS,
    },
    "PublishResult": {"waves": {"dynamodb:GetItem", "dynamodb:UpdateItem"}},
    "PublicApi": {"waves": {"dynamodb:GetItem"}},
    "Notifier": {
        "applicants": {"dynamodb:GetItem"},
        # Marks a message sent; the rest is the stream's.
        "outbox": {
            "dynamodb:UpdateItem",
            "dynamodb:DescribeStream",
            "dynamodb:GetRecords",
            "dynamodb:GetShardIterator",
        },
    },
}
# The applicant API's marketplace grants are exact too (its older grants are wider, for now).
APPLICANT_API_EXACT = {
    "applicants": {
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
        "dynamodb:ConditionCheckItem",
        "dynamodb:Query",
    },
    "catalog": {"dynamodb:GetItem", "dynamodb:Query", "dynamodb:ConditionCheckItem", "dynamodb:UpdateItem"},
    "ledger": LEDGER_POSTINGS,
    # Payout account, incentives and survey responses.
    "payouts": {
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
        "dynamodb:Query",
    },
    "attempts": {"dynamodb:UpdateItem"},  # registrations, payout accounts, assessments, complaints
    # Complaint tickets: filed and replied to in transactions, read by Query (the ticket, my list).
    "cases": {"dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:Query"},
}
# The payout, its transfer guard and the partner's rate-limit counters; the payout's ledger postings.
TRANSFER_STEP = {"payouts": {"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"}, "ledger": LEDGER_POSTINGS}
EXACT_TABLE_ACTIONS |= {
    "PartnerApi": {
        "applicants": {"dynamodb:GetItem", "dynamodb:UpdateItem"},
        "payouts": {"dynamodb:GetItem", "dynamodb:PutItem"},  # the payout, rewritten with its status
        "ledger": LEDGER_POSTINGS,
        "attempts": {"dynamodb:GetItem", "dynamodb:UpdateItem"},  # a platform's voucher misses
    },
    "PlanCardSweep": {"waves": {"dynamodb:Query"}},
    "RevokeUnusedCards": {
        "applicants": {"dynamodb:GetItem", "dynamodb:UpdateItem", "dynamodb:Query"},  # Query: the index only
        "exclusions": {"dynamodb:PutItem"},
        "outbox": {"dynamodb:PutItem"},
        "ledger": LEDGER_POSTINGS,
    },
    "FinishCardSweep": {"waves": {"dynamodb:UpdateItem"}},
    # The index only (below); the ledger's running totals, read by key to check the books.
    "CollectDuePayouts": {"payouts": {"dynamodb:Query"}, "ledger": {"dynamodb:BatchGetItem"}},
    # ...and, beginning a transfer, the check that ops do not hold the applicant's payouts.
    "SendTransfer": TRANSFER_STEP | {"payouts": TRANSFER_STEP["payouts"] | {"dynamodb:ConditionCheckItem"}},
    "CheckTransfer": TRANSFER_STEP,
    "ReconcileSettlement": {"ledger": {"dynamodb:Query"}},  # the partner's settled lines of a day
    "CountOverdueComplaints": {"cases": {"dynamodb:Query"}},  # the queue index only (below)
}
# The ops API's grants for the ops actions (prakerja.cases), exact.
OPS_API_ACTIONS_EXACT = {
    "cases": {"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:Query"},  # actions; tickets
    # A profile and its history read; a card revoked; a restart of the checks (REVERIFY).
    "applicants": {"dynamodb:GetItem", "dynamodb:Query", "dynamodb:UpdateItem", "dynamodb:PutItem"},
    "outbox": {"dynamodb:PutItem"},  # the revoked card's notification
    "payouts": {"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:DeleteItem", "dynamodb:Query"},  # hold; index
}
# Each index is queried by one function, and only through a statement naming that index.
INDEX_QUERIES = {
    "RevokeUnusedCards": {("applicants", "CardsDue")},
    "CollectDuePayouts": {("payouts", "PayoutsDue")},
    "OpsApi": {
        ("payouts", "PayoutsFailed"),  # lists and counts failed payouts; reads no payout item
        ("audit_log", "AuditByActor"),  # the audit log's filters
        ("audit_log", "AuditByAction"),
        ("applicants", "ApplicantsByEmail"),  # the case view's search by e-mail
        ("cases", "ActionsPending"),  # the approvals queue
        ("cases", "ComplaintQueue"),  # the complaint queue
    },
    "CountOverdueComplaints": {("cases", "ComplaintQueue")},  # COUNT queries of overdue partitions
}
# Tables whose own items a function also queries besides an index of theirs: the audit log's
# time-sorted partition.
TABLE_QUERIES = {"OpsApi": {"audit_log", "cases", "applicants", "payouts"}}  # cases: an applicant's actions
# S3 actions on the selection bucket, by prefix.
OBJECT_ACCESS = {
    "PublicApi": {"draw/*": {"s3:GetObject"}},
    "PlanSelection": {"selection/*": {"s3:PutObject"}},
    "SnapshotShard": {"selection/*": {"s3:GetObject", "s3:PutObject"}},
    "MergeDraw": {"selection/*": {"s3:GetObject", "s3:PutObject"}},
    "ApplyShard": {"selection/*": {"s3:GetObject"}, "draw/*": {"s3:PutObject"}},
    "PublishResult": {"selection/*": {"s3:GetObject"}},
}
# S3 actions on the payouts bucket, by prefix.
PAYOUT_OBJECT_ACCESS = {
    "CollectDuePayouts": {"payout-runs/*": {"s3:PutObject"}},
    "ReconcileSettlement": {"settlements/*": {"s3:GetObject"}, "reconciliations/*": {"s3:PutObject"}},
    "OpsApi": {"reconciliations/*": {"s3:GetObject"}},
}
# The five payment partners (partners.json); the other partners are training platforms.
PAYMENT_PARTNERS = ("BNI", "OVO", "GOPAY", "LINKAJA", "DANA")
# Who reads which partners' signing secrets: "all", or the payment partners' only.
PARTNER_SECRET_READERS = {
    "PartnerApi": "all",
    "ApplicantApi": "payment",
    "SendTransfer": "payment",
    "CheckTransfer": "payment",
}
TASK_RESPONSES = ("states:SendTaskSuccess", "states:SendTaskFailure", "states:SendTaskHeartbeat")


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("table", TABLES)
def test_table_access_matrix(stack: Stack, name: str, table: str) -> None:
    permissions = stack.permissions[name]
    expected = TABLE_ACCESS[name].get(table, "")
    table_id = stack.table(table)
    assert permissions.allows("dynamodb:GetItem", on=table_id) == ("r" in expected)
    writes = {action for action in TABLE_WRITE_ACTIONS if permissions.allows(action, on=table_id)}
    assert bool(writes) == ("w" in expected), writes
    # Nothing writes through PartiQL, so nobody is granted it.
    assert not {action for action in writes if "PartiQL" in action}
    if name in EXACT_TABLE_ACTIONS:
        assert permissions.actions_on(table_id) == EXACT_TABLE_ACTIONS[name].get(table, set())


@pytest.mark.parametrize("name", NAMES)
def test_the_ledger_is_append_only(stack: Stack, name: str) -> None:
    """Postings and entries are put, never changed or deleted; only the running totals
    (partition keys TOTAL#...) may be updated."""
    for statement in stack.permissions[name].statements:
        if not statement.on(stack.ledger):
            continue
        assert not {"dynamodb:DeleteItem", "dynamodb:BatchWriteItem"} & set(statement.actions), name
        if "dynamodb:UpdateItem" in statement.actions:
            assert set(statement.actions) == {"dynamodb:UpdateItem"}, statement.raw
            assert statement.raw["Condition"] == {"ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["TOTAL#*"]}}


def test_only_the_card_sweep_queries_the_unused_cards_index(stack: Stack) -> None:
    """And only the payout collection queries the due payouts' index, only the ops API the failed
    payouts' index and the audit log's: statements naming the indexes, Query only, and no Query on
    those tables themselves (but the audit log's own time-sorted partition)."""
    for name, permissions in stack.permissions.items():
        on_indexes = [s for s in permissions.statements if "/index/" in json.dumps(s.raw.get("Resource"))]
        expected = INDEX_QUERIES.get(name, set())
        named = set()
        for statement in on_indexes:
            assert set(statement.actions) == {"dynamodb:Query"}, name
            named |= {resolve_string(r) for r in statement.resources if "/index/" in resolve_string(r)}
        assert named == {f"${{{stack.table(table)}}}/index/{index}" for table, index in expected}, name
        for table in {table for table, _ in expected} - TABLE_QUERIES.get(name, set()):
            table_id = stack.table(table)
            assert not [
                s
                for s in permissions.statements
                if s.allows("dynamodb:Query") and s.on(table_id) and s not in on_indexes
            ], name


def test_ops_reach_people_only_through_their_own_partitions(stack: Stack) -> None:
    """The case view and ops actions read and write an applicant's own partition, look a NIK up and
    give a family card's place back, and nothing else of the applicants and payouts tables: no
    account, card-number or voucher guard, by IAM's leading-keys condition on every statement."""
    ops = stack.permissions["OpsApi"]
    expected = {
        "applicants": {
            frozenset({"dynamodb:GetItem", "dynamodb:Query"}): ["APPLICANT#*", "NIK#*"],
            frozenset({"dynamodb:UpdateItem", "dynamodb:PutItem"}): ["APPLICANT#*", "KK#*"],
        },
        "payouts": {
            frozenset({"dynamodb:GetItem", "dynamodb:Query", "dynamodb:PutItem", "dynamodb:DeleteItem"}): [
                "APPLICANT#*"
            ],
        },
    }
    for table, statements in expected.items():
        on_table = [s for s in ops.statements if s.on(stack.table(table)) and "/index/" not in json.dumps(s.raw)]
        found = {
            frozenset(s.actions): s.raw.get("Condition", {})
            .get("ForAllValues:StringLike", {})
            .get("dynamodb:LeadingKeys")
            for s in on_table
        }
        assert found == statements, table


@pytest.mark.parametrize("name", NAMES)
def test_the_audit_log_is_append_only(stack: Stack, name: str) -> None:
    """No function may change or delete an entry of the audit log: it may put new ones (each with
    a condition that its key is new) and query them, nothing else."""
    assert stack.permissions[name].actions_on(stack.audit_log) <= {"dynamodb:PutItem", "dynamodb:Query"}, name


def test_only_the_partner_api_reads_partner_secrets(stack: Stack, dev_template: CfnTemplate) -> None:
    """Every partner's secret: the partner API (signed calls). The payment partners' only: the
    functions that call them (account inquiry, transfers, status queries). Nobody else."""
    secrets = [lid for lid in resources(dev_template, "AWS::SecretsManager::Secret") if lid.startswith("Partners")]
    assert len(secrets) == 12  # seven platforms, five payment partners
    payment = {logical_id(dev_template, "AWS::SecretsManager::Secret", f"Partners{p}") for p in PAYMENT_PARTNERS}
    assert len(payment) == 5
    for name, permissions in stack.permissions.items():
        readable = {s for s in secrets if permissions.allows("secretsmanager:GetSecretValue", on=s)}
        expected = {"all": set(secrets), "payment": payment}.get(PARTNER_SECRET_READERS.get(name, ""), set())
        assert readable == expected, name
        # Named one by one: never a wildcard that a new platform's secret would fall under.
        for statement in permissions.statements:
            if statement.allows("secretsmanager:GetSecretValue"):
                assert not statement.any_resource, statement.raw
                assert all(set(r) == {"Ref"} for r in statement.resources), statement.raw


@pytest.mark.parametrize("table", sorted(APPLICANT_API_EXACT))
def test_applicant_api_buys_and_reads_the_catalog_with_exact_actions(stack: Stack, table: str) -> None:
    assert stack.permissions["ApplicantApi"].actions_on(stack.table(table)) == APPLICANT_API_EXACT[table]


def test_screen_eligibility_reads_exclusions_but_cannot_write_them(stack: Stack) -> None:
    permissions = stack.permissions["ScreenEligibility"]
    on_exclusions = permissions.actions_on(stack.exclusions)
    assert {"dynamodb:GetItem", "dynamodb:Query"} <= on_exclusions
    assert not {"dynamodb:PutItem", "dynamodb:BatchWriteItem", "dynamodb:UpdateItem"} & on_exclusions
    for action in TABLE_WRITE_ACTIONS:
        assert not permissions.allows(action, on=stack.exclusions), action


@pytest.mark.parametrize("table", sorted(OPS_API_ACTIONS_EXACT))
def test_ops_api_acts_on_a_case_with_exact_actions(stack: Stack, table: str) -> None:
    assert stack.permissions["OpsApi"].actions_on(stack.table(table)) == OPS_API_ACTIONS_EXACT[table]


# Only what is bound to a complaint ticket (its messages): never a profile, bound to an applicant.
TICKET_BOUND = {
    "ForAllValues:StringEquals": {"kms:EncryptionContextKeys": ["ticket_id"]},
    "Null": {"kms:EncryptionContextKeys": "false"},
}


def test_ops_api_decrypts_ticket_messages_only_never_a_profile(stack: Stack) -> None:
    """Actions and the case view read profiles but never their personal data (what ops see was
    masked when it was written); the personal-data key only for complaint messages."""
    permissions = stack.permissions["OpsApi"]
    kms_statements = [s for s in permissions.statements if any(a.startswith("kms:") for a in s.actions)]
    assert [set(s.actions) for s in kms_statements] == [{"kms:Encrypt", "kms:Decrypt"}]
    (statement,) = kms_statements
    assert statement.on(stack.personal_data_key) and not statement.any_resource
    assert statement.raw["Condition"] == TICKET_BOUND


TICKETS = ["TICKET#*", "ACCOUNT#*#TICKETS"]
ACTIONS = ["ACTION#*", "APPLICANT#*"]


@pytest.mark.parametrize(("name", "allowed"), [("ApplicantApi", [TICKETS]), ("OpsApi", [TICKETS, ACTIONS])])
def test_each_api_reaches_only_its_own_items_of_the_cases_table(
    stack: Stack, name: str, allowed: list[list[str]]
) -> None:
    """The cases table holds complaint tickets and ops actions: applicants reach the tickets'
    partitions only; ops the tickets' and the actions' (by IAM's leading-keys condition)."""
    on_cases = [
        s for s in stack.permissions[name].statements if s.on(stack.cases) and "/index/" not in json.dumps(s.raw)
    ]
    assert on_cases
    for statement in on_cases:
        leading = statement.raw["Condition"]["ForAllValues:StringLike"]["dynamodb:LeadingKeys"]
        assert leading in allowed, statement.raw


def test_public_api_reads_waves_and_published_draws_only(stack: Stack) -> None:
    actions = stack.permissions["PublicApi"].actions()
    assert actions == {
        "logs:CreateLogStream",
        "logs:PutLogEvents",
        "xray:PutTraceSegments",
        "xray:PutTelemetryRecords",
        "dynamodb:GetItem",
        "s3:GetObject",
    }
    assert stack.permissions["PublicApi"].actions_on(stack.waves) == {"dynamodb:GetItem"}


@pytest.mark.parametrize("name", NAMES)
def test_selection_bucket_access_is_by_prefix(stack: Stack, name: str) -> None:
    granted: dict[str, set[str]] = {}
    for statement in stack.permissions[name].statements:
        if not statement.on(stack.selection_bucket):
            continue
        assert not statement.any_resource
        for resource in statement.resources:
            prefix = resolve_string(resource).split("/", 1)[1]
            granted.setdefault(prefix, set()).update(statement.actions)
    assert granted == OBJECT_ACCESS.get(name, {})


@pytest.mark.parametrize("name", NAMES)
def test_payouts_bucket_access_is_by_prefix(stack: Stack, name: str) -> None:
    granted: dict[str, set[str]] = {}
    for statement in stack.permissions[name].statements:
        if not statement.on(stack.payouts_bucket):
            continue
        assert not statement.any_resource
        for resource in statement.resources:
            prefix = resolve_string(resource).split("/", 1)[1]
            granted.setdefault(prefix, set()).update(statement.actions)
    assert granted == PAYOUT_OBJECT_ACCESS.get(name, {})


def test_snapshot_queries_the_lists_but_cannot_change_them(stack: Stack) -> None:
    assert stack.permissions["SnapshotShard"].actions_on(stack.exclusions) == {"dynamodb:Query"}


@pytest.mark.parametrize("name", NAMES)
def test_only_applicant_api_may_encrypt_personal_data(stack: Stack, name: str) -> None:
    permissions = stack.permissions[name]
    may_encrypt = any(permissions.allows(action) for action in ENCRYPT_ACTIONS)
    assert may_encrypt == (name in ("ApplicantApi", "OpsApi"))
    if name == "OpsApi":  # an answer's message, bound to its ticket (test above)
        return
    if may_encrypt:
        assert permissions.allows("kms:Encrypt", on=stack.personal_data_key)
        kms_statements = [s for s in permissions.statements if any(a.startswith("kms:") for a in s.actions)]
        assert all(not s.any_resource and s.on(stack.personal_data_key) for s in kms_statements)


@pytest.mark.parametrize("name", ["VerifyIdentity", "ScreenEligibility", "Notifier", "SendTransfer", "CheckTransfer"])
def test_workflow_functions_decrypt_but_never_encrypt(stack: Stack, name: str) -> None:
    permissions = stack.permissions[name]
    assert permissions.allows("kms:Decrypt", on=stack.personal_data_key)
    for action in ENCRYPT_ACTIONS:
        assert not permissions.allows(action), action


@pytest.mark.parametrize("name", NAMES)
def test_applicants_start_registrations_and_ops_start_selections_nothing_else(stack: Stack, name: str) -> None:
    """Ops also start payout runs and reconciliations."""
    permissions = stack.permissions[name]
    starting = [s for s in permissions.statements if s.allows("states:StartExecution")]
    allowed = {
        "ApplicantApi": {stack.registration},
        "OpsApi": {stack.registration, stack.selection, stack.payout_runs, stack.reconciliation},  # REVERIFY
    }.get(name, set())
    started = set()
    for statement in starting:
        (resource,) = statement.resources
        assert set(resource) == {"Ref"}, statement.raw
        started.add(resource["Ref"])
    assert started == allowed, name


def _is_the_payout_machine(stack: Stack, resource: object) -> bool:
    """The payout state machine, by reference or by the ARN of its name (a reference from its
    own task functions would be a dependency cycle), or its Distributed Map's children, whose
    state machine ARN is the machine's with the map run's label appended."""
    by_name = (
        f"arn:${{AWS::Partition}}:states:${{AWS::Region}}:${{AWS::AccountId}}:stateMachine:{stack.payout_runs_name}"
    )
    text = resolve_string(resource)
    return resource == {"Ref": stack.payout_runs} or text in (by_name, f"{by_name}/*", f"${{{stack.payout_runs}}}/*")


@pytest.mark.parametrize("name", NAMES)
def test_only_transfers_and_payment_callbacks_resume_the_payout_workflow(stack: Stack, name: str) -> None:
    """A transfer's wait (task token) is resumed by the partner's callback (partner API) or by the
    transfer steps themselves, on the payout state machine only; nobody else answers a task."""
    permissions = stack.permissions[name]
    answering = [s for s in permissions.statements if any(s.allows(action) for action in TASK_RESPONSES)]
    if name not in {"PartnerApi", "SendTransfer", "CheckTransfer"}:
        assert answering == [], name
        return
    assert permissions.allows("states:SendTaskSuccess"), name
    for statement in answering:
        for resource in statement.resources:
            assert _is_the_payout_machine(stack, resource), statement.raw


@pytest.mark.parametrize(
    "name",
    [
        "PartnerApi",
        "SendTransfer",
        "CheckTransfer",
    ],
)
def test_the_payout_workflow_is_only_ever_resumed_with_success(stack: Stack, name: str) -> None:
    """A FAILED transfer is an outcome sent with SendTaskSuccess too (stepfunctions_callbacks.py):
    nobody needs SendTaskFailure or SendTaskHeartbeat."""
    actions = {a for s in stack.permissions[name].statements for a in s.actions if a.lower().startswith("states:")}
    assert actions == {"states:SendTaskSuccess"}


@pytest.mark.parametrize("name", NAMES)
def test_only_the_api_functions_that_hash_read_the_hashing_secret(stack: Stack, name: str) -> None:
    may_read = stack.permissions[name].allows("secretsmanager:GetSecretValue", on=stack.hashing_secret)
    assert may_read == (name in {"ApplicantApi", "OpsApi"})
    if may_read:
        assert stack.permissions[name].allows("secretsmanager:GetSecretValue", on=stack.hashing_secret)
        assert not any(
            s.any_resource for s in stack.permissions[name].statements if s.allows("secretsmanager:GetSecretValue")
        )


# Services that hold or guard the program's data.
DATA_SERVICES = ("dynamodb", "s3", "kms", "secretsmanager", "states")
# Names stream ARNs and reads no data; a stream consumer needs it on "*".
NO_RESOURCE_ACTIONS = {"dynamodb:ListStreams"}


def test_no_role_in_the_stack_has_a_wildcard_on_data_services(dev_template: CfnTemplate) -> None:
    """Every role (functions, state machines, the API's): data actions are named one by one,
    and each names resources of this stack (a prefix of one bucket at most), never "*" or every
    table, bucket, key, secret or state machine of the account."""
    statements = [
        (lid, statement)
        for lid, policy in resources(dev_template, "AWS::IAM::Policy").items()
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
    ] + [
        (lid, statement)
        for lid, role in resources(dev_template, "AWS::IAM::Role").items()
        for inline in role["Properties"].get("Policies", [])
        for statement in inline["PolicyDocument"]["Statement"]
    ]
    checked = 0
    for lid, raw in statements:
        statement = Statement.parse(raw)
        data_actions = [a for a in statement.actions if a.split(":", maxsplit=1)[0].lower() in DATA_SERVICES]
        for action in data_actions:
            assert "*" not in action and "?" not in action, f"{lid}: {action}"
        if not set(data_actions) - NO_RESOURCE_ACTIONS:
            continue
        checked += 1
        for resource in statement.resources:
            assert resource != "*", f"{lid}: {raw}"
            # A wildcard only inside a resource of this stack (an object prefix, its versions), or
            # the payout machine's Distributed Map children, named after it (test above).
            assert (
                "*" not in resolve_string(resource)
                or referenced_ids(resource)
                or resolve_string(resource).endswith(":stateMachine:prakerja-dev-payouts/*")
            ), f"{lid}: {raw}"
    assert checked > 50
