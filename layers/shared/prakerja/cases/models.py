"""Ops actions on an applicant (API.md, "Ops": ``POST /v1/ops/applicants/{applicant_id}/actions``).

An action is asked for by one ops user with a reason. The actions named in the programme's
``cases.second_person_required`` (program.json) wait as PENDING_APPROVAL until a second ops user
approves (then they run: EXECUTED) or someone rejects them (REJECTED); one that no longer
applies when it is approved (the card was revoked meanwhile, say) ends LAPSED with the code
that says why. The others run when asked for and are stored EXECUTED. A decided action never
changes again::

    (asked) --needs a second person--> PENDING_APPROVAL --approve--> EXECUTED
            |                                  |--------reject---> REJECTED
            |                                  '---no longer applies--> LAPSED
            '--runs at once--> EXECUTED
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, StringConstraints

from prakerja.audit.models import REASON_MAX
from prakerja.errors import Conflict, Forbidden, NotFound
from prakerja.program import load_program


class ActionKind(StrEnum):
    REVERIFY = "REVERIFY"  # the registration checks again, on the current profile
    REVOKE_CARD = "REVOKE_CARD"  # the card revoked, its unused balance back to the treasury
    LIFT_BLACKLIST = "LIFT_BLACKLIST"  # the NIK off the internal BLACKLIST list
    HOLD_PAYOUTS = "HOLD_PAYOUTS"  # payout runs skip this applicant's due payouts...
    RELEASE_PAYOUTS = "RELEASE_PAYOUTS"  # ...until released


class ActionStatus(StrEnum):
    PENDING_APPROVAL = "PENDING_APPROVAL"
    EXECUTED = "EXECUTED"
    REJECTED = "REJECTED"
    LAPSED = "LAPSED"


Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=REASON_MAX)]


def needs_second_person(kind: ActionKind) -> bool:
    """Whether ``kind`` waits for a second ops user (programme data, program.json)."""
    return str(kind) in load_program().cases.second_person_required


class ActionRequest(BaseModel):
    """``{action, reason}``: the reason is what the ops user typed (no personal data in it:
    it goes into the audit log)."""

    model_config = ConfigDict(extra="forbid")

    action: ActionKind
    reason: Reason


class ApprovalRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: Reason | None = None


class RejectionRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: Reason


class Action(BaseModel):
    """One action on one applicant; ``decided_*`` once approved, rejected or lapsed."""

    model_config = ConfigDict(frozen=True)

    action_id: str
    applicant_id: str
    kind: ActionKind
    status: ActionStatus
    reason: str
    requested_by: str
    requested_at: datetime
    decided_by: str | None = None
    decided_at: datetime | None = None
    decision_reason: str | None = None
    lapsed_code: str | None = None  # why a LAPSED action no longer applied

    @property
    def decided(self) -> bool:
        return self.status is not ActionStatus.PENDING_APPROVAL

    def approve(self, by: str, at: datetime, reason: str | None) -> Action:
        """EXECUTED by ``by``: never its requester, never once decided."""
        self._check_open()
        if by == self.requested_by:
            raise SelfApproval()
        return self.model_copy(
            update={"status": ActionStatus.EXECUTED, "decided_by": by, "decided_at": at, "decision_reason": reason}
        )

    def reject(self, by: str, at: datetime, reason: str) -> Action:
        """REJECTED by ``by`` (its requester may withdraw it: that lets nothing through)."""
        self._check_open()
        return self.model_copy(
            update={"status": ActionStatus.REJECTED, "decided_by": by, "decided_at": at, "decision_reason": reason}
        )

    def lapse(self, by: str, at: datetime, code: str) -> Action:
        """LAPSED when approved by ``by`` but no longer applying (``code`` says why)."""
        self._check_open()
        return self.model_copy(
            update={"status": ActionStatus.LAPSED, "decided_by": by, "decided_at": at, "lapsed_code": code}
        )

    def _check_open(self) -> None:
        if self.decided:
            raise ActionAlreadyDecided(self.status)


class SelfApproval(Forbidden):
    def __init__(self) -> None:
        super().__init__("SELF_APPROVAL", "An action needs a second ops user: its requester cannot approve it.")


class ActionAlreadyDecided(Conflict):
    def __init__(self, status: ActionStatus) -> None:
        super().__init__("ACTION_ALREADY_DECIDED", f"This action was decided already: it is {status}.")


class ActionNotFound(NotFound):
    def __init__(self) -> None:
        super().__init__("ACTION_NOT_FOUND", "There is no such action.")


class ApplicantNotFound(NotFound):
    def __init__(self) -> None:
        super().__init__("APPLICANT_NOT_FOUND", "There is no such applicant.")


class ActionNotApplicable(Conflict):
    """The action does not apply to the applicant as they are now (checked when it is asked for
    and again when it runs)."""


class NoActiveCard(ActionNotApplicable):
    def __init__(self) -> None:
        super().__init__("NO_ACTIVE_CARD", "The applicant holds no card that could be revoked.")


class NotBlacklisted(ActionNotApplicable):
    def __init__(self) -> None:
        super().__init__("NOT_BLACKLISTED", "The applicant's NIK is not on the blacklist.")


class PayoutsAlreadyHeld(ActionNotApplicable):
    def __init__(self) -> None:
        super().__init__("PAYOUTS_ALREADY_HELD", "The applicant's payouts are held already.")


class PayoutsNotHeld(ActionNotApplicable):
    def __init__(self) -> None:
        super().__init__("PAYOUTS_NOT_HELD", "The applicant's payouts are not held.")
