"""The program's numbers, by the names they have in CloudWatch (namespace ``Prakerja``).

The handlers emit them under these names and the stack's dashboard and alarms read them under
the same ones (infra imports this module, which must stay free of dependencies): a renamed
metric cannot leave a graph or an alarm silently reading nothing. Dimensions are codes with a
handful of values, never anything about a person.
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


# Dimension names.
VERDICT = "verdict"
DECISION = "status"
FAILURE_CODE = "failure_code"

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
