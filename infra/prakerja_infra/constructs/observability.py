"""What ops watch: alarms on what breaks the applicant journey or the books (API errors and
latency, Lambda errors and throttles, DynamoDB throttles, failed workflow executions, a ledger
that does not balance, payouts stuck at a partner), all notifying one topic, and the stage's
dashboard: the program's numbers next to the services' health. The alarms are a nested stack
(``Alarms``); the topic and the dashboard stay in the stage's stack (docs/deploy.md)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from aws_cdk import Annotations, ArnFormat, Duration, NestedStack, Stack
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from prakerja.metrics import DECISION, FAILURE_CODE, FUNNEL, VERDICT, ProgramMetric
from prakerja.program import load_program
from prakerja_infra.constructs.functions import METRICS_NAMESPACE, SERVICE_NAME
from prakerja_infra.stage import StageConfig, removal_policy

FIVE_MINUTES = Duration.minutes(5)
AT_LEAST = cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD
HOUR = Duration.hours(1)
# A payout run starts every 15 minutes and checks the ledger first: half an hour without a check
# is two runs missed.
LEDGER_CHECK_WINDOW = Duration.minutes(30)


def dashboard_name(stage: StageConfig) -> str:
    return f"prakerja-{stage.name}"


@dataclass(frozen=True)
class Watched:
    """What the alarms and the dashboard watch, all of it in the parent stack."""

    api: apigw.RestApi
    functions: Mapping[str, lambda_.Function]
    tables: Mapping[str, dynamodb.Table]
    table_indexes: Mapping[str, Sequence[str]]
    state_machines: Mapping[str, sfn.StateMachine]
    dead_letter_queues: Mapping[str, sqs.IQueue]


class Observability(Construct):
    """The alarm topic (its key, policy and subscribers) and the stage's dashboard. Both stay in the
    parent stack: the topic keeps its confirmed subscriptions, the key its id, and the dashboard its
    name (``prakerja-<stage>``), which a move between stacks would collide on (docs/deploy.md)."""

    def __init__(self, scope: Construct, construct_id: str, *, stage: StageConfig) -> None:
        super().__init__(scope, construct_id)
        self._stage = stage
        # CloudWatch must be allowed to use the topic's key, which rules out the AWS managed one.
        alarm_key = kms.Key(
            self,
            "AlarmTopicKey",
            enable_key_rotation=True,
            description="Alarm topic encryption",
            # Like every key of the stage: kept when a prod stack is deleted, deleted with a dev one.
            removal_policy=removal_policy(stage),
        )
        alarm_key.grant(iam.ServicePrincipal("cloudwatch.amazonaws.com"), "kms:Decrypt", "kms:GenerateDataKey")
        self.alarm_topic = sns.Topic(
            self, "AlarmTopic", display_name=f"Prakerja {stage.name} alarms", master_key=alarm_key
        )
        # A topic policy replaces SNS's default one: CloudWatch (this account's alarms only) is
        # allowed to publish explicitly, or no alarm would ever reach anyone.
        self.alarm_topic.add_to_resource_policy(_allow_this_accounts_alarms(self.alarm_topic))
        self.alarm_topic.add_to_resource_policy(_deny_insecure_transport(self.alarm_topic))
        self._subscribe(stage)

    def add_dashboard(self, watched: Watched, alarms: Sequence[cloudwatch.IAlarm]) -> cloudwatch.Dashboard:
        """The program's numbers next to the services' health, and every alarm's state (the
        alarms are in their nested stack: CDK passes their ARNs up as its outputs)."""
        self.dashboard = cloudwatch.Dashboard(self, "Dashboard", dashboard_name=dashboard_name(self._stage))
        self._program_widgets(self._stage)
        self._service_widgets(watched.api, watched.functions, watched.tables, watched.state_machines)
        self.dashboard.add_widgets(
            cloudwatch.AlarmStatusWidget(
                title="Alarms",
                alarms=list(alarms),
                sort_by=cloudwatch.AlarmStatusWidgetSortBy.STATE_UPDATED_TIMESTAMP,
                width=24,
                height=8,
            )
        )
        return self.dashboard

    def _subscribe(self, stage: StageConfig) -> None:
        """The stage's subscribers (StageConfig.alarm_subscribers); each confirms once (SNS sends
        the e-mail or webhook a confirmation). With none, synth warns: alarms would reach nobody."""
        subscribers = stage.alarm_subscribers
        for email in subscribers.emails:
            self.alarm_topic.add_subscription(subscriptions.EmailSubscription(email))
        for number in subscribers.sms:
            self.alarm_topic.add_subscription(subscriptions.SmsSubscription(number))
        for url in subscribers.webhooks:
            self.alarm_topic.add_subscription(
                subscriptions.UrlSubscription(str(url), protocol=sns.SubscriptionProtocol.HTTPS)
            )
        if not subscribers:
            Annotations.of(self).add_warning_v2(
                "prakerja:no-alarm-subscribers",
                f"Nobody is subscribed to the {stage.name} alarm topic: set alarm_subscribers in "
                "infra/prakerja_infra/stage.py (docs/deploy.md).",
            )

    def _program_widgets(self, stage: StageConfig) -> None:
        funnel = [program_metric(name, "Sum", HOUR) for name in FUNNEL]
        self.dashboard.add_widgets(
            cloudwatch.TextWidget(
                markdown=f"# Prakerja {stage.name}\nThe applicant journey and the money, then the services. "
                "Program numbers are counted by the handlers (namespace `Prakerja`).",
                width=24,
                height=2,
            ),
        )
        self.dashboard.add_widgets(
            cloudwatch.SingleValueWidget(
                title="Applicant journey (the dashboard's time range)",
                metrics=funnel,
                set_period_to_time_range=True,
                width=24,
                height=4,
            ),
        )
        self.dashboard.add_widgets(
            cloudwatch.GraphWidget(title="Applicant journey per hour", left=funnel, width=12),
            cloudwatch.GraphWidget(
                title="Verifications by result per hour",
                left=[
                    by_dimension(ProgramMetric.VERIFICATION_DECISIONS, DECISION, HOUR),
                    by_dimension(ProgramMetric.IDENTITY_CHECKS, VERDICT, HOUR),
                ],
                width=12,
            ),
        )
        self.dashboard.add_widgets(
            cloudwatch.GraphWidget(
                title="Payouts per hour",
                left=[
                    program_metric(ProgramMetric.PAYOUTS_PAID, "Sum", HOUR),
                    program_metric(ProgramMetric.PAYOUTS_FAILED, "Sum", HOUR),
                    program_metric(ProgramMetric.PAYOUTS_STUCK, "Sum", HOUR),
                ],
                width=8,
            ),
            cloudwatch.GraphWidget(
                title="Payouts failed by code per hour",
                left=[by_dimension(ProgramMetric.PAYOUTS_FAILED, FAILURE_CODE, HOUR)],
                width=8,
            ),
            cloudwatch.GraphWidget(
                title="Ledger imbalance (Rp, 0 when the books balance)",
                left=[program_metric(ProgramMetric.LEDGER_IMBALANCE, "Maximum", FIVE_MINUTES)],
                left_annotations=[cloudwatch.HorizontalAnnotation(value=0, label="balanced")],
                width=8,
            ),
        )

    def _service_widgets(
        self,
        api: apigw.RestApi,
        functions: Mapping[str, lambda_.Function],
        tables: Mapping[str, dynamodb.Table],
        state_machines: Mapping[str, sfn.StateMachine],
    ) -> None:
        self.dashboard.add_widgets(
            cloudwatch.GraphWidget(
                title="API requests and 5xx",
                left=[
                    api.metric_count(period=FIVE_MINUTES, label="requests"),
                    api.metric_server_error(period=FIVE_MINUTES, label="5xx"),
                ],
                width=12,
            ),
            cloudwatch.GraphWidget(
                title="API latency p99 (ms)",
                left=[api.metric_latency(period=FIVE_MINUTES, statistic="p99", label="p99")],
                width=12,
            ),
        )
        self._row(
            ("Lambda errors", [f.metric_errors(period=FIVE_MINUTES, label=n) for n, f in functions.items()]),
            ("Lambda throttles", [f.metric_throttles(period=FIVE_MINUTES, label=n) for n, f in functions.items()]),
            (
                "Lambda duration p99 (ms)",
                [f.metric_duration(period=FIVE_MINUTES, statistic="p99", label=n) for n, f in functions.items()],
            ),
        )
        self._row(
            ("DynamoDB throttled requests", [_throttled_requests(n, t) for n, t in tables.items()]),
            *(
                (
                    f"DynamoDB {kind.lower()} throttle events",
                    [
                        t.metric(f"{kind}ThrottleEvents", statistic="Sum", period=FIVE_MINUTES, label=n)
                        for n, t in tables.items()
                    ],
                )
                for kind in ("Read", "Write")
            ),
        )
        self._row(
            ("Executions started", [m.metric_started(period=FIVE_MINUTES, label=n) for n, m in state_machines.items()]),
            ("Executions failed", [m.metric_failed(period=FIVE_MINUTES, label=n) for n, m in state_machines.items()]),
            (
                "Executions timed out",
                [m.metric_timed_out(period=FIVE_MINUTES, label=n) for n, m in state_machines.items()],
            ),
        )

    def _row(self, *graphs: tuple[str, Sequence[cloudwatch.IMetric]]) -> None:
        """Graphs side by side across the dashboard, each a line per function, table or machine."""
        width = 24 // len(graphs)
        self.dashboard.add_widgets(*(cloudwatch.GraphWidget(title=t, left=list(m), width=width) for t, m in graphs))


class Alarms(NestedStack):
    """Every alarm of the stage, in a nested stack of its own: alarms grow with every function,
    table and workflow, and CloudFormation refuses a stack of more than 500 resources. What they
    watch and the topic they notify are the parent's: CDK passes each as a parameter of this
    stack. No alarm is named (CloudFormation names them), so moving or replacing one never
    collides on a name."""

    def __init__(self, scope: Construct, construct_id: str, *, watched: Watched, topic: sns.ITopic) -> None:
        super().__init__(scope, construct_id, description="Prakerja alarms (nested in the stage's stack)")
        notify = actions.SnsAction(topic)
        self.alarms: list[cloudwatch.Alarm] = []

        def alarm(
            name: str,
            metric: cloudwatch.IMetric,
            threshold: float,
            *,
            description: str | None = None,
            comparison: cloudwatch.ComparisonOperator = AT_LEAST,
            missing: cloudwatch.TreatMissingData = cloudwatch.TreatMissingData.NOT_BREACHING,
        ) -> cloudwatch.Alarm:
            """Nothing reported means nothing broke (errors, throttles and failures are only
            reported when they happen), unless ``missing`` says otherwise."""
            created = cloudwatch.Alarm(
                self,
                name,
                metric=metric,
                threshold=threshold,
                evaluation_periods=1,
                comparison_operator=comparison,
                treat_missing_data=missing,
                alarm_description=description,
            )
            created.add_alarm_action(notify)
            self.alarms.append(created)
            return created

        api = watched.api
        alarm("Api5xx", api.metric_server_error(period=FIVE_MINUTES), 5)
        alarm("ApiLatencyP99", api.metric_latency(period=FIVE_MINUTES, statistic="p99"), 3000)
        for name, function in watched.functions.items():
            alarm(f"{name}Errors", function.metric_errors(period=FIVE_MINUTES), 1)
            alarm(f"{name}Throttles", function.metric_throttles(period=FIVE_MINUTES), 1)
        for name, table in watched.tables.items():
            alarm(
                f"{name}TableThrottles",
                _throttle_events(table, watched.table_indexes.get(name, ())),
                1,
                description=f"{name} table: requests refused for throughput (the table's or an index's)",
            )
        for name, machine in watched.state_machines.items():
            alarm(f"{name}Failed", machine.metric_failed(period=FIVE_MINUTES), 1)
            alarm(f"{name}TimedOut", machine.metric_timed_out(period=FIVE_MINUTES), 1)
        for name, queue in watched.dead_letter_queues.items():
            alarm(
                f"{name}DeadLetters",
                queue.metric_approximate_number_of_messages_visible(period=FIVE_MINUTES, statistic="Maximum"),
                1,
                description=f"{name}: records that failed every retry are parked in its dead-letter queue "
                "(docs/deploy.md: how to look at them and redrive).",
            )
        self.ledger_imbalance = alarm(
            "LedgerImbalance",
            program_metric(ProgramMetric.LEDGER_IMBALANCE, "Maximum", LEDGER_CHECK_WINDOW),
            0,
            comparison=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
            # Every payout run reports the imbalance, 0 included: no report in the window means the
            # runs, and with them the books' check and the payouts, stopped. That is an alarm too.
            missing=cloudwatch.TreatMissingData.BREACHING,
            description="The ledger's debits and credits differ (any rupiah), or no payout run checked them "
            "for 30 minutes (runs start every 15). GET /v1/ops/ledger shows the books.",
        )
        self.payouts_stuck = alarm(
            "PayoutsStuck",
            program_metric(ProgramMetric.PAYOUTS_STUCK, "Sum", HOUR),
            1,
            # Reported only when a run finds a stuck transfer; the runs themselves are watched by
            # the ledger alarm above.
            description="A transfer is still unconfirmed by its payment partner an hour after it was sent "
            "(no callback, and status queries say pending). python -m tools.ops payouts; docs/payouts.md.",
        )

        self.audit_write_failures = alarm(
            "AuditWriteFailures",
            program_metric(ProgramMetric.AUDIT_WRITE_FAILURES, "Sum", FIVE_MINUTES),
            1,
            description="An ops call changed something but its audit log entry could not be written. The "
            "API's access log has the call and its caller; docs/case-view.md says how to add the entry.",
        )
        self.complaints_overdue = alarm(
            "ComplaintsOverdue",
            program_metric(ProgramMetric.COMPLAINTS_OVERDUE, "Maximum", HOUR),
            load_program().grievances.overdue_alarm_at,
            # A count that stopped is the ComplaintMetrics workflow's Failed alarm, or its function's.
            description="Complaint tickets awaiting ops past their category's service level "
            "(program.json grievances). GET /v1/ops/complaints?overdue=true lists them; docs/grievances.md.",
        )


def program_metric(name: ProgramMetric, statistic: str, period: Duration) -> cloudwatch.Metric:
    """A number the handlers count (Powertools adds the ``service`` dimension to each)."""
    return cloudwatch.Metric(
        namespace=METRICS_NAMESPACE,
        metric_name=name.value,
        dimensions_map={"service": SERVICE_NAME},
        statistic=statistic,
        period=period,
    )


def by_dimension(name: ProgramMetric, dimension: str, period: Duration) -> cloudwatch.MathExpression:
    """One line per value of a code the metric is split by, whichever values have been seen."""
    schema = f"{{{METRICS_NAMESPACE},service,{dimension}}}"
    return cloudwatch.MathExpression(
        expression=f"SEARCH('{schema} MetricName=\"{name.value}\" service=\"{SERVICE_NAME}\"', 'Sum', "
        f"{int(period.to_seconds())})",
        using_metrics={},
        period=period,
        label=f"{name.value} ${{PROP('Dim.{dimension}')}}",  # a dynamic label: the line's code
    )


def _throttle_events(table: dynamodb.Table, indexes: Sequence[str]) -> cloudwatch.MathExpression:
    """Read and write throttle events of a table and of each of its indexes, added up. Each is
    reported only when it happens: FILL makes an absent one count 0 rather than blank the sum."""
    metrics: dict[str, cloudwatch.IMetric] = {}
    for kind in ("Read", "Write"):
        metrics[f"{kind.lower()}s"] = table.metric(f"{kind}ThrottleEvents", statistic="Sum", period=FIVE_MINUTES)
        for i, index in enumerate(indexes):
            metrics[f"{kind.lower()}s{i}"] = table.metric(
                f"{kind}ThrottleEvents",
                statistic="Sum",
                period=FIVE_MINUTES,
                dimensions_map={"TableName": table.table_name, "GlobalSecondaryIndexName": index},
            )
    return cloudwatch.MathExpression(
        expression=" + ".join(f"FILL({metric_id}, 0)" for metric_id in metrics),
        using_metrics=metrics,
        period=FIVE_MINUTES,
        label="throttle events",
    )


def _throttled_requests(name: str, table: dynamodb.Table) -> cloudwatch.MathExpression:
    """The table's throttled requests, every operation together."""
    search = (
        f'SEARCH(\'{{AWS/DynamoDB,Operation,TableName}} MetricName="ThrottledRequests" '
        f"TableName=\"{table.table_name}\"', 'Sum', {int(FIVE_MINUTES.to_seconds())})"
    )
    return cloudwatch.MathExpression(expression=f"SUM({search})", using_metrics={}, period=FIVE_MINUTES, label=name)


def _allow_this_accounts_alarms(topic: sns.Topic) -> iam.PolicyStatement:
    stack = Stack.of(topic)
    return iam.PolicyStatement(
        sid="CloudWatchAlarmsOfThisAccount",
        principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
        actions=["sns:Publish"],
        resources=[topic.topic_arn],
        conditions={
            "StringEquals": {"aws:SourceAccount": stack.account},
            "ArnLike": {
                "aws:SourceArn": stack.format_arn(
                    service="cloudwatch", resource="alarm", resource_name="*", arn_format=ArnFormat.COLON_RESOURCE_NAME
                )
            },
        },
    )


def _deny_insecure_transport(topic: sns.Topic) -> iam.PolicyStatement:
    return iam.PolicyStatement(
        effect=iam.Effect.DENY,
        principals=[iam.AnyPrincipal()],
        actions=["sns:Publish"],
        resources=[topic.topic_arn],
        conditions={"Bool": {"aws:SecureTransport": "false"}},
    )
