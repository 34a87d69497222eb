"""The complaint ticket's life (prakerja.grievances) with fakes: who may set which status from
which, reopening within the window, nobody reads another's ticket, the queue's order, filters,
pages and overdue cut per category's service level."""

from __future__ import annotations

import itertools
from dataclasses import replace
from datetime import timedelta

import pytest
from pydantic import ValidationError

from prakerja.errors import Conflict, NotFound, ValidationFailed
from prakerja.grievances.models import (
    OPS_TRANSITIONS,
    Author,
    ComplaintCategory,
    ComplaintRequest,
    OpsUpdateRequest,
    QueueFilters,
    TicketStatus,
)
from prakerja.grievances.service import ANSWERED, GrievanceService
from prakerja.program import load_program
from tests.fakes import FakeTickets, FixedClock

RULES = load_program().grievances
_ids = itertools.count(1)


def new_id() -> str:
    return f"tkt-{next(_ids):032x}"


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock()


@pytest.fixture
def store() -> FakeTickets:
    return FakeTickets()


@pytest.fixture
def service(store: FakeTickets, clock: FixedClock) -> GrievanceService:
    return GrievanceService(store, RULES, clock, new_id=new_id)


def file(
    service: GrievanceService, category: ComplaintCategory = ComplaintCategory.PAYMENT, account: str = "sub-a"
) -> str:
    return service.file(account, "app-a", ComplaintRequest(category=category, message="Dana belum masuk")).ticket_id


def answer(service: GrievanceService, ticket_id: str, status: TicketStatus, message: str = "Kami cek") -> None:
    service.answer(ticket_id, OpsUpdateRequest(status=status, message=message), actor="ops-1", request_id="req-1")


def test_a_ticket_is_open_and_due_after_its_categorys_service_level(
    service: GrievanceService, clock: FixedClock
) -> None:
    ticket = service.file(
        "sub-a", None, ComplaintRequest(category=ComplaintCategory.ACCOUNT, message="Tidak bisa masuk")
    )
    assert ticket.status is TicketStatus.OPEN
    assert ticket.due_by == clock.now() + timedelta(hours=RULES.service_levels_hours[ComplaintCategory.ACCOUNT])
    assert ticket.applicant_id is None  # an account without a profile may complain


def test_program_json_gives_every_category_a_service_level() -> None:
    assert set(RULES.service_levels_hours) == set(ComplaintCategory)
    assert RULES.reopen_days == 14


def test_someone_elses_ticket_is_not_found(service: GrievanceService) -> None:
    ticket_id = file(service, account="sub-a")
    assert service.my_ticket("sub-a", ticket_id).ticket_id == ticket_id
    with pytest.raises(NotFound) as error:
        service.my_ticket("sub-b", ticket_id)
    assert error.value.code == "TICKET_NOT_FOUND"
    with pytest.raises(NotFound):
        service.reply("sub-b", ticket_id, "bukan tiket saya")
    with pytest.raises(NotFound):
        service.my_ticket("sub-a", "../TICKET#x")  # not an id: never reaches the store


def test_ops_answer_is_audited_and_notified_in_its_write(service: GrievanceService, store: FakeTickets) -> None:
    ticket_id = file(service)
    answer(service, ticket_id, TicketStatus.WAITING_FOR_APPLICANT, "Kirim nomor rekening")
    ticket = service.my_ticket("sub-a", ticket_id)
    assert ticket.status is TicketStatus.WAITING_FOR_APPLICANT
    (update,) = ticket.updates
    assert (update.by, update.status, update.message) == (Author.OPS, ticket.status, "Kirim nomor rekening")
    (entry,) = store.audit
    assert (entry.action, entry.target, entry.actor, entry.reason) == (
        ANSWERED,
        ticket_id,
        "ops-1",
        "WAITING_FOR_APPLICANT",
    )
    assert store.notified == [("app-a", ticket_id)]


def test_the_applicants_reply_hands_a_waiting_ticket_back_to_ops(service: GrievanceService, store: FakeTickets) -> None:
    ticket_id = file(service)
    answer(service, ticket_id, TicketStatus.WAITING_FOR_APPLICANT)
    ticket = service.reply("sub-a", ticket_id, "Sudah saya kirim")
    assert ticket.status is TicketStatus.IN_PROGRESS
    assert [u.by for u in ticket.updates] == [Author.OPS, Author.APPLICANT]
    assert len(store.notified) == 1  # the applicant is not texted about their own reply
    assert len(store.audit) == 1


def test_a_reply_reopens_a_resolved_ticket_within_the_window_with_a_new_due_by(
    service: GrievanceService, clock: FixedClock
) -> None:
    ticket_id = file(service)
    answer(service, ticket_id, TicketStatus.RESOLVED)
    clock.advance(days=RULES.reopen_days - 1)
    reopened = service.reply("sub-a", ticket_id, "Masih belum masuk")
    assert reopened.status is TicketStatus.OPEN
    assert reopened.queued_at == clock.now()
    assert reopened.due_by == clock.now() + RULES.service_level(ComplaintCategory.PAYMENT)
    assert reopened.resolved_at is None


def test_a_resolved_ticket_past_the_window_cannot_be_reopened(service: GrievanceService, clock: FixedClock) -> None:
    ticket_id = file(service)
    answer(service, ticket_id, TicketStatus.RESOLVED)
    clock.advance(days=RULES.reopen_days, seconds=1)
    with pytest.raises(Conflict) as error:
        service.reply("sub-a", ticket_id, "Masih belum masuk")
    assert error.value.code == "TICKET_REOPEN_EXPIRED"


def test_a_closed_ticket_takes_no_reply_and_no_answer(service: GrievanceService) -> None:
    ticket_id = file(service)
    answer(service, ticket_id, TicketStatus.CLOSED)
    with pytest.raises(Conflict) as error:
        service.reply("sub-a", ticket_id, "Halo?")
    assert error.value.code == "TICKET_CLOSED"
    with pytest.raises(Conflict):
        answer(service, ticket_id, TicketStatus.IN_PROGRESS)


@pytest.mark.parametrize("current", list(TicketStatus))
@pytest.mark.parametrize("wanted", [s for s in TicketStatus if s is not TicketStatus.OPEN])
def test_ops_transitions_follow_the_table(
    service: GrievanceService, store: FakeTickets, current: TicketStatus, wanted: TicketStatus
) -> None:
    ticket_id = file(service)
    store.tickets[ticket_id] = replace(store.tickets[ticket_id], status=current)
    if wanted in OPS_TRANSITIONS[current]:
        answer(service, ticket_id, wanted)
        assert store.tickets[ticket_id].status is wanted
    else:
        with pytest.raises(Conflict):
            answer(service, ticket_id, wanted)
        assert store.tickets[ticket_id].status is current


def test_ops_never_set_open() -> None:
    with pytest.raises(ValidationError, match="STATUS_NOT_SETTABLE"):
        OpsUpdateRequest(status=TicketStatus.OPEN, message="x")


@pytest.mark.parametrize("message", ["", "x" * 2001])
def test_message_is_1_to_2000_characters(message: str) -> None:
    with pytest.raises(ValidationError):
        ComplaintRequest(category=ComplaintCategory.OTHER, message=message)
    assert ComplaintRequest(category=ComplaintCategory.OTHER, message="x" * 2000)


def test_an_update_onto_a_stale_read_is_refused(service: GrievanceService, store: FakeTickets) -> None:
    ticket_id = file(service)
    stale = store.tickets[ticket_id]
    answer(service, ticket_id, TicketStatus.IN_PROGRESS)
    store.get = lambda _id: stale  # type: ignore[method-assign,assignment]  # read before that answer was written
    with pytest.raises(Conflict) as error:
        answer(service, ticket_id, TicketStatus.RESOLVED)
    assert error.value.code == "TICKET_CHANGED"


def test_the_queue_is_oldest_first_across_categories_a_page_at_a_time(
    service: GrievanceService, clock: FixedClock
) -> None:
    filed = []
    for i in range(7):
        filed.append(file(service, category=list(ComplaintCategory)[i % 3]))
        clock.advance(minutes=1)
    answer(service, filed[1], TicketStatus.WAITING_FOR_APPLICANT)  # still unfinished: stays in the queue
    answer(service, filed[2], TicketStatus.RESOLVED)  # finished: leaves it
    seen: list[str] = []
    token = None
    while True:
        page, token = service.queue(QueueFilters(), 2, token)
        assert len(page) <= 2
        seen += [t.ticket_id for t in page]
        if token is None:
            break
    assert seen == [t for t in filed if t != filed[2]]


def test_the_queue_filters_by_status_and_category(service: GrievanceService, clock: FixedClock) -> None:
    payment, account = file(service, ComplaintCategory.PAYMENT), file(service, ComplaintCategory.ACCOUNT)
    answer(service, account, TicketStatus.RESOLVED)
    assert [t.ticket_id for t in service.queue(QueueFilters(category=ComplaintCategory.PAYMENT), 50, None)[0]] == [
        payment
    ]
    resolved, _ = service.queue(QueueFilters(status=TicketStatus.RESOLVED), 50, None)
    assert [t.ticket_id for t in resolved] == [account]


def test_overdue_is_cut_per_categorys_service_level(service: GrievanceService, clock: FixedClock) -> None:
    account, payment = (
        file(service, ComplaintCategory.ACCOUNT),
        file(service, ComplaintCategory.PAYMENT),
    )  # 24 h and 48 h
    waiting = file(service, ComplaintCategory.ACCOUNT)
    answer(service, waiting, TicketStatus.WAITING_FOR_APPLICANT)
    clock.advance(hours=24, seconds=1)
    overdue, _ = service.queue(QueueFilters(overdue=True), 50, None)
    assert [t.ticket_id for t in overdue] == [account]  # not PAYMENT yet; not one waiting for the applicant
    assert service.overdue_counts()[ComplaintCategory.ACCOUNT] == 1
    clock.advance(hours=24)
    overdue, _ = service.queue(QueueFilters(overdue=True), 50, None)
    assert [t.ticket_id for t in overdue] == [account, payment]
    assert sum(service.overdue_counts().values()) == 2


def test_a_page_reads_one_partition_per_selected_status_and_category(
    service: GrievanceService, store: FakeTickets
) -> None:
    service.queue(QueueFilters(), 50, None)
    assert store.partition_reads == 3 * len(ComplaintCategory)  # OPEN, IN_PROGRESS, WAITING_FOR_APPLICANT
    service.queue(QueueFilters(category=ComplaintCategory.PAYMENT, status=TicketStatus.OPEN), 50, None)
    assert store.partition_reads == 3 * len(ComplaintCategory) + 1


@pytest.mark.parametrize("token", ["nope", "e30=", "eyJhZnRlciI6IngiLCJxIjoiKnwqfDAifQ=="])
def test_a_token_not_issued_for_the_queue_is_refused(service: GrievanceService, token: str) -> None:
    with pytest.raises(ValidationFailed) as error:
        service.queue(QueueFilters(), 50, token)
    assert error.value.code == "NEXT_TOKEN_INVALID"


def test_a_token_of_other_filters_is_refused(service: GrievanceService, clock: FixedClock) -> None:
    for _ in range(3):
        file(service)
        clock.advance(seconds=1)
    _, token = service.queue(QueueFilters(), 1, None)
    assert token
    with pytest.raises(ValidationFailed):
        service.queue(QueueFilters(category=ComplaintCategory.PAYMENT), 1, token)
