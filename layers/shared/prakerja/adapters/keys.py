"""The key of every kind of item the DynamoDB adapters write, one function per key shape.

Plain strings (``pk`` and ``sk``), not yet serialized: ``to_item(keys.profile(...))`` is a
``Key``, and ``{**keys.profile(...), ...}`` the start of an item. Stored items are found by
these exact bytes: a change here is a data migration (tests/unit/test_keys.py pins each shape).
What each item holds is told by the adapter that writes it (dynamodb_<table>.py).
"""

from __future__ import annotations

from datetime import UTC, date, datetime

Key = dict[str, str]

GUARD = "GUARD"

# -- the applicants table ----------------------------------------------------------------------
# An applicant's partition, also used by the payouts and outbox tables: their items of one
# applicant are read with one query.
APPLICANT = "APPLICANT#"
PROFILE = "PROFILE"
PURCHASE = "PURCHASE#"
CATALOG = "CATALOG"  # the catalog table's one partition


def applicant_partition(applicant_id: str) -> str:
    return f"{APPLICANT}{applicant_id}"


def applicant_of(partition: str) -> str:
    """The applicant id back from ``applicant_partition``."""
    return partition.removeprefix(APPLICANT)


def profile(applicant_id: str) -> Key:
    return {"pk": applicant_partition(applicant_id), "sk": PROFILE}


EVENT = "EVENT#"


def applicant_event(applicant_id: str, at: str, kind: str) -> Key:
    """A recorded event of a profile's history (the case view); events sort by ``at`` (ISO 8601)."""
    return {"pk": applicant_partition(applicant_id), "sk": f"{EVENT}{at}#{kind}"}


def account_guard(account_id: str) -> Key:
    """One profile per sign-in account."""
    return {"pk": f"ACCOUNT#{account_id}", "sk": GUARD}


def nik_guard(nik_hash: str) -> Key:
    """One profile per NIK (under each key of the hashing keyring)."""
    return {"pk": f"NIK#{nik_hash}", "sk": GUARD}


def card_guard(card_number: str) -> Key:
    """One card per number."""
    return {"pk": f"CARD#{card_number}", "sk": GUARD}


def voucher_guard(voucher_code: str) -> Key:
    """One purchase per voucher code."""
    return {"pk": f"VOUCHER#{voucher_code}", "sk": GUARD}


def kk_slots(kk_hash: str) -> Key:
    """The places of a family card."""
    return {"pk": f"KK#{kk_hash}", "sk": "SLOTS"}


def purchase(applicant_id: str, purchase_id: str) -> Key:
    return {"pk": applicant_partition(applicant_id), "sk": f"{PURCHASE}{purchase_id}"}


def training(training_id: str) -> Key:
    return {"pk": CATALOG, "sk": f"TRAINING#{training_id}"}


def cards_due_partition(wave_id: str, shard: int) -> str:
    """A partition of the sparse index of unused cards (the profile's ``card_due``)."""
    return f"{wave_id}#{shard:02d}"


# -- the outbox table --------------------------------------------------------------------------
def outbox(applicant_id: str, kind: str, wave_id: str) -> Key:
    """One message per applicant, kind and wave."""
    return {"pk": applicant_partition(applicant_id), "sk": f"{kind}#{wave_id}"}


# -- the waves table ---------------------------------------------------------------------------
WAVES = "WAVES"  # the list of waves, one partition


def wave(wave_id: str) -> Key:
    return {"pk": f"WAVE#{wave_id}", "sk": "META"}


def wave_listing(created_at: str, wave_id: str) -> Key:
    """A wave in the list of waves, which sorts by ``created_at`` (ISO 8601)."""
    return {"pk": WAVES, "sk": f"{created_at}#{wave_id}"}


def participants_partition(wave_id: str, shard: int) -> str:
    return f"WAVE#{wave_id}#P#{shard:02d}"


def join_counter(wave_id: str, shard: int) -> Key:
    return {"pk": f"WAVE#{wave_id}#C#{shard:02d}", "sk": "JOINED"}


# -- the ledger table --------------------------------------------------------------------------
TOTAL = "TOTAL#"


def posting(posting_id: str) -> Key:
    return {"pk": f"POSTING#{posting_id}", "sk": "POSTING"}


def entry_partition(account_id: str) -> str:
    return f"ENTRY#{account_id}"


def entry(account_id: str, posted_at: str, posting_id: str) -> Key:
    """A line on a per-person account; they sort by ``posted_at`` (ISO 8601)."""
    return {"pk": entry_partition(account_id), "sk": f"{posted_at}#{posting_id}"}


def settlement_partition(provider: str, day: date, shard: int) -> str:
    return f"SETTLED#{provider}#{day.isoformat()}#{shard:02d}"


def book_total(book: str, shard: int) -> Key:
    return {"pk": f"{TOTAL}{book}#{shard:03d}", "sk": "TOTAL"}


def book_of_total(partition: str) -> str:
    """The book back from a ``book_total`` partition."""
    return partition.removeprefix(TOTAL).rsplit("#", 1)[0]


# -- the payouts table -------------------------------------------------------------------------
PAYOUT = "PAYOUT#"


def payout_account(applicant_id: str) -> Key:
    return {"pk": applicant_partition(applicant_id), "sk": "ACCOUNT"}


def payout(applicant_id: str, payout_id: str) -> Key:
    return {"pk": applicant_partition(applicant_id), "sk": f"{PAYOUT}{payout_id}"}


def payout_of(sort_key: str) -> str:
    """The payout id back from a ``payout`` sort key."""
    return sort_key.removeprefix(PAYOUT)


def payout_hold(applicant_id: str) -> Key:
    """Ops held this applicant's payouts (HOLD_PAYOUTS); gone once released."""
    return {"pk": applicant_partition(applicant_id), "sk": "HOLD"}


def survey_response(applicant_id: str, survey_id: str) -> Key:
    return {"pk": applicant_partition(applicant_id), "sk": f"SURVEY#{survey_id}"}


def transfer_guard(transfer_id: str) -> Key:
    """Which payout a transfer belongs to."""
    return {"pk": f"TRANSFER#{transfer_id}", "sk": GUARD}


def rate_counter(provider: str, second: int) -> Key:
    """Transfer requests sent to a partner in one wall-clock second."""
    return {"pk": f"RATE#{provider}#{second}", "sk": "RATE"}


def payout_queue(shard: int) -> str:
    """A partition of the index of due payouts (the payout's ``queue``)."""
    return f"Q#{shard:02d}"


# -- the attempts table ------------------------------------------------------------------------
def attempt_counter(key: str) -> Key:
    """``key`` is ``<kind>#<subject>#<window start>`` (prakerja.limits)."""
    return {"pk": f"ATTEMPT#{key}", "sk": "COUNT"}


# -- the audit log table -----------------------------------------------------------------------
AUDIT = "AUDIT"  # one partition: ops calls, not applicants' (writes stay far below its limits)


def audit_entry(at: str, request_id: str, seq: int) -> Key:
    """An entry of the audit log; entries sort by ``at`` (ISO 8601)."""
    return {"pk": AUDIT, "sk": f"{at}#{request_id}#{seq:02d}"}


# -- the cases table: ops actions (adapters/dynamodb_cases.py) ---------------------------------
ACTION = "ACTION#"
# The sparse index of actions waiting for a second person: one partition (a few hundred waiting
# at most), sorted by ``pending_since``.
ACTIONS_PENDING = "PENDING_APPROVAL"


def action(action_id: str) -> Key:
    return {"pk": f"{ACTION}{action_id}", "sk": "ACTION"}


def applicant_action(applicant_id: str, requested_at: str, action_id: str) -> Key:
    """A copy of an action in its applicant's partition: an applicant's actions, oldest first,
    in one query (``begins_with(sk, ACTION)``)."""
    return {"pk": applicant_partition(applicant_id), "sk": f"{ACTION}{requested_at}#{action_id}"}


def pending_since(requested_at: str, action_id: str) -> str:
    """An action's place in the approvals queue (ISO 8601 time, then the id)."""
    return f"{requested_at}#{action_id}"


# -- the cases table: complaint tickets ---------------------------------------------------------
# A ticket's partition holds the ticket and each of its updates, read with one query; an account's
# tickets are listed from a partition of their own. (Ops actions use ACTION#... partitions.)
TICKET = "TICKET#"
TICKET_UPDATE = "UPDATE#"


def ticket_partition(ticket_id: str) -> str:
    return f"{TICKET}{ticket_id}"


def ticket(ticket_id: str) -> Key:
    return {"pk": ticket_partition(ticket_id), "sk": "TICKET"}


def ticket_update(ticket_id: str, seq: int) -> Key:
    """An update of a ticket; they sort in the order they were written."""
    return {"pk": ticket_partition(ticket_id), "sk": f"{TICKET_UPDATE}{seq:05d}"}


def account_tickets_partition(account_id: str) -> str:
    return f"ACCOUNT#{account_id}#TICKETS"


def account_ticket(account_id: str, position: str) -> Key:
    """A ticket in its account's list, which sorts by ``position`` (complaint_queue_position of
    its filing)."""
    return {"pk": account_tickets_partition(account_id), "sk": position}


def complaint_queue_partition(status: str, category: str) -> str:
    """A partition of the ops queue's index (ComplaintQueue): one per status and category."""
    return f"{status}#{category}"


def complaint_queue_position(queued_at: datetime, ticket_id: str) -> str:
    """A ticket's sort key in its queue partition: when it entered the queue (UTC, fixed width, so
    that text order is time order) and its id."""
    return f"{queue_time(queued_at)}#{ticket_id}"


def queue_time(moment: datetime) -> str:
    """A time as queue positions write it; a position before ``queue_time(t)`` was queued before t."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
