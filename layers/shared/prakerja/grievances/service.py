"""Filing, reading, answering and queueing complaint tickets (API.md, "Grievances"; design in
docs/grievances.md). Who may move a ticket to which status is in models.py."""

from __future__ import annotations

import base64
import binascii
import heapq
import json
import re
import uuid
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta

from prakerja.audit.models import AuditEntry
from prakerja.clock import Clock
from prakerja.errors import Conflict, NotFound, ValidationFailed
from prakerja.grievances.models import (
    APPLICANT_REPLY,
    AWAITING_OPS,
    OPS_TRANSITIONS,
    UNFINISHED,
    Author,
    ComplaintCategory,
    ComplaintRequest,
    OpsUpdateRequest,
    QueueFilters,
    QueueRow,
    Ticket,
    TicketStatus,
    TicketSummary,
    TicketUpdate,
)
from prakerja.grievances.ports import TicketStore
from prakerja.program import GrievanceRules

ANSWERED = "COMPLAINT_ANSWERED"  # the audit log's action of an ops answer
TICKET_ID = re.compile(r"^tkt-[0-9a-f]{32}$")
# A queue position as adapters/keys.py complaint_queue_position writes it.
_POSITION = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z#tkt-[0-9a-f]{32}$")


def new_ticket_id() -> str:
    return f"tkt-{uuid.uuid4().hex}"


class TicketNotFound(NotFound):
    def __init__(self) -> None:
        super().__init__("TICKET_NOT_FOUND", "No such ticket.")


class TicketClosed(Conflict):
    def __init__(self) -> None:
        super().__init__("TICKET_CLOSED", "This ticket is closed; file a new complaint.")


class ReopenExpired(Conflict):
    def __init__(self, days: int) -> None:
        super().__init__(
            "TICKET_REOPEN_EXPIRED", f"This ticket was resolved over {days} days ago; file a new complaint."
        )


class StatusNotAllowed(Conflict):
    def __init__(self, current: TicketStatus, wanted: TicketStatus) -> None:
        super().__init__("TICKET_STATUS_NOT_ALLOWED", f"A {current} ticket cannot be set to {wanted}.")


def summary(ticket: Ticket) -> TicketSummary:
    return TicketSummary(
        ticket_id=ticket.ticket_id,
        category=ticket.category,
        status=ticket.status,
        created_at=ticket.created_at,
        due_by=ticket.due_by,
        updated_at=ticket.updated_at,
    )


class GrievanceService:
    def __init__(
        self,
        tickets: TicketStore,
        rules: GrievanceRules,
        clock: Clock,
        new_id: Callable[[], str] = new_ticket_id,
    ) -> None:
        self._tickets = tickets
        self._rules = rules
        self._clock = clock
        self._new_id = new_id

    # -- applicants ----------------------------------------------------------------------------
    def file(self, account_id: str, applicant_id: str | None, request: ComplaintRequest) -> Ticket:
        now = self._clock.now()
        ticket = Ticket(
            ticket_id=self._new_id(),
            account_id=account_id,
            applicant_id=applicant_id,
            category=request.category,
            status=TicketStatus.OPEN,
            message=request.message,
            created_at=now,
            queued_at=now,
            due_by=now + self._rules.service_level(request.category),
            updated_at=now,
        )
        self._tickets.create(ticket)
        return ticket

    def mine(self, account_id: str, limit: int, next_token: str | None) -> tuple[list[TicketSummary], str | None]:
        return self._tickets.mine(account_id, limit, next_token)

    def my_ticket(self, account_id: str, ticket_id: str) -> Ticket:
        """Someone else's ticket is not found, exactly like one that does not exist."""
        ticket = self._find(ticket_id)
        if ticket.account_id != account_id:
            raise TicketNotFound
        return ticket

    def reply(self, account_id: str, ticket_id: str, message: str) -> Ticket:
        ticket = self.my_ticket(account_id, ticket_id)
        now = self._clock.now()
        if ticket.status is TicketStatus.CLOSED:
            raise TicketClosed
        resolved = ticket.resolved_at if ticket.status is TicketStatus.RESOLVED else None
        if resolved is not None and now > resolved + timedelta(days=self._rules.reopen_days):
            raise ReopenExpired(self._rules.reopen_days)
        status = APPLICANT_REPLY[ticket.status]
        return self._update(ticket, Author.APPLICANT, status, message, now, audit=None)

    # -- ops -----------------------------------------------------------------------------------
    def ticket(self, ticket_id: str) -> Ticket:
        return self._find(ticket_id)

    def answer(self, ticket_id: str, request: OpsUpdateRequest, *, actor: str, request_id: str) -> Ticket:
        ticket = self._find(ticket_id)
        if ticket.status is TicketStatus.CLOSED:
            raise TicketClosed
        if request.status not in OPS_TRANSITIONS[ticket.status]:
            raise StatusNotAllowed(ticket.status, request.status)
        now = self._clock.now()
        audit = AuditEntry(
            at=now, actor=actor, action=ANSWERED, target=ticket_id, reason=request.status, request_id=request_id
        )
        return self._update(ticket, Author.OPS, request.status, request.message, now, audit=audit)

    def queue(
        self, filters: QueueFilters, limit: int, next_token: str | None
    ) -> tuple[list[TicketSummary], str | None]:
        """The queue, oldest first (by the time each ticket entered it): every (status, category)
        partition the filters select read from the cursor on, ``limit`` rows each at most, merged;
        the next token is the last row's position. Overdue: queued before now minus the
        category's service level, per category, in the key condition itself."""
        after = _decode(next_token, filters) if next_token else None
        statuses = [filters.status] if filters.status else list(AWAITING_OPS if filters.overdue else UNFINISHED)
        categories = [filters.category] if filters.category else list(ComplaintCategory)
        now = self._clock.now()
        rows: list[QueueRow] = []
        more = False
        for category in categories:
            before = now - self._rules.service_level(category) if filters.overdue else None
            for status in statuses:
                found, has_more = self._tickets.queue_partition(status, category, after, before, limit)
                rows.extend(found)
                more = more or has_more
        page = heapq.nsmallest(limit, rows, key=lambda row: row.position)
        more = more or len(rows) > limit
        token = _encode(page[-1].position, filters) if more and page else None
        return [row.summary for row in page], token

    def overdue_counts(self) -> dict[ComplaintCategory, int]:
        """Per category, the tickets awaiting ops past their service level."""
        now = self._clock.now()
        return {
            category: sum(
                self._tickets.count_queued_before(status, category, now - self._rules.service_level(category))
                for status in AWAITING_OPS
            )
            for category in ComplaintCategory
        }

    # -- both ----------------------------------------------------------------------------------
    def _find(self, ticket_id: str) -> Ticket:
        ticket = self._tickets.get(ticket_id) if TICKET_ID.match(ticket_id) else None
        if ticket is None:
            raise TicketNotFound
        return ticket

    def _update(
        self,
        ticket: Ticket,
        by: Author,
        status: TicketStatus,
        message: str,
        now: datetime,
        *,
        audit: AuditEntry | None,
    ) -> Ticket:
        update = TicketUpdate(seq=ticket.version + 1, at=now, by=by, status=status, message=message)
        after = replace(ticket, status=status, updated_at=now, updates=(*ticket.updates, update))
        if status is TicketStatus.RESOLVED:
            after = replace(after, resolved_at=now)
        if ticket.status is TicketStatus.RESOLVED and status is TicketStatus.OPEN:
            # Reopened by the applicant: back in the queue with its service level from now.
            after = replace(
                after, queued_at=now, due_by=now + self._rules.service_level(ticket.category), resolved_at=None
            )
        self._tickets.append(ticket, after, update, audit=audit, notify=by is Author.OPS)
        return after


def _fingerprint(filters: QueueFilters) -> str:
    return f"{filters.status or '*'}|{filters.category or '*'}|{int(filters.overdue)}"


def _encode(position: str, filters: QueueFilters) -> str:
    raw = json.dumps({"after": position, "q": _fingerprint(filters)}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode()


def _decode(token: str, filters: QueueFilters) -> str:
    """The position back, refused (422) unless it is one issued for these filters."""
    try:
        decoded = json.loads(base64.urlsafe_b64decode(token.encode()))
        if not isinstance(decoded, dict) or set(decoded) != {"after", "q"} or decoded["q"] != _fingerprint(filters):
            raise ValueError("not a token of this queue")
        position = decoded["after"]
        if not isinstance(position, str) or not _POSITION.match(position):
            raise ValueError("not a queue position")
        return position
    except (ValueError, UnicodeDecodeError, binascii.Error) as error:
        raise ValidationFailed("NEXT_TOKEN_INVALID", "next_token is not one this API issued.") from error
