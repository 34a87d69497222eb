"""In-memory fakes of the registration ports, with the same guarantees as the DynamoDB
implementations (one profile per account and per NIK, family-card places, one decision)."""

from __future__ import annotations

import base64
import json
import math
import threading
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta

from prakerja.adapters import keys
from prakerja.adapters.stepfunctions_starter import execution_name
from prakerja.audit.models import AuditEntry
from prakerja.cases.models import Action, ActionStatus
from prakerja.cases.ports import (
    Effect,
    HoldPayouts,
    LiftBlacklist,
    ReleasePayouts,
    RevokeCard,
    Saved,
)
from prakerja.grievances.models import ComplaintCategory, QueueRow, Ticket, TicketStatus, TicketSummary, TicketUpdate
from prakerja.grievances.ports import TicketChanged
from prakerja.grievances.service import summary as ticket_summary
from prakerja.ledger.postings import Posting
from prakerja.notifications import Claim, OutboxMessage
from prakerja.registration.eligibility import RegistryVerdict
from prakerja.registration.models import BLACKLIST, ApplicantStatus, ExclusionSource, RejectionReason
from prakerja.registration.ports import (
    CivilRegistryUnavailable,
    KkLimitReached,
    NikAlreadyRegistered,
    ProfileChanged,
    ProfileExists,
    ProfileLocked,
)
from prakerja.registration.records import ApplicantRecord, AssessmentRecord, HistoryEvent
from prakerja.selection.ports import JoinedParticipant, Settled, Settlement
from prakerja.waves.models import Wave, WaveReport, WaveStatus, participant_shard
from prakerja.waves.ports import JoinRefused, WaveNotOpen


class FakeApplicants:
    def __init__(self) -> None:
        self.profiles: dict[str, ApplicantRecord] = {}
        self.by_account: dict[str, str] = {}
        self.by_nik: dict[str, str] = {}
        self.kk_members: dict[str, set[str]] = {}
        self.events: dict[str, list[HistoryEvent]] = {}
        self._lock = threading.Lock()

    def create(self, applicant: ApplicantRecord) -> None:
        with self._lock:
            if applicant.account_id in self.by_account:
                raise ProfileExists()
            if any(h in self.by_nik for h in applicant.nik_hashes):
                raise NikAlreadyRegistered()
            self.by_account[applicant.account_id] = applicant.applicant_id
            self.by_nik |= dict.fromkeys(applicant.nik_hashes, applicant.applicant_id)
            self.profiles[applicant.applicant_id] = applicant
            self._event(applicant.applicant_id, applicant.created_at, "REGISTERED")

    def get(self, applicant_id: str) -> ApplicantRecord | None:
        return self.profiles.get(applicant_id)

    def find_by_account(self, account_id: str) -> ApplicantRecord | None:
        applicant_id = self.by_account.get(account_id)
        return self.profiles.get(applicant_id) if applicant_id else None

    def record_assessment(self, applicant_id: str, assessment: AssessmentRecord) -> None:
        self._update(applicant_id, assessment=assessment, updated_at=assessment.taken_at)

    def record_registry_verdict(self, applicant_id: str, verdict: RegistryVerdict, at: datetime) -> None:
        self._update(applicant_id, registry=verdict, updated_at=at)
        self._event(applicant_id, at, "IDENTITY_CHECKED", verdict=verdict.value)

    def decide(
        self,
        applicant_id: str,
        status: ApplicantStatus,
        reasons: Iterable[RejectionReason],
        at: datetime,
        *,
        kk_hashes: tuple[str, ...] = (),
        kk_limit: int = 0,
    ) -> ApplicantRecord:
        with self._lock:
            record = self.profiles[applicant_id]
            if record.status is not ApplicantStatus.VERIFYING:
                return record
            if kk_hashes:
                # As in DynamoDB: the places are in the first of the card's digests that has any.
                holder = next((h for h in kk_hashes if h in self.kk_members), kk_hashes[0])
                members = self.kk_members.setdefault(holder, set())
                if applicant_id not in members and len(members) >= kk_limit:
                    raise KkLimitReached()
                members.add(applicant_id)
            decided = replace(record, status=status, reasons=tuple(reasons), updated_at=at)
            self.profiles[applicant_id] = decided
            self._event(applicant_id, at, "DECIDED", status=status.value, reasons=[r.value for r in decided.reasons])
            return decided

    def kk_has_room(self, kk_hashes: tuple[str, ...], applicant_id: str, kk_limit: int) -> bool:
        members = set().union(*(self.kk_members.get(h, set()) for h in kk_hashes))
        return applicant_id in members or len(members) < kk_limit

    def restart_verification(self, current: ApplicantRecord, restarted: ApplicantRecord, cause: str) -> None:
        with self._lock:
            stored = self.profiles[current.applicant_id]
            if (stored.status, stored.verification_attempt) != (current.status, current.verification_attempt):
                raise ProfileChanged()
            for members in self.kk_members.values():
                members.discard(current.applicant_id)
            self.profiles[current.applicant_id] = restarted
            self._event(
                current.applicant_id,
                restarted.updated_at,
                "VERIFICATION_RESTARTED",
                cause=cause,
                attempt=restarted.verification_attempt,
            )

    def history(self, applicant_id: str) -> list[HistoryEvent]:
        return sorted(self.events.get(applicant_id, []), key=lambda e: e.at)

    def _event(self, applicant_id: str, at: datetime, kind: str, **details: object) -> None:
        self.events.setdefault(applicant_id, []).append(HistoryEvent(at=at, kind=kind, details=details))

    def _update(self, applicant_id: str, **changes: object) -> None:
        with self._lock:
            self.profiles[applicant_id] = replace(self.profiles[applicant_id], **changes)  # type: ignore[arg-type]


class FakeExclusions:
    def __init__(self) -> None:
        self.entries: set[tuple[str, str]] = set()

    def add(self, source: ExclusionSource | str, nik_hashes: Iterable[str], at: datetime) -> int:
        unique = set(nik_hashes)
        self.entries |= {(h, str(source)) for h in unique}
        return len(unique)

    def remove(self, source: ExclusionSource | str, nik_hashes: Iterable[str]) -> int:
        unique = set(nik_hashes)
        self.entries -= {(h, str(source)) for h in unique}
        return len(unique)

    def sources_for(self, *nik_hashes: str) -> frozenset[str]:
        return frozenset(source for h, source in self.entries if h in nik_hashes)

    def sources_for_many(self, nik_hashes: Collection[str]) -> dict[str, frozenset[str]]:
        found = {h: self.sources_for(h) for h in nik_hashes}
        return {h: sources for h, sources in found.items() if sources}


class FakeCipher:
    """Reversible, context-bound 'encryption' that keeps the plaintext out of the record."""

    def encrypt(self, plaintext: bytes, context: dict[str, str]) -> str:
        envelope = json.dumps({"c": context, "p": base64.b64encode(plaintext[::-1]).decode()})
        return base64.b64encode(envelope.encode()).decode()

    def decrypt(self, ciphertext: str, context: dict[str, str]) -> bytes:
        envelope = json.loads(base64.b64decode(ciphertext))
        if envelope["c"] != context:
            raise PermissionError("encryption context mismatch")
        return base64.b64decode(envelope["p"])[::-1]


@dataclass
class FakeRegistry:
    """The civil registry: residents by NIK; ``outages`` failing calls before it answers."""

    residents: dict[str, tuple[str, date]] = field(default_factory=dict)
    outages: int = 0
    calls: int = 0

    def add(self, nik: str, full_name: str, date_of_birth: date) -> None:
        self.residents[nik] = (full_name, date_of_birth)

    def verify(self, nik: str, full_name: str, date_of_birth: date) -> RegistryVerdict:
        self.calls += 1
        if self.outages:
            self.outages -= 1
            raise CivilRegistryUnavailable("simulated outage")
        resident = self.residents.get(nik)
        if resident is None:
            return RegistryVerdict.NOT_FOUND
        name, born = resident
        same_name = " ".join(name.lower().split()) == " ".join(full_name.lower().split())
        return RegistryVerdict.MATCH if same_name and born == date_of_birth else RegistryVerdict.MISMATCH


@dataclass
class FakeWorkflow:
    """Started executions by name (the applicant id, then ``<id>-r<attempt>``); ``running`` holds
    the names of those not over yet (a test ends them)."""

    started: list[str] = field(default_factory=list)
    running: set[str] = field(default_factory=set)

    def start(self, applicant_id: str, attempt: int = 1) -> None:
        name = execution_name(applicant_id, attempt)
        if name not in self.started:
            self.started.append(name)

    def is_running(self, applicant_id: str, attempt: int) -> bool:
        return execution_name(applicant_id, attempt) in self.running


@dataclass
class FixedClock:
    moment: datetime = datetime(2026, 11, 22, 3, 0, tzinfo=UTC)

    def now(self) -> datetime:
        return self.moment

    def advance(self, **delta: float) -> None:
        self.moment += timedelta(**delta)


class FakeWaves:
    """Waves in memory; ``join`` is atomic like the DynamoDB transaction it stands for."""

    def __init__(self, applicants: FakeApplicants) -> None:
        self.waves: dict[str, Wave] = {}
        self.joined: dict[str, dict[str, JoinedParticipant]] = {}
        self._applicants = applicants
        self.refuse_next_join = False

    def create(self, wave: Wave) -> None:
        self.waves[wave.wave_id] = wave

    def get(self, wave_id: str) -> Wave | None:
        return self.waves.get(wave_id)

    def list_waves(self, limit: int, next_token: str | None) -> tuple[list[Wave], str | None]:
        ordered = sorted(self.waves.values(), key=lambda w: w.created_at, reverse=True)
        start = int(next_token or 0)
        page = ordered[start : start + limit]
        return page, str(start + limit) if start + limit < len(ordered) else None

    def join(self, wave: Wave, applicant: ApplicantRecord, at: datetime) -> None:
        record = self._applicants.profiles[applicant.applicant_id]
        joinable = {ApplicantStatus.VERIFIED, ApplicantStatus.NOT_SELECTED}
        if (
            self.refuse_next_join
            or record.status not in joinable
            or self.waves[wave.wave_id].status is not WaveStatus.OPEN
        ):
            self.refuse_next_join = False
            raise JoinRefused()
        self._applicants.profiles[record.applicant_id] = replace(
            record, status=ApplicantStatus.IN_WAVE, wave_id=wave.wave_id
        )
        self.joined.setdefault(wave.wave_id, {})[record.applicant_id] = JoinedParticipant(
            record.applicant_id, record.province_code, record.nik_hash, record.other_nik_hashes
        )

    def joined_by_province(self, wave_id: str) -> dict[str, int]:
        return dict(Counter(p.province_code for p in self.joined.get(wave_id, {}).values()))

    def participants(self, wave_id: str, shard: int) -> Iterator[JoinedParticipant]:
        for p in list(self.joined.get(wave_id, {}).values()):
            if participant_shard(p.applicant_id) == shard:
                yield p

    def start_selection(self, wave_id: str, seed: str, at: datetime) -> None:
        wave = self.waves[wave_id]
        if wave.status is not WaveStatus.OPEN:
            raise WaveNotOpen()
        self.waves[wave_id] = replace(wave, status=WaveStatus.SELECTING, seed=seed, closed_at=at)

    def record_execution(self, wave_id: str, execution_arn: str) -> None:
        self.waves[wave_id] = replace(self.waves[wave_id], execution_arn=execution_arn)

    def publish_result(self, wave_id: str, report: WaveReport) -> None:
        wave = self.waves[wave_id]
        if wave.status is WaveStatus.SELECTING:
            self.waves[wave_id] = replace(wave, status=WaveStatus.SELECTED, report=report)


@dataclass
class FakeSelectionStarter:
    """Starts at most one execution per wave, like StartExecution with the wave as its name."""

    started: list[str] = field(default_factory=list)

    def start(self, wave_id: str) -> str:
        if wave_id not in self.started:
            self.started.append(wave_id)
        return f"arn:aws:states:ap-southeast-3:000000000000:execution:selection:{wave_id}"


class FakeObjectStore:
    def __init__(self) -> None:
        self.objects: dict[str, bytes] = {}
        self._lock = threading.Lock()

    def get(self, key: str) -> bytes | None:
        return self.objects.get(key)

    def put(self, key: str, data: bytes, content_type: str) -> None:
        self.objects[key] = data

    def put_if_absent(self, key: str, data: bytes, content_type: str) -> bool:
        with self._lock:
            if key in self.objects:
                return False
            self.objects[key] = data
            return True


class FakeOutcomes:
    """Settles on FakeApplicants with the DynamoDB writer's conditions: only an applicant still
    IN_WAVE of the wave, one card per number; each outcome written leaves one outbox message."""

    def __init__(self, applicants: FakeApplicants) -> None:
        self._applicants = applicants
        self.card_numbers: dict[str, str] = {}
        self.outbox: list[Settlement] = []
        self.taken_numbers: set[str] = set()  # numbers to refuse once, as if already issued

    def settle(self, settlements: Sequence[Settlement]) -> list[Settled]:
        return [self._settle_one(s) for s in settlements]

    def _settle_one(self, s: Settlement) -> Settled:
        record = self._applicants.profiles[s.applicant_id]
        if record.status is not ApplicantStatus.IN_WAVE or record.wave_id != s.wave_id:
            return Settled.ALREADY_SETTLED
        if s.card is not None:
            if s.card.card_number in self.card_numbers or s.card.card_number in self.taken_numbers:
                self.taken_numbers.discard(s.card.card_number)
                return Settled.CARD_NUMBER_TAKEN
            self.card_numbers[s.card.card_number] = s.applicant_id
        reasons = tuple(RejectionReason(r) for r in s.reasons)
        self._applicants.profiles[s.applicant_id] = replace(record, status=s.status, reasons=reasons, card=s.card)
        self.outbox.append(s)
        return Settled.APPLIED


class FakeAttemptCounter:
    """Attempt counters in memory, with the DynamoDB counter's semantics."""

    def __init__(self) -> None:
        self.hits: dict[str, int] = {}
        self.expiry: dict[str, int] = {}

    def add(self, key: str, limit: int, expires_at: int) -> bool:
        if self.hits.get(key, 0) >= limit:
            return False
        self.hits[key] = self.hits.get(key, 0) + 1
        self.expiry[key] = expires_at
        return True

    def reached(self, key: str, limit: int) -> bool:
        return self.hits.get(key, 0) >= limit


@dataclass
class OutboxEntry:
    """An outbox item's delivery attributes, as DynamoDBOutbox keeps them."""

    claimed_by: str | None = None
    claim_expires_at: int | None = None  # epoch seconds
    sent_at: datetime | None = None


class FakeOutbox:
    """The outbox's claims and sends in memory, with DynamoDBOutbox's conditions (the same
    whole-second lease rounding); each operation is atomic."""

    def __init__(self, *messages: OutboxMessage) -> None:
        self._lock = threading.Lock()
        self.entries: dict[tuple[str, str], OutboxEntry] = {}
        self.released: list[str] = []  # the claimants that gave a claim back
        for message in messages:
            self.add(message)

    def add(self, message: OutboxMessage) -> None:
        self.entries[message.pk, message.sk] = OutboxEntry()

    def entry(self, message: OutboxMessage) -> OutboxEntry:
        return self.entries[message.pk, message.sk]

    def claim(self, message: OutboxMessage, claimant: str, at: datetime, until: datetime) -> Claim:
        with self._lock:
            entry = self.entries.get((message.pk, message.sk))
            if entry is None:
                return Claim.GONE
            if entry.sent_at is not None:
                return Claim.SENT
            if entry.claim_expires_at is not None and entry.claim_expires_at > math.floor(at.timestamp()):
                return Claim.HELD
            entry.claimed_by, entry.claim_expires_at = claimant, math.ceil(until.timestamp())
            return Claim.WON

    def release(self, message: OutboxMessage, claimant: str) -> bool:
        with self._lock:
            entry = self.entries.get((message.pk, message.sk))
            if entry is None or entry.claimed_by != claimant or entry.sent_at is not None:
                return False
            entry.claimed_by = entry.claim_expires_at = None
            self.released.append(claimant)
            return True

    def mark_sent(self, message: OutboxMessage, at: datetime) -> bool:
        with self._lock:
            entry = self.entries.get((message.pk, message.sk))
            if entry is None or entry.sent_at is not None:
                return False
            entry.sent_at = at
            return True


class FakeCases:
    """The ops actions' repository and facts in memory (prakerja.cases.ports), with the DynamoDB
    adapter's guarantees: a save writes the action (new, or still in the status read), its audit
    entries and its effect all at once, or nothing. The effects act on ``applicants`` (a card
    revoked with its posting), ``exclusions`` (BLACKLIST entries) and ``holds``."""

    def __init__(self, applicants: FakeApplicants, exclusions: FakeExclusions) -> None:
        self.applicants = applicants
        self.exclusions = exclusions
        self.actions: dict[str, Action] = {}
        self.audit: list[AuditEntry] = []
        self.holds: set[str] = set()
        self.postings: dict[str, Posting] = {}  # by id: each at most once, as in the ledger
        self.before_save: list[Callable[[], None]] = []  # run once each, before the next save
        self._lock = threading.Lock()

    # ActionRepository
    def get(self, action_id: str) -> Action | None:
        return self.actions.get(action_id)

    def actions_of(self, applicant_id: str) -> list[Action]:
        mine = [a for a in self.actions.values() if a.applicant_id == applicant_id]
        return sorted(mine, key=lambda a: (a.requested_at, a.action_id))

    def pending(self, limit: int, next_token: str | None) -> tuple[list[Action], str | None]:
        waiting = sorted(
            (a for a in self.actions.values() if a.status is ActionStatus.PENDING_APPROVAL),
            key=lambda a: (a.requested_at, a.action_id),
        )
        start = int(next_token or 0)
        page = waiting[start : start + limit]
        return page, str(start + limit) if start + limit < len(waiting) else None

    def save(
        self, action: Action, previous: ActionStatus | None, entries: Sequence[AuditEntry], effect: Effect | None
    ) -> Saved:
        while self.before_save:  # someone else's write landing between the read and this one
            self.before_save.pop(0)()
        with self._lock:
            current = self.actions.get(action.action_id)
            if (current is None) != (previous is None) or (current is not None and current.status != previous):
                return Saved.STATUS_CHANGED
            if not self._apply(effect):
                return Saved.EFFECT_REFUSED
            self.actions[action.action_id] = action
            self.audit.extend(entries)
            return Saved.SAVED

    def _apply(self, effect: Effect | None) -> bool:
        match effect:
            case RevokeCard(applicant=read, posting=posting):
                now = self.applicants.profiles[read.applicant_id]
                if now.status is not ApplicantStatus.SELECTED or now.card != read.card or now.card is None:
                    return False
                if posting is not None and posting.posting_id in self.postings:
                    return False
                if posting is not None:
                    self.postings[posting.posting_id] = posting
                card = replace(now.card, training_balance=0, revoked_at=read.updated_at)
                self.applicants.profiles[read.applicant_id] = replace(now, status=ApplicantStatus.REVOKED, card=card)
                self.exclusions.entries |= {(h, BLACKLIST) for h in read.nik_hashes}
            case LiftBlacklist(nik_hashes=hashes):
                listed = {(h, BLACKLIST) for h in hashes}
                if not listed <= self.exclusions.entries:
                    return False
                self.exclusions.entries -= listed
            case HoldPayouts(applicant_id=applicant_id):
                if applicant_id in self.holds:
                    return False
                self.holds.add(applicant_id)
            case ReleasePayouts(applicant_id=applicant_id):
                if applicant_id not in self.holds:
                    return False
                self.holds.remove(applicant_id)
        return True

    # CaseFacts
    def applicant(self, applicant_id: str) -> ApplicantRecord | None:
        return self.applicants.get(applicant_id)

    def blacklisted(self, nik_hashes: Sequence[str]) -> tuple[str, ...]:
        return tuple(h for h in dict.fromkeys(nik_hashes) if (h, BLACKLIST) in self.exclusions.entries)

    def payouts_held(self, applicant_id: str) -> bool:
        return applicant_id in self.holds


class FakeReverifier:
    """Records who was re-verified; ``locked`` applicants are refused (PROFILE_LOCKED)."""

    def __init__(self) -> None:
        self.reverified: list[str] = []
        self.locked: set[str] = set()

    def reverify(self, applicant_id: str) -> None:
        if applicant_id in self.locked:
            raise ProfileLocked()
        self.reverified.append(applicant_id)


class FakeTickets:
    """Complaint tickets in memory, with DynamoDBTickets' semantics: an update only onto the
    version it read; queue partitions by (status, category), sorted by position."""

    def __init__(self) -> None:
        self.tickets: dict[str, Ticket] = {}
        self.audit: list[AuditEntry] = []
        self.notified: list[tuple[str, str]] = []  # (applicant_id, ticket_id)
        self.partition_reads = 0

    def create(self, ticket: Ticket) -> None:
        assert ticket.ticket_id not in self.tickets
        self.tickets[ticket.ticket_id] = ticket

    def get(self, ticket_id: str) -> Ticket | None:
        return self.tickets.get(ticket_id)

    def mine(self, account_id: str, limit: int, next_token: str | None) -> tuple[list[TicketSummary], str | None]:
        mine = sorted(
            (t for t in self.tickets.values() if t.account_id == account_id),
            key=lambda t: (t.created_at, t.ticket_id),
            reverse=True,
        )
        start = int(next_token or 0)
        more = start + limit < len(mine)
        return [ticket_summary(t) for t in mine[start : start + limit]], str(start + limit) if more else None

    def append(
        self, before: Ticket, after: Ticket, update: TicketUpdate, *, audit: AuditEntry | None, notify: bool
    ) -> None:
        if self.tickets[before.ticket_id].version != before.version:
            raise TicketChanged
        self.tickets[after.ticket_id] = after
        if audit is not None:
            self.audit.append(audit)
        if notify and after.applicant_id:
            self.notified.append((after.applicant_id, after.ticket_id))

    def queue_partition(
        self, status: TicketStatus, category: ComplaintCategory, after: str | None, before: datetime | None, limit: int
    ) -> tuple[list[QueueRow], bool]:
        self.partition_reads += 1
        rows = sorted(
            (
                QueueRow(ticket_summary(t), keys.complaint_queue_position(t.queued_at, t.ticket_id))
                for t in self.tickets.values()
                if t.status == status and t.category == category
            ),
            key=lambda r: r.position,
        )
        rows = [r for r in rows if after is None or r.position > after]
        rows = [r for r in rows if before is None or r.position < keys.queue_time(before)]
        return rows[:limit], len(rows) > limit

    def count_queued_before(self, status: TicketStatus, category: ComplaintCategory, before: datetime) -> int:
        rows, _ = self.queue_partition(status, category, None, before, 10**9)
        return len(rows)
