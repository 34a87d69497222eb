"""What the grievance service needs from the outside world."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from prakerja.audit.models import AuditEntry
from prakerja.errors import Conflict
from prakerja.grievances.models import ComplaintCategory, QueueRow, Ticket, TicketStatus, TicketSummary, TicketUpdate


class TicketChanged(Conflict):
    """Another update was written onto the ticket since it was read."""

    def __init__(self) -> None:
        super().__init__("TICKET_CHANGED", "The ticket changed while this update was made; read it and try again.")


class TicketStore(Protocol):
    def create(self, ticket: Ticket) -> None:
        """Stores a new ticket and its place in its account's list, atomically."""

    def get(self, ticket_id: str) -> Ticket | None:
        """The whole ticket with every update, or None."""

    def mine(self, account_id: str, limit: int, next_token: str | None) -> tuple[list[TicketSummary], str | None]:
        """The account's tickets, newest first, a page at a time."""

    def append(
        self, before: Ticket, after: Ticket, update: TicketUpdate, *, audit: AuditEntry | None, notify: bool
    ) -> None:
        """Writes ``update`` and the ticket's new state ``after`` onto ``before`` (TicketChanged if
        another update came first), with the audit entry and the applicant's notification, if
        any, in the same transaction."""

    def queue_partition(
        self, status: TicketStatus, category: ComplaintCategory, after: str | None, before: datetime | None, limit: int
    ) -> tuple[list[QueueRow], bool]:
        """Up to ``limit`` rows of one (status, category) queue, oldest first, positioned after
        ``after`` and queued before ``before``; True if there may be more."""

    def count_queued_before(self, status: TicketStatus, category: ComplaintCategory, before: datetime) -> int:
        """How many tickets of one (status, category) queue were queued before ``before``."""
