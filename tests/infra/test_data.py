"""Tables and keys: backups, encryption, key schemas, key rotation."""

from __future__ import annotations

import pytest
from aws_cdk.assertions import Match, Template

from prakerja.adapters.dynamodb_applicants import BY_EMAIL
from prakerja.adapters.dynamodb_audit import BY_ACTION, BY_ACTOR
from prakerja.adapters.dynamodb_grievances import QUEUE_FIELDS, QUEUE_INDEX
from prakerja.adapters.dynamodb_payouts import FAILED_FIELDS
from tests.infra.cfn import CfnTemplate, one, referenced_ids, resources

TABLE = "AWS::DynamoDB::Table"


# Every stage's tables (tests/infra/test_stages.py checks each one's retention).
TABLES = [
    "ApplicantsTable",
    "AttemptsTable",
    "AuditLogTable",
    "CasesTable",
    "CatalogTable",
    "ExclusionsTable",
    "IdempotencyTable",
    "LedgerTable",
    "OutboxTable",
    "PayoutsTable",
    "WavesTable",
]


def test_there_are_the_eleven_tables(dev_template: CfnTemplate) -> None:
    names = sorted(lid.removeprefix("Data")[:-8] for lid in resources(dev_template, TABLE))
    assert names == TABLES


def test_unused_cards_are_found_through_a_sparse_keys_only_index(dev_template: CfnTemplate) -> None:
    _, applicants = one(dev_template, TABLE, "DataApplicantsTable")
    index = {i["IndexName"]: i for i in applicants["Properties"]["GlobalSecondaryIndexes"]}["CardsDue"]
    assert index["KeySchema"] == [{"AttributeName": "card_due", "KeyType": "HASH"}]
    assert index["Projection"] == {"ProjectionType": "KEYS_ONLY"}


def test_due_payouts_are_found_through_a_sparse_keys_only_index_by_due_time(dev_template: CfnTemplate) -> None:
    _, payouts = one(dev_template, TABLE, "DataPayoutsTable")
    indexes = {i["IndexName"]: i for i in payouts["Properties"]["GlobalSecondaryIndexes"]}
    assert sorted(indexes) == ["PayoutsDue", "PayoutsFailed"]
    index = indexes["PayoutsDue"]
    assert index["KeySchema"] == [
        {"AttributeName": "queue", "KeyType": "HASH"},
        {"AttributeName": "due_at", "KeyType": "RANGE"},
    ]
    assert index["Projection"] == {"ProjectionType": "KEYS_ONLY"}


def test_failed_payouts_are_found_by_code_through_a_sparse_index_without_account_numbers(
    dev_template: CfnTemplate,
) -> None:
    _, payouts = one(dev_template, TABLE, "DataPayoutsTable")
    (index,) = [i for i in payouts["Properties"]["GlobalSecondaryIndexes"] if i["IndexName"] == "PayoutsFailed"]
    assert index["KeySchema"] == [
        {"AttributeName": "failed_with", "KeyType": "HASH"},
        {"AttributeName": "failed_at", "KeyType": "RANGE"},
    ]
    # What the adapter reads, no more: never the account number's cipher nor a task token.
    assert index["Projection"]["ProjectionType"] == "INCLUDE"
    assert sorted(index["Projection"]["NonKeyAttributes"]) == sorted(FAILED_FIELDS)


def test_the_complaint_queue_is_an_index_by_status_and_category_without_messages(dev_template: CfnTemplate) -> None:
    _, cases = one(dev_template, TABLE, "DataCasesTable")
    index = {i["IndexName"]: i for i in cases["Properties"]["GlobalSecondaryIndexes"]}[QUEUE_INDEX]
    assert index["KeySchema"] == [
        {"AttributeName": "queue", "KeyType": "HASH"},
        {"AttributeName": "queue_at", "KeyType": "RANGE"},
    ]
    # A queue row's fields: never a message (personal data), nor the account that filed it.
    assert index["Projection"]["ProjectionType"] == "INCLUDE"
    assert sorted(index["Projection"]["NonKeyAttributes"]) == sorted(QUEUE_FIELDS)


def test_the_payouts_table_expires_its_rate_counters(dev_template: CfnTemplate) -> None:
    _, payouts = one(dev_template, TABLE, "DataPayoutsTable")
    assert payouts["Properties"]["TimeToLiveSpecification"] == {"AttributeName": "expires_at", "Enabled": True}
    # Nothing consumes a stream of payouts: none is enabled.
    assert "StreamSpecification" not in payouts["Properties"]


def test_the_outbox_streams_new_messages_and_expires_them(dev_template: CfnTemplate) -> None:
    _, outbox = one(dev_template, TABLE, "DataOutboxTable")
    assert outbox["Properties"]["StreamSpecification"] == {"StreamViewType": "NEW_IMAGE"}
    assert outbox["Properties"]["TimeToLiveSpecification"] == {"AttributeName": "expires_at", "Enabled": True}


def test_buckets_are_private_encrypted_tls_only_and_logged(dev_template: CfnTemplate) -> None:
    buckets = resources(dev_template, "AWS::S3::Bucket")
    logs_id, _ = one(dev_template, "AWS::S3::Bucket", "DataAccessLogsBucket")
    policies = {
        next(iter(referenced_ids(p["Properties"]["Bucket"]))): p["Properties"]["PolicyDocument"]["Statement"]
        for p in resources(dev_template, "AWS::S3::BucketPolicy").values()
    }
    for lid, bucket in buckets.items():
        properties = bucket["Properties"]
        assert properties["PublicAccessBlockConfiguration"] == {
            "BlockPublicAcls": True,
            "BlockPublicPolicy": True,
            "IgnorePublicAcls": True,
            "RestrictPublicBuckets": True,
        }, lid
        assert properties["BucketEncryption"]["ServerSideEncryptionConfiguration"], lid
        assert "AccessControl" not in properties, lid
        denies_plain_http = [
            s
            for s in policies[lid]
            if s["Effect"] == "Deny" and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
        ]
        assert denies_plain_http, f"{lid} accepts requests without TLS"
        if lid != logs_id:
            assert referenced_ids(properties["LoggingConfiguration"]["DestinationBucketName"]) == {logs_id}, lid


def test_published_draws_are_versioned(dev_template: CfnTemplate) -> None:
    _, selection = one(dev_template, "AWS::S3::Bucket", "DataSelectionBucket")
    assert selection["Properties"]["VersioningConfiguration"] == {"Status": "Enabled"}


def test_settlement_reports_and_reconciliations_are_versioned(dev_template: CfnTemplate) -> None:
    """Audit records: an overwritten report or result keeps its earlier version."""
    _, payouts = one(dev_template, "AWS::S3::Bucket", "DataPayoutsBucket")
    assert payouts["Properties"]["VersioningConfiguration"] == {"Status": "Enabled"}


def test_every_table_has_pitr_encryption_and_on_demand_billing(dev: Template) -> None:
    dev.all_resources_properties(
        TABLE,
        {
            "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
            "SSESpecification": Match.object_like({"SSEEnabled": True}),
            "BillingMode": "PAY_PER_REQUEST",
        },
    )


def test_no_table_has_provisioned_throughput(dev_template: CfnTemplate) -> None:
    # On-demand tables must not carry capacity settings (they would be ignored or rejected).
    for lid, table in resources(dev_template, TABLE).items():
        assert "ProvisionedThroughput" not in table["Properties"], lid


def test_attempt_counters_expire_with_their_window(dev_template: CfnTemplate) -> None:
    _, table = one(dev_template, TABLE, "DataAttemptsTable")
    assert table["Properties"]["TimeToLiveSpecification"] == {"AttributeName": "expires_at", "Enabled": True}


def test_idempotency_table_expires_records_on_expiration(dev_template: CfnTemplate) -> None:
    _, table = one(dev_template, TABLE, "DataIdempotencyTable")
    assert table["Properties"]["TimeToLiveSpecification"] == {"AttributeName": "expiration", "Enabled": True}


@pytest.mark.parametrize(
    ("prefix", "hash_key", "range_key", "indexed"),
    [
        ("DataApplicantsTable", "pk", "sk", ("card_due", "email_hash")),
        ("DataExclusionsTable", "nik_hash", "source", ()),
        ("DataIdempotencyTable", "id", None, ()),
        ("DataWavesTable", "pk", "sk", ()),
        ("DataCatalogTable", "pk", "sk", ()),
        ("DataLedgerTable", "pk", "sk", ()),
        ("DataPayoutsTable", "pk", "sk", ("queue", "due_at", "failed_with", "failed_at")),
        ("DataAttemptsTable", "pk", "sk", ()),
        ("DataCasesTable", "pk", "sk", ("approval_queue", "pending_since", "queue", "queue_at")),
        ("DataAuditLogTable", "pk", "sk", ("actor", "action")),
    ],
)
def test_key_schema(
    dev_template: CfnTemplate, prefix: str, hash_key: str, range_key: str | None, indexed: tuple[str, ...]
) -> None:
    _, table = one(dev_template, TABLE, prefix)
    expected = [{"AttributeName": hash_key, "KeyType": "HASH"}]
    if range_key:
        expected.append({"AttributeName": range_key, "KeyType": "RANGE"})
    assert table["Properties"]["KeySchema"] == expected
    # Key attributes are strings (random ids and keyed hashes), and only keys (and index keys) are declared.
    assert table["Properties"]["AttributeDefinitions"] == [
        {"AttributeName": name, "AttributeType": "S"} for name in (hash_key, range_key, *indexed) if name
    ]


def test_every_kms_key_rotates(dev_template: CfnTemplate, dev: Template) -> None:
    keys = resources(dev_template, "AWS::KMS::Key")
    assert keys, "the stack has KMS keys (personal data, alarm topic)"
    dev.all_resources_properties("AWS::KMS::Key", {"EnableKeyRotation": True})


def test_hashing_secret_is_encrypted_with_the_personal_data_key(dev_template: CfnTemplate) -> None:
    key_id, _ = one(dev_template, "AWS::KMS::Key", "DataPersonalDataKey")
    _, secret = one(dev_template, "AWS::SecretsManager::Secret", "DataPersonalDataHashingKey")
    assert secret["Properties"]["KmsKeyId"] == {"Fn::GetAtt": [key_id, "Arn"]}
    # Generated by Secrets Manager: the value never appears in the template.
    assert "SecretString" not in secret["Properties"]
    assert secret["Properties"]["GenerateSecretString"]["PasswordLength"] >= 32


def test_personal_data_key_policy_grants_function_roles_only_decrypt_via_secrets_manager(
    dev_template: CfnTemplate,
) -> None:
    """Granting a secret's read to a role also writes to the key's policy; those grants must not
    open the key for direct use (only Secrets Manager may use it on the role's behalf)."""
    _, key = one(dev_template, "AWS::KMS::Key", "DataPersonalDataKey")
    roles = set(resources(dev_template, "AWS::IAM::Role"))
    for statement in key["Properties"]["KeyPolicy"]["Statement"]:
        principal_ids = referenced_ids(statement.get("Principal", {}))
        if not principal_ids & roles:
            continue
        assert statement["Effect"] == "Allow"
        assert statement["Action"] in ("kms:Decrypt", ["kms:Decrypt"]), statement
        via = statement["Condition"]["StringEquals"]["kms:ViaService"]
        assert "secretsmanager." in str(via), statement


def test_dev_buckets_empty_themselves_on_destroy_and_prod_keeps_them(
    dev_template: CfnTemplate, prod_template: CfnTemplate
) -> None:
    """`cdk destroy` of a dev stack deletes its buckets, which CloudFormation cannot do while they
    hold objects (or versions): dev's are emptied first; prod's are kept, objects and all."""
    dev_buckets = set(resources(dev_template, "AWS::S3::Bucket"))
    emptied = {
        next(iter(referenced_ids(r["Properties"]["BucketName"])))
        for r in resources(dev_template, "Custom::S3AutoDeleteObjects").values()
    }
    assert emptied == dev_buckets and len(dev_buckets) == 3
    assert not resources(prod_template, "Custom::S3AutoDeleteObjects")
    assert all(
        b["DeletionPolicy"] == "RetainExceptOnCreate" for b in resources(prod_template, "AWS::S3::Bucket").values()
    )


def test_the_audit_log_is_kept_by_ttl_and_listed_by_time_actor_and_action(dev_template: CfnTemplate) -> None:
    """GET /v1/ops/audit-log never scans: one partition by time, an index per filter; entries
    expire by TTL (AUDIT_RETENTION_DAYS), never by a function's delete."""
    _, audit_log = one(dev_template, TABLE, "DataAuditLogTable")
    properties = audit_log["Properties"]
    assert properties["TimeToLiveSpecification"] == {"AttributeName": "expires_at", "Enabled": True}
    indexes = {i["IndexName"]: i["KeySchema"] for i in properties["GlobalSecondaryIndexes"]}
    assert set(indexes) == {BY_ACTOR, BY_ACTION}  # the names the adapter queries
    assert indexes == {
        "AuditByActor": [{"AttributeName": "actor", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        "AuditByAction": [{"AttributeName": "action", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
    }


def test_ops_find_a_profile_by_email_through_a_sparse_keys_only_index_of_its_keyed_hash(
    dev_template: CfnTemplate,
) -> None:
    _, applicants = one(dev_template, TABLE, "DataApplicantsTable")
    index = {i["IndexName"]: i for i in applicants["Properties"]["GlobalSecondaryIndexes"]}[BY_EMAIL]
    assert index["KeySchema"] == [{"AttributeName": "email_hash", "KeyType": "HASH"}]
    assert index["Projection"] == {"ProjectionType": "KEYS_ONLY"}
