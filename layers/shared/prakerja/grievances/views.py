"""A ticket as the API answers it (API.md, "Grievances"), to its applicant and to ops alike."""

from __future__ import annotations

from pydantic import BaseModel

from prakerja.clock import iso
from prakerja.grievances.models import Ticket, TicketSummary


class TicketUpdateView(BaseModel):
    at: str
    by: str  # APPLICANT or OPS
    status: str
    message: str


class TicketView(BaseModel):
    ticket_id: str
    category: str
    status: str
    message: str
    created_at: str
    due_by: str
    updated_at: str
    updates: list[TicketUpdateView]

    @classmethod
    def of(cls, ticket: Ticket) -> TicketView:
        return cls(
            ticket_id=ticket.ticket_id,
            category=ticket.category,
            status=ticket.status,
            message=ticket.message,
            created_at=iso(ticket.created_at),
            due_by=iso(ticket.due_by),
            updated_at=iso(ticket.updated_at),
            updates=[
                TicketUpdateView(at=iso(u.at), by=u.by, status=u.status, message=u.message) for u in ticket.updates
            ],
        )


class TicketSummaryView(BaseModel):
    ticket_id: str
    category: str
    status: str
    created_at: str
    due_by: str
    updated_at: str

    @classmethod
    def of(cls, ticket: TicketSummary) -> TicketSummaryView:
        return cls(
            ticket_id=ticket.ticket_id,
            category=ticket.category,
            status=ticket.status,
            created_at=iso(ticket.created_at),
            due_by=iso(ticket.due_by),
            updated_at=iso(ticket.updated_at),
        )


class TicketList(BaseModel):
    items: list[TicketSummaryView]
    next_token: str | None = None
