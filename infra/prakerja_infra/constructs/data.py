"""Tables, buckets and keys: where applicants, waves, draws and their personal data live."""

from __future__ import annotations

from aws_cdk import ArnFormat, Duration, RemovalPolicy, Stack
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from prakerja_infra.nag import acknowledge, resource_of
from prakerja_infra.stage import StageConfig, removal_policy


class Data(Construct):
    """DynamoDB tables (PITR, KMS encryption) and the personal-data keys.

    Key design for the registration surge (~1,300 registrations/s): every item's partition
    key is a random applicant id or a keyed hash (NIK, KK, account), so writes spread
    evenly; uniqueness is enforced by conditional writes on those guard items, never by
    reading first; nothing on a request path scans.
    """

    def __init__(self, scope: Construct, construct_id: str, *, stage: StageConfig) -> None:
        super().__init__(scope, construct_id)
        removal = removal_policy(stage)

        self.personal_data_key = self._rotating_key(
            "PersonalDataKey", "encrypts personal data, tables and the hashing secret", stage
        )

        # Every log group of the stack: logs may carry ids, codes and, by mistake, more. Only the
        # CloudWatch Logs service uses it, and only for log groups of this account and region.
        self.logs_key = self._rotating_key("LogsKey", "encrypts the log groups", stage)
        stack = Stack.of(self)
        self.logs_key.add_to_resource_policy(
            iam.PolicyStatement(
                principals=[iam.ServicePrincipal(f"logs.{stack.region}.{stack.url_suffix}")],
                actions=[
                    "kms:Encrypt",
                    "kms:Decrypt",
                    "kms:ReEncryptFrom",
                    "kms:ReEncryptTo",
                    "kms:GenerateDataKey",
                    "kms:GenerateDataKeyWithoutPlaintext",
                    "kms:DescribeKey",
                ],
                resources=["*"],  # in a key policy, "*" is this key
                conditions={
                    "ArnLike": {
                        "kms:EncryptionContext:aws:logs:arn": stack.format_arn(
                            service="logs",
                            resource="log-group",
                            resource_name="*",
                            arn_format=ArnFormat.COLON_RESOURCE_NAME,
                        )
                    }
                },
            )
        )

        # The keyed-hash (HMAC) key for NIK/KK lookups. Not rotated automatically: a new key
        # gets a new key id and hashes are re-derived from the encrypted copies (docs/).
        self.hashing_secret = secretsmanager.Secret(
            self,
            "PersonalDataHashingKey",
            description="HMAC key for lookups by NIK and KK hash",
            encryption_key=self.personal_data_key,
            generate_secret_string=secretsmanager.SecretStringGenerator(password_length=64, exclude_punctuation=True),
            removal_policy=removal,
        )
        acknowledge(
            self.hashing_secret,
            "AwsSolutions-SMG4",
            "Rotating the HMAC key invalidates every stored lookup hash; rotation is a planned "
            "re-hash job keyed by key id (docs/personal-data.md), not a blind schedule.",
        )

        self.applicants = self._table(
            "ApplicantsTable",
            removal,
            partition_key="pk",
            sort_key="sk",
        )
        # Sparse index of the cards not used yet, 64 partitions per wave (adapters/dynamodb_cards.py).
        self.applicants.add_global_secondary_index(
            index_name="CardsDue",
            partition_key=dynamodb.Attribute(name="card_due", type=dynamodb.AttributeType.STRING),
            projection_type=dynamodb.ProjectionType.KEYS_ONLY,
        )
        # Sparse index of profiles by the e-mail's keyed hash: ops search a case by e-mail without a
        # scan (adapters/dynamodb_applicants.py BY_EMAIL). Keys only: the profile is read after.
        self.applicants.add_global_secondary_index(
            index_name="ApplicantsByEmail",
            partition_key=dynamodb.Attribute(name="email_hash", type=dynamodb.AttributeType.STRING),
            projection_type=dynamodb.ProjectionType.KEYS_ONLY,
        )
        self.exclusions = self._table(
            "ExclusionsTable",
            removal,
            partition_key="nik_hash",
            sort_key="source",
        )
        # Waves, their sharded participant lists and join counters (see dynamodb_waves.py).
        self.waves = self._table("WavesTable", removal, partition_key="pk", sort_key="sk")
        # The course catalog (adapters/dynamodb_marketplace.py).
        self.catalog = self._table("CatalogTable", removal, partition_key="pk", sort_key="sk")
        # The double-entry ledger: postings, per-person entries, sharded running totals
        # (adapters/dynamodb_ledger.py). Functions may only put items and ADD to totals.
        self.ledger = self._table("LedgerTable", removal, partition_key="pk", sort_key="sk")
        # Payout accounts, incentives, transfers and survey responses (adapters/dynamodb_payouts.py),
        # with the sparse index of the payouts a run should collect, 16 partitions by due time.
        self.payouts = self._table(
            "PayoutsTable", removal, partition_key="pk", sort_key="sk", ttl_attribute="expires_at"
        )
        self.payouts.add_global_secondary_index(
            index_name="PayoutsDue",
            partition_key=dynamodb.Attribute(name="queue", type=dynamodb.AttributeType.STRING),
            sort_key=dynamodb.Attribute(name="due_at", type=dynamodb.AttributeType.STRING),
            projection_type=dynamodb.ProjectionType.KEYS_ONLY,
        )
        # Sparse index of the FAILED payouts, one partition per failure code, newest first: ops
        # list and count them without a scan. One partition per code is enough: failures come
        # from transfers, which the partners' rate limits cap at 280 a second in all (a partition
        # takes 1,000 writes). It carries what an ops list shows, never the account number.
        self.payouts.add_global_secondary_index(
            index_name="PayoutsFailed",
            partition_key=dynamodb.Attribute(name="failed_with", type=dynamodb.AttributeType.STRING),
            sort_key=dynamodb.Attribute(name="failed_at", type=dynamodb.AttributeType.STRING),
            projection_type=dynamodb.ProjectionType.INCLUDE,
            # adapters/dynamodb_payouts.py FAILED_FIELDS (tests/infra/test_data.py keeps them equal)
            non_key_attributes=["payout_id", "applicant_id", "kind", "tranche", "amount", "provider", "attempt"],
        )
        self.idempotency = self._table(
            "IdempotencyTable",
            removal,
            partition_key="id",
            sort_key=None,
            ttl_attribute="expiration",
        )
        # Attempt counters of the handlers' abuse limits (prakerja.limits), one item per caller
        # and window, gone with the window.
        self.attempts = self._table(
            "AttemptsTable", removal, partition_key="pk", sort_key="sk", ttl_attribute="expires_at"
        )
        # Transactional outbox: a message is written with the state change it announces; the
        # stream hands it to the notifier (SMS). Messages expire a month after they are written.
        self.outbox = self._table(
            "OutboxTable",
            removal,
            partition_key="pk",
            sort_key="sk",
            ttl_attribute="expires_at",
            stream=dynamodb.StreamViewType.NEW_IMAGE,
        )

        # Grievances and case handling: complaint tickets and their updates, ops actions waiting for
        # a second person (layers: prakerja/grievances, prakerja/cases).
        self.cases = self._table("CasesTable", removal, partition_key="pk", sort_key="sk")
        # Sparse index of the ops actions waiting for a second person, oldest first (the approvals
        # queue; adapters/dynamodb_cases.py): one partition, a few hundred items at most.
        self.cases.add_global_secondary_index(
            index_name="ActionsPending",
            partition_key=dynamodb.Attribute(name="approval_queue", type=dynamodb.AttributeType.STRING),
            sort_key=dynamodb.Attribute(name="pending_since", type=dynamodb.AttributeType.STRING),
            projection_type=dynamodb.ProjectionType.ALL,
        )
        # The ops queue of complaint tickets (adapters/dynamodb_grievances.py): one partition per
        # status and category, oldest first; a queue row's fields only, never a message.
        self.cases.add_global_secondary_index(
            index_name="ComplaintQueue",
            partition_key=dynamodb.Attribute(name="queue", type=dynamodb.AttributeType.STRING),
            sort_key=dynamodb.Attribute(name="queue_at", type=dynamodb.AttributeType.STRING),
            projection_type=dynamodb.ProjectionType.INCLUDE,
            # adapters/dynamodb_grievances.py QUEUE_FIELDS (tests/infra/test_data.py keeps them equal)
            non_key_attributes=["ticket_id", "category", "status", "created_at", "due_by", "updated_at"],
        )
        # The audit log of ops calls (adapters/dynamodb_audit.py): append-only (grants.py
        # allow_audit_append), one partition by time and an index per filter; kept two years (TTL).
        self.audit_log = self._table(
            "AuditLogTable", removal, partition_key="pk", sort_key="sk", ttl_attribute="expires_at"
        )
        for index, attribute in (("AuditByActor", "actor"), ("AuditByAction", "action")):
            self.audit_log.add_global_secondary_index(
                index_name=index,
                partition_key=dynamodb.Attribute(name=attribute, type=dynamodb.AttributeType.STRING),
                sort_key=dynamodb.Attribute(name="sk", type=dynamodb.AttributeType.STRING),
                projection_type=dynamodb.ProjectionType.ALL,
            )

        # Every table, by the name the dashboard and alarms show.
        self.tables: dict[str, dynamodb.Table] = {
            "Applicants": self.applicants,
            "Exclusions": self.exclusions,
            "Waves": self.waves,
            "Catalog": self.catalog,
            "Ledger": self.ledger,
            "Payouts": self.payouts,
            "Idempotency": self.idempotency,
            "Attempts": self.attempts,
            "Outbox": self.outbox,
            "Cases": self.cases,
            "AuditLog": self.audit_log,
        }
        # Their global secondary indexes, whose throttling is reported apart from the table's.
        self.table_indexes: dict[str, list[str]] = {
            "Applicants": ["CardsDue", "ApplicantsByEmail"],
            "Payouts": ["PayoutsDue", "PayoutsFailed"],
            "AuditLog": ["AuditByActor", "AuditByAction"],
            "Cases": ["ActionsPending", "ComplaintQueue"],
        }

        self.access_logs = s3.Bucket(
            self,
            "AccessLogsBucket",
            encryption=s3.BucketEncryption.S3_MANAGED,  # server access logging cannot deliver to SSE-KMS
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,  # log delivery by bucket policy, no ACL
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            lifecycle_rules=[s3.LifecycleRule(expiration=Duration.days(stage.log_retention_days))],
            removal_policy=removal,
            # Dev only: `cdk destroy` empties the bucket (versions too) before deleting it.
            auto_delete_objects=not stage.retain_data,
        )
        acknowledge(
            resource_of(self.access_logs),
            "AwsSolutions-S1",
            "The access-log bucket does not log access to itself.",
        )
        # The selection workflow's files and the published draws (selection/files.py). Versioned:
        # a published page is never lost to an overwrite; working files expire, draws stay.
        self.selection = s3.Bucket(
            self,
            "SelectionBucket",
            encryption=s3.BucketEncryption.S3_MANAGED,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            versioned=True,
            server_access_logs_bucket=self.access_logs,
            server_access_logs_prefix="selection/",
            lifecycle_rules=[
                s3.LifecycleRule(prefix="selection/", expiration=Duration.days(365)),
                s3.LifecycleRule(noncurrent_version_expiration=Duration.days(30)),
            ],
            removal_policy=removal,
            # Dev only: `cdk destroy` empties the bucket (versions too) before deleting it.
            auto_delete_objects=not stage.retain_data,
        )

        # Payout runs' item lists, the partners' settlement reports (dropped under settlements/,
        # which starts a reconciliation) and the reconciliation results. Kept for audits.
        self.payout_files = s3.Bucket(
            self,
            "PayoutsBucket",
            encryption=s3.BucketEncryption.S3_MANAGED,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            versioned=True,
            server_access_logs_bucket=self.access_logs,
            server_access_logs_prefix="payouts/",
            lifecycle_rules=[
                s3.LifecycleRule(prefix="payout-runs/", expiration=Duration.days(90)),
                s3.LifecycleRule(noncurrent_version_expiration=Duration.days(365)),
            ],
            removal_policy=removal,
            # Dev only: `cdk destroy` empties the bucket (versions too) before deleting it.
            auto_delete_objects=not stage.retain_data,
        )
        # S3 -> EventBridge notifications (a report's arrival starts its reconciliation), set on
        # the bucket itself: event_bridge_enabled=True would add a deploy-time custom resource.
        bucket = self.payout_files.node.default_child
        assert isinstance(bucket, s3.CfnBucket)
        bucket.add_property_override("NotificationConfiguration.EventBridgeConfiguration.EventBridgeEnabled", True)

    def _rotating_key(self, construct_id: str, purpose: str, stage: StageConfig) -> kms.Key:
        return kms.Key(
            self,
            construct_id,
            description=f"Prakerja {stage.name}: {purpose}",
            enable_key_rotation=True,
            removal_policy=removal_policy(stage),
            pending_window=Duration.days(7 if not stage.retain_data else 30),
        )

    def _table(
        self,
        construct_id: str,
        removal: RemovalPolicy,
        *,
        partition_key: str,
        sort_key: str | None,
        ttl_attribute: str | None = None,
        stream: dynamodb.StreamViewType | None = None,
    ) -> dynamodb.Table:
        return dynamodb.Table(
            self,
            construct_id,
            partition_key=dynamodb.Attribute(name=partition_key, type=dynamodb.AttributeType.STRING),
            sort_key=dynamodb.Attribute(name=sort_key, type=dynamodb.AttributeType.STRING) if sort_key else None,
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            # AWS-managed KMS encryption at rest; the personal data inside items is additionally
            # encrypted with personal_data_key by the application (envelope), so table access
            # alone never reveals a NIK, and functions need no key grants to read other fields.
            encryption=dynamodb.TableEncryption.AWS_MANAGED,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            time_to_live_attribute=ttl_attribute,
            stream=stream,
            removal_policy=removal,
        )
