"""The program's numbers, by the names they have in CloudWatch (namespace ``Prakerja``).

The handlers emit them under these names and the stack's dashboard and alarms read them under
the same ones (infra imports this module, which must stay free of dependencies): a renamed
metric cannot leave a graph or an alarm silently reading nothing. Every metric the code emits
is named here, none by a string at the call (tests/unit/test_metric_names.py). Dimensions are
codes with a handful of values, never anything about a person.
"""

from __future__ import annotations

from enum import StrEnum


class ProgramMetric(StrEnum):
    REGISTRATIONS = "Registrations"
    IDENTITY_CHECKS = "IdentityChecks"  # by VERDICT: MATCH, NOT_FOUND, MISMATCH
    VERIFICATION_DECISIONS = "VerificationDecisions"  # by DECISION: VERIFIED, REJECTED
    WAVE_JOINS = "WaveJoins"
    SELECTIONS = "Selections"
    PURCHASES = "Purchases"
    COURSES_COMPLETED = "CoursesCompleted"
    PAYOUTS_PAID = "PayoutsPaid"
    # Each transfer recorded FAILED, in total and by FAILURE_CODE (prakerja.payouts.models.FailureCode).
    PAYOUTS_FAILED = "PayoutsFailed"
    # A transfer a later payout run finds still unconfirmed (prakerja.payouts.service.RECHECK_PROCESSING_AFTER).
    PAYOUTS_STUCK = "PayoutsStuck"
    # |debits - credits| of the whole ledger, each time it is checked: 0 when the books balance.
    LEDGER_IMBALANCE = "LedgerImbalanceRupiah"
    # An ops call whose change was made but whose audit log entry could not be written (ops_api/audit.py).
    AUDIT_WRITE_FAILURES = "AuditWriteFailures"
    COMPLAINTS_FILED = "ComplaintsFiled"
    COMPLAINTS_ANSWERED = "ComplaintsAnswered"
    # Tickets awaiting ops past their category's service level, counted every 10 minutes
    # (functions/complaint_metrics), in total and by CATEGORY.
    COMPLAINTS_OVERDUE = "ComplaintsOverdue"


class OperationalMetric(StrEnum):
    """Counters of one handler or step each, for looking into it. No graph or alarm of the stack
    reads them today, but a query or a saved view may: their names are as stable as the program's."""

    # The applicant API.
    ASSESSMENTS_PASSED = "AssessmentsPassed"
    ASSESSMENTS_FAILED = "AssessmentsFailed"
    PAYOUT_ACCOUNTS_PENDING = "PayoutAccountsPending"  # linked, by PAYOUT_ACCOUNTS_LINKED
    PAYOUT_ACCOUNTS_VALID = "PayoutAccountsValid"
    PAYOUT_ACCOUNTS_INVALID = "PayoutAccountsInvalid"
    SURVEY_RESPONSES = "SurveyResponses"
    PURCHASE_RUPIAH = "PurchaseRupiah"  # the price of each purchase
    REVIEWS = "Reviews"
    INCENTIVES_GRANTED = "IncentivesGranted"
    PROFILE_CORRECTIONS = "ProfileCorrections"  # profiles corrected and checked again
    # The partner API.
    VOUCHERS_REDEEMED = "VouchersRedeemed"
    PAYMENT_CALLBACKS = "PaymentCallbacks"
    # The ops API.
    EXCLUSIONS_IMPORTED = "ExclusionsImported"
    EXCLUSIONS_REMOVED = "ExclusionsRemoved"
    WAVES_CLOSED = "WavesClosed"
    OPS_ACTIONS_REQUESTED = "OpsActionsRequested"
    OPS_ACTIONS_APPROVED = "OpsActionsApproved"
    # The selection workflow, per shard.
    SELECTION_PARTICIPANTS_SNAPSHOT = "SelectionParticipantsSnapshot"
    SELECTION_OUTCOMES_WRITTEN = "SelectionOutcomesWritten"
    # The card deadline sweep, per page of a shard.
    CARDS_REVOKED = "CardsRevoked"
    # The payout runs and the settlement reconciliation.
    PAYOUTS_COLLECTED = "PayoutsCollected"
    TRANSFERS_SENT = "TransfersSent"
    SETTLEMENT_DISCREPANCIES = "SettlementDiscrepancies"
    # The notifier.
    NOTIFICATIONS_SENT = "NotificationsSent"
    NOTIFICATIONS_CLAIM_HELD = "NotificationsClaimHeld"  # another delivery of the message holds it


# A payout account linked, counted by the status it was left in (prakerja.payouts.models.AccountStatus).
PAYOUT_ACCOUNTS_LINKED = {
    "PENDING": OperationalMetric.PAYOUT_ACCOUNTS_PENDING,
    "VALID": OperationalMetric.PAYOUT_ACCOUNTS_VALID,
    "INVALID": OperationalMetric.PAYOUT_ACCOUNTS_INVALID,
}

# Dimension names.
VERDICT = "verdict"
DECISION = "status"
FAILURE_CODE = "failure_code"
CATEGORY = "category"

# The applicant journey, stage by stage, as the dashboard shows it.
FUNNEL = (
    ProgramMetric.REGISTRATIONS,
    ProgramMetric.VERIFICATION_DECISIONS,
    ProgramMetric.WAVE_JOINS,
    ProgramMetric.SELECTIONS,
    ProgramMetric.PURCHASES,
    ProgramMetric.COURSES_COMPLETED,
    ProgramMetric.PAYOUTS_PAID,
    ProgramMetric.PAYOUTS_FAILED,
)
