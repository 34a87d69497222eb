"""Complaint tickets: categories, statuses, who may move a ticket from which status to which.

A ticket's ``message`` and every update's ``message`` are what people typed: personal data
(names, NIKs, phone numbers end up in complaints). They are plaintext only in memory; the store
keeps them encrypted (adapters/dynamodb_grievances.py) and nothing logs them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic_core import PydanticCustomError

MESSAGE_MAX = 2000


class ComplaintCategory(StrEnum):
    REGISTRATION = "REGISTRATION"
    VERIFICATION = "VERIFICATION"
    SELECTION = "SELECTION"
    TRAINING = "TRAINING"
    PAYMENT = "PAYMENT"
    ACCOUNT = "ACCOUNT"
    OTHER = "OTHER"


class TicketStatus(StrEnum):
    OPEN = "OPEN"
    IN_PROGRESS = "IN_PROGRESS"
    WAITING_FOR_APPLICANT = "WAITING_FOR_APPLICANT"
    RESOLVED = "RESOLVED"
    CLOSED = "CLOSED"


class Author(StrEnum):
    APPLICANT = "APPLICANT"
    OPS = "OPS"


# The ops queue without a status filter: tickets not finished.
UNFINISHED = (TicketStatus.OPEN, TicketStatus.IN_PROGRESS, TicketStatus.WAITING_FOR_APPLICANT)
# Tickets whose next move is ops': the ones that can be overdue (a ticket waiting for the
# applicant is not late on ops' side).
AWAITING_OPS = (TicketStatus.OPEN, TicketStatus.IN_PROGRESS)

# The statuses ops may set (API.md), and from which status each may be set.
OPS_TRANSITIONS: dict[TicketStatus, frozenset[TicketStatus]] = {
    TicketStatus.OPEN: frozenset(
        {
            TicketStatus.IN_PROGRESS,
            TicketStatus.WAITING_FOR_APPLICANT,
            TicketStatus.RESOLVED,
            TicketStatus.CLOSED,
        }
    ),
    TicketStatus.IN_PROGRESS: frozenset(
        {
            TicketStatus.IN_PROGRESS,
            TicketStatus.WAITING_FOR_APPLICANT,
            TicketStatus.RESOLVED,
            TicketStatus.CLOSED,
        }
    ),
    TicketStatus.WAITING_FOR_APPLICANT: frozenset(
        {
            TicketStatus.IN_PROGRESS,
            TicketStatus.WAITING_FOR_APPLICANT,
            TicketStatus.RESOLVED,
            TicketStatus.CLOSED,
        }
    ),
    # Ops may take a resolved ticket up again, or close it for good.
    TicketStatus.RESOLVED: frozenset({TicketStatus.IN_PROGRESS, TicketStatus.CLOSED}),
    TicketStatus.CLOSED: frozenset(),
}

# What an applicant's reply does to the ticket's status (RESOLVED: only within the reopen
# window, prakerja.program GrievanceRules.reopen_days; CLOSED: never).
APPLICANT_REPLY: dict[TicketStatus, TicketStatus] = {
    TicketStatus.OPEN: TicketStatus.OPEN,
    TicketStatus.IN_PROGRESS: TicketStatus.IN_PROGRESS,
    TicketStatus.WAITING_FOR_APPLICANT: TicketStatus.IN_PROGRESS,  # the answer ops waited for
    TicketStatus.RESOLVED: TicketStatus.OPEN,  # reopened: back in the queue, its service level anew
}


Message = Field(min_length=1, max_length=MESSAGE_MAX)


class ComplaintRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    category: ComplaintCategory
    message: str = Message


class ReplyRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    message: str = Message


class OpsUpdateRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    status: TicketStatus = Field(description="IN_PROGRESS, WAITING_FOR_APPLICANT, RESOLVED or CLOSED")
    message: str = Message

    @field_validator("status")
    @classmethod
    def _ops_may_set(cls, status: TicketStatus) -> TicketStatus:
        if status is TicketStatus.OPEN:
            raise PydanticCustomError("STATUS_NOT_SETTABLE", "OPEN is set by filing or reopening, not by ops")
        return status


class QueueFilters(BaseModel):
    """The filters of ``GET /v1/ops/complaints``."""

    model_config = ConfigDict(frozen=True)

    status: TicketStatus | None = None
    category: ComplaintCategory | None = None
    overdue: bool = False


@dataclass(frozen=True)
class TicketUpdate:
    seq: int  # 1, 2, ... in the order they were written
    at: datetime
    by: Author
    status: TicketStatus  # the ticket's status after this update
    message: str


@dataclass(frozen=True)
class Ticket:
    ticket_id: str
    account_id: str  # the Cognito sub that filed it: the only applicant who may read it
    applicant_id: str | None  # the account's profile when it was filed, if any (notifications)
    category: ComplaintCategory
    status: TicketStatus
    message: str
    created_at: datetime
    # When it last entered the queue (filed, or reopened): the queue's order and due_by's start.
    queued_at: datetime
    due_by: datetime
    updated_at: datetime
    resolved_at: datetime | None = None
    updates: tuple[TicketUpdate, ...] = field(default=())

    @property
    def version(self) -> int:
        """How many updates it has: the store writes an update only onto the version it read."""
        return len(self.updates)


@dataclass(frozen=True)
class TicketSummary:
    """A ticket without its messages: a row of my list or of the ops queue."""

    ticket_id: str
    category: ComplaintCategory
    status: TicketStatus
    created_at: datetime
    due_by: datetime
    updated_at: datetime


@dataclass(frozen=True)
class QueueRow:
    summary: TicketSummary
    position: str  # its sort key in its queue partition (adapters/keys.py complaint_queue_position)
