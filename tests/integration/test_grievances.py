"""Complaint tickets on moto, from the synthesized cases table and its ComplaintQueue index: the
queue's partitions and order, pages that cover every ticket once, overdue cut in the key
condition, messages encrypted at rest and bound to their ticket, an answer written with its
audit entry and notice in one transaction, and the DynamoDB requests a complaint costs."""

from __future__ import annotations

import itertools
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from localcloud.provision import Resources
from prakerja.adapters.dynamodb_audit import DynamoDBAuditLog
from prakerja.adapters.dynamodb_grievances import QUEUE_INDEX, DynamoDBTickets, TicketVault
from prakerja.adapters.kms_cipher import KmsCipher
from prakerja.audit.models import AuditQuery
from prakerja.errors import Conflict, ValidationFailed
from prakerja.grievances.models import ComplaintCategory, ComplaintRequest, OpsUpdateRequest, QueueFilters, TicketStatus
from prakerja.grievances.service import ANSWERED, GrievanceService
from prakerja.program import load_program
from tests.fakes import FixedClock
from tests.integration.conftest import physical

RULES = load_program().grievances
SECRET = "NIK saya 3171234567890123, telepon 081234567890"
_ids = itertools.count(1)


def new_id() -> str:
    return f"tkt-{next(_ids):032x}"


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(datetime(2026, 12, 1, 8, 0, tzinfo=UTC))


@pytest.fixture
def tables(aws: Resources) -> dict[str, str]:
    return {
        "cases": physical(aws, "DataCasesTable"),
        "outbox": physical(aws, "DataOutboxTable"),
        "audit": physical(aws, "DataAuditLogTable"),
    }


@pytest.fixture
def audit(clients: dict[str, Any], tables: dict[str, str]) -> DynamoDBAuditLog:
    return DynamoDBAuditLog(clients["dynamodb"], tables["audit"])


@pytest.fixture
def tickets(
    aws: Resources, clients: dict[str, Any], tables: dict[str, str], audit: DynamoDBAuditLog
) -> DynamoDBTickets:
    cipher = KmsCipher(clients["kms"], str(aws.find("DataPersonalDataKey", "AWS::KMS::Key").arn))
    return DynamoDBTickets(
        clients["dynamodb"], tables["cases"], TicketVault(cipher), audit=audit, outbox_table=tables["outbox"]
    )


@pytest.fixture
def service(tickets: DynamoDBTickets, clock: FixedClock) -> GrievanceService:
    return GrievanceService(tickets, RULES, clock, new_id=new_id)


def file(service: GrievanceService, category: ComplaintCategory, account: str = "sub-a") -> str:
    return service.file(account, "app-a", ComplaintRequest(category=category, message=SECRET)).ticket_id


def answer(service: GrievanceService, ticket_id: str, status: TicketStatus, request_id: str = "req-1") -> None:
    request = OpsUpdateRequest(status=status, message=f"Jawaban untuk {SECRET}")
    service.answer(ticket_id, request, actor="ops-1", request_id=request_id)


def scan(clients: dict[str, Any], table: str) -> list[dict[str, Any]]:
    return list(clients["dynamodb"].scan(TableName=table)["Items"])


def test_a_ticket_reads_back_whole_and_its_messages_are_encrypted_at_rest(
    service: GrievanceService, clients: dict[str, Any], tables: dict[str, str], clock: FixedClock
) -> None:
    ticket_id = file(service, ComplaintCategory.PAYMENT)
    for n in range(30):  # a long conversation still reads in one query
        clock.advance(minutes=1)
        if n % 2:
            answer(service, ticket_id, TicketStatus.WAITING_FOR_APPLICANT, request_id=f"req-{n}")
        else:
            service.reply("sub-a", ticket_id, f"balasan {n}")
    ticket = service.my_ticket("sub-a", ticket_id)
    assert ticket.message == SECRET
    assert [u.seq for u in ticket.updates] == list(range(1, 31))
    assert ticket.updates[-1].message == f"Jawaban untuk {SECRET}"
    assert SECRET not in str(scan(clients, tables["cases"]))
    assert "3171234567890123" not in str(scan(clients, tables["cases"]))


def test_a_ciphertext_copied_onto_another_ticket_does_not_decrypt(
    service: GrievanceService, clients: dict[str, Any], tables: dict[str, str]
) -> None:
    first, second = file(service, ComplaintCategory.OTHER), file(service, ComplaintCategory.OTHER)
    db = clients["dynamodb"]
    sealed = db.get_item(TableName=tables["cases"], Key={"pk": {"S": f"TICKET#{first}"}, "sk": {"S": "TICKET"}})
    db.update_item(
        TableName=tables["cases"],
        Key={"pk": {"S": f"TICKET#{second}"}, "sk": {"S": "TICKET"}},
        UpdateExpression="SET message = :m",
        ExpressionAttributeValues={":m": sealed["Item"]["message"]},
    )
    with pytest.raises(Exception, match=r"InvalidCiphertext|AccessDenied|context"):
        service.ticket(second)


def test_an_answer_writes_its_audit_entry_and_notice_in_its_transaction(
    service: GrievanceService, audit: DynamoDBAuditLog, clients: dict[str, Any], tables: dict[str, str]
) -> None:
    ticket_id = file(service, ComplaintCategory.PAYMENT)
    answer(service, ticket_id, TicketStatus.RESOLVED)
    (entry,), _ = audit.entries(AuditQuery(action=ANSWERED), 10, None)
    assert (entry.target, entry.actor, entry.reason, entry.request_id) == (ticket_id, "ops-1", "RESOLVED", "req-1")
    (notice,) = scan(clients, tables["outbox"])
    assert notice["pk"]["S"] == "APPLICANT#app-a" and notice["kind"]["S"] == "COMPLAINT_ANSWERED"
    assert notice["wave_id"]["S"] == ticket_id  # the ticket, never the answer's text
    assert "Jawaban" not in str(notice)


def test_a_stale_answer_writes_nothing(
    service: GrievanceService, tickets: DynamoDBTickets, audit: DynamoDBAuditLog
) -> None:
    ticket_id = file(service, ComplaintCategory.PAYMENT)
    stale = tickets.get(ticket_id)
    answer(service, ticket_id, TicketStatus.IN_PROGRESS)
    tickets.get = lambda _id: stale  # type: ignore[method-assign,assignment]  # read before that answer
    with pytest.raises(Conflict):
        answer(service, ticket_id, TicketStatus.CLOSED, request_id="req-2")
    assert len(audit.entries(AuditQuery(action=ANSWERED), 10, None)[0]) == 1


def test_the_index_carries_no_message_and_no_account(
    service: GrievanceService, clients: dict[str, Any], tables: dict[str, str]
) -> None:
    file(service, ComplaintCategory.PAYMENT)
    (row,) = clients["dynamodb"].query(
        TableName=tables["cases"],
        IndexName=QUEUE_INDEX,
        KeyConditionExpression="#q = :q",
        ExpressionAttributeNames={"#q": "queue"},
        ExpressionAttributeValues={":q": {"S": "OPEN#PAYMENT"}},
    )["Items"]
    assert "message" not in row and "account_id" not in row


def test_pages_of_the_queue_cover_every_unfinished_ticket_once_oldest_first(
    service: GrievanceService, clock: FixedClock
) -> None:
    filed = []
    categories = list(ComplaintCategory)
    for i in range(23):
        filed.append(file(service, categories[i % len(categories)], account=f"sub-{i % 4}"))
        clock.advance(seconds=37)
    answer(service, filed[3], TicketStatus.IN_PROGRESS, request_id="req-3")
    answer(service, filed[4], TicketStatus.WAITING_FOR_APPLICANT, request_id="req-4")
    answer(service, filed[5], TicketStatus.CLOSED, request_id="req-5")
    seen, token, pages = [], None, 0
    while True:
        page, token = service.queue(QueueFilters(), 5, token)
        pages += 1
        seen += [t.ticket_id for t in page]
        if token is None:
            break
    assert seen == [t for t in filed if t != filed[5]]
    assert pages == 5
    closed, _ = service.queue(QueueFilters(status=TicketStatus.CLOSED), 5, None)
    assert [t.ticket_id for t in closed] == [filed[5]]
    training, _ = service.queue(QueueFilters(category=ComplaintCategory.TRAINING), 50, None)
    assert {t.category for t in training} == {ComplaintCategory.TRAINING} and len(training) == 3


def test_overdue_is_in_the_key_condition_per_category_and_pages(
    service: GrievanceService, tickets: DynamoDBTickets, clock: FixedClock
) -> None:
    accounts = [file(service, ComplaintCategory.ACCOUNT) for _ in range(3)]  # 24 h
    clock.advance(seconds=1)
    payments = [file(service, ComplaintCategory.PAYMENT) for _ in range(3)]  # 48 h
    clock.advance(hours=30)
    page, token = service.queue(QueueFilters(overdue=True), 2, None)
    # The cursor (an ACCOUNT ticket queued 30 h ago) is past PAYMENT's cut-off (48 h ago): that
    # partition is not asked at all (a BETWEEN with reversed bounds is an error on DynamoDB).
    queries: list[dict[str, Any]] = []
    tickets._db.meta.events.register("provide-client-params.dynamodb.Query", lambda params, **_: queries.append(params))
    rest, last = service.queue(QueueFilters(overdue=True), 2, token)
    assert [t.ticket_id for t in page + rest] == accounts and last is None
    asked = {q["ExpressionAttributeValues"][":p"]["S"] for q in queries}
    assert asked == {"OPEN#ACCOUNT", "IN_PROGRESS#ACCOUNT"}
    assert service.overdue_counts()[ComplaintCategory.ACCOUNT] == 3
    clock.advance(hours=20)
    everything, _ = service.queue(QueueFilters(overdue=True), 50, None)
    assert [t.ticket_id for t in everything] == accounts + payments
    assert sum(service.overdue_counts().values()) == 6


def test_my_list_is_newest_first_and_mine_only(service: GrievanceService, clock: FixedClock) -> None:
    mine = []
    for _ in range(3):
        mine.append(file(service, ComplaintCategory.OTHER, account="sub-me"))
        file(service, ComplaintCategory.OTHER, account="sub-other")
        clock.advance(minutes=1)
    page, token = service.mine("sub-me", 2, None)
    rest, _ = service.mine("sub-me", 2, token)
    assert [t.ticket_id for t in page + rest] == mine[::-1]
    with pytest.raises(ValidationFailed):
        service.mine("sub-other", 2, token)  # my token does not page another's list


def test_dynamodb_requests_per_complaint_filed(service: GrievanceService, clients: dict[str, Any]) -> None:
    """The ticket's own writes: one TransactWriteItems (the ticket and my list's row). The route
    adds the attempt counter (1 UpdateItem), the account's profile look-up (1-2 GetItem) and
    Powertools' idempotency record (PutItem, then UpdateItem) when a key is sent: docs/grievances.md."""
    calls: Counter[str] = Counter()

    def count(event_name: str, **_: Any) -> None:
        calls[event_name.rsplit(".", 1)[-1]] += 1

    clients["dynamodb"].meta.events.register("before-call.dynamodb.*", count)
    file(service, ComplaintCategory.PAYMENT)
    assert calls == Counter({"TransactWriteItems": 1})
    calls.clear()
    clients["kms"].meta.events.register("before-call.kms.*", count)
    file(service, ComplaintCategory.PAYMENT)
    assert calls == Counter({"TransactWriteItems": 1, "Encrypt": 1})


def test_count_pages_past_one_response(service: GrievanceService, tickets: DynamoDBTickets, clock: FixedClock) -> None:
    for _ in range(5):
        file(service, ComplaintCategory.ACCOUNT)
    before = clock.now() + timedelta(seconds=1)
    assert tickets.count_queued_before(TicketStatus.OPEN, ComplaintCategory.ACCOUNT, before) == 5
    assert tickets.count_queued_before(TicketStatus.OPEN, ComplaintCategory.ACCOUNT, clock.now() - timedelta(1)) == 0
