"""The payout tally as CloudWatch metrics (Powertools, embedded metric format), published with
the invoking handler's other metrics."""

from __future__ import annotations

from aws_lambda_powertools.metrics import MetricUnit, single_metric

from prakerja.metrics import FAILURE_CODE, ProgramMetric
from prakerja.observability import metrics
from prakerja.payouts.models import PayoutRecord, PayoutStatus


class PayoutMetrics:
    def settled(self, payout: PayoutRecord) -> None:
        if payout.status == PayoutStatus.PAID:
            metrics.add_metric(name=ProgramMetric.PAYOUTS_PAID, unit=MetricUnit.Count, value=1)
        elif payout.status == PayoutStatus.FAILED and payout.failure_code is not None:
            metrics.add_metric(name=ProgramMetric.PAYOUTS_FAILED, unit=MetricUnit.Count, value=1)
            # By code as well, in a metric of its own: a dimension added to the shared set would
            # split every other metric of the invocation by it. The codes are a fixed enum.
            with single_metric(
                name=ProgramMetric.PAYOUTS_FAILED, unit=MetricUnit.Count, value=1, namespace=metrics.namespace
            ) as by_code:
                by_code.add_dimension(name=FAILURE_CODE, value=str(payout.failure_code))

    def stuck(self, payout: PayoutRecord) -> None:
        metrics.add_metric(name=ProgramMetric.PAYOUTS_STUCK, unit=MetricUnit.Count, value=1)
