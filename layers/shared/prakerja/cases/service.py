"""Ops actions asked for, approved, rejected and run (models.py tells the states).

Every write is one transaction of the action's item (conditional on the status it was read
in), its audit entries and, when it runs, its change to the other tables (ports.Effect): so an
action runs at most once, and is recorded exactly when it ran. A change that no longer applies
as read (a purchase moved the card's balance between the read and the write) is read again and
tried again; one that no longer applies at all answers 409 with its code, and a pending action
approved in that state ends LAPSED.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime

from prakerja.audit.models import AuditEntry
from prakerja.cases.models import (
    Action,
    ActionAlreadyDecided,
    ActionKind,
    ActionNotApplicable,
    ActionNotFound,
    ActionRequest,
    ActionStatus,
    ApplicantNotFound,
    NoActiveCard,
    NotBlacklisted,
    PayoutsAlreadyHeld,
    PayoutsNotHeld,
    needs_second_person,
)
from prakerja.cases.ports import (
    ActionRepository,
    CaseFacts,
    Effect,
    HoldPayouts,
    LiftBlacklist,
    ReleasePayouts,
    Reverifier,
    RevokeCard,
    Saved,
)
from prakerja.clock import Clock
from prakerja.ledger import postings
from prakerja.registration.models import ApplicantStatus

# Tries of a write whose change moved meanwhile (each after reading again): a card's balance
# moves once per purchase, so a few tries are plenty.
ATTEMPTS = 5


def new_action_id() -> str:
    return uuid.uuid4().hex


class ActionService:
    def __init__(
        self,
        actions: ActionRepository,
        facts: CaseFacts,
        reverifier: Callable[[], Reverifier],
        clock: Clock,
        new_id: Callable[[], str] = new_action_id,
    ) -> None:
        self._actions = actions
        self._facts = facts
        self._reverifier = reverifier  # built at first need: the placeholder may refuse
        self._clock = clock
        self._new_id = new_id

    # -- reading ---------------------------------------------------------------------------------
    def get(self, action_id: str) -> Action:
        action = self._actions.get(action_id)
        if action is None:
            raise ActionNotFound()
        return action

    def pending(self, limit: int, next_token: str | None) -> tuple[list[Action], str | None]:
        return self._actions.pending(limit, next_token)

    def actions_of(self, applicant_id: str) -> list[Action]:
        return self._actions.actions_of(applicant_id)

    # -- writing ---------------------------------------------------------------------------------
    def request(self, applicant_id: str, request: ActionRequest, actor: str, request_id: str) -> Action:
        """Asked for by ``actor``: waiting for a second person, or run now. 404 for an unknown
        applicant, 409 (with the kind's code) when it does not apply to them."""
        kind = request.action
        now = self._clock.now()
        action = Action(
            action_id=self._new_id(),
            applicant_id=applicant_id,
            kind=kind,
            status=ActionStatus.PENDING_APPROVAL,
            reason=request.reason,
            requested_by=actor,
            requested_at=now,
        )
        if needs_second_person(kind):
            self._effect(action, now)  # 404 / 409 now rather than at approval
            entry = _entry(now, actor, f"{kind}_REQUESTED", applicant_id, request.reason, request_id)
            self._save_new(action, entry, None)
            return action
        executed = action.model_copy(update={"status": ActionStatus.EXECUTED})
        entry = _entry(now, actor, str(kind), applicant_id, request.reason, request_id)
        if kind is ActionKind.REVERIFY:
            if self._facts.applicant(applicant_id) is None:
                raise ApplicantNotFound()
            # Not in the transaction (another workflow's start): run first, then recorded. A
            # record that fails after it ran is retried by the caller; running the checks twice
            # changes nothing the first run did not.
            self._reverifier().reverify(applicant_id)
            self._save_new(executed, entry, None)
            return executed
        for _ in range(ATTEMPTS):
            if self._save_new(executed, entry, self._effect(action, now)) is Saved.SAVED:
                return executed
        raise _not_applicable(kind)

    def approve(self, action_id: str, actor: str, reason: str | None, request_id: str) -> Action:
        """The second person's approval: the action runs, or ends LAPSED (and 409) when it no
        longer applies. 403 SELF_APPROVAL for its requester, 409 once decided."""
        for _ in range(ATTEMPTS):
            action = self.get(action_id)
            now = self._clock.now()
            approved = action.approve(actor, now, reason)
            try:
                effect = self._effect(action, now)
            except ActionNotApplicable as gone:
                self._lapse(action, actor, now, gone, request_id)
                raise
            entries = [
                _entry(now, actor, f"{action.kind}_APPROVED", action_id, reason, request_id),
                _entry(now, actor, str(action.kind), action.applicant_id, action.reason, request_id, seq=1),
            ]
            saved = self._actions.save(approved, ActionStatus.PENDING_APPROVAL, entries, effect)
            if saved is Saved.SAVED:
                return approved
            if saved is Saved.STATUS_CHANGED:
                continue  # decided by someone else meanwhile: read again, answers 409
        raise _not_applicable(self.get(action_id).kind)

    def reject(self, action_id: str, actor: str, reason: str, request_id: str) -> Action:
        for _ in range(ATTEMPTS):
            action = self.get(action_id)
            now = self._clock.now()
            rejected = action.reject(actor, now, reason)
            entry = _entry(now, actor, f"{action.kind}_REJECTED", action_id, reason, request_id)
            if self._actions.save(rejected, ActionStatus.PENDING_APPROVAL, [entry], None) is Saved.SAVED:
                return rejected
        raise ActionAlreadyDecided(self.get(action_id).status)

    # -- the changes -----------------------------------------------------------------------------
    def _effect(self, action: Action, now: datetime) -> Effect | None:
        """What running ``action`` changes, from the applicant as they are now; 404 / 409 when
        they are unknown or it does not apply."""
        applicant = self._facts.applicant(action.applicant_id)
        if applicant is None:
            raise ApplicantNotFound()
        match action.kind:
            case ActionKind.REVOKE_CARD:
                card = applicant.card
                if card is None or applicant.status is not ApplicantStatus.SELECTED:
                    raise NoActiveCard()
                # Exactly the nightly sweep's posting (same kind, same id: once per card).
                return RevokeCard(applicant, postings.card_revoked(card.card_number, card.training_balance, now), now)
            case ActionKind.LIFT_BLACKLIST:
                listed = self._facts.blacklisted(applicant.nik_hashes)
                if not listed:
                    raise NotBlacklisted()
                return LiftBlacklist(listed)
            case ActionKind.HOLD_PAYOUTS:
                if self._facts.payouts_held(applicant.applicant_id):
                    raise PayoutsAlreadyHeld()
                return HoldPayouts(applicant.applicant_id, action.action_id, now)
            case ActionKind.RELEASE_PAYOUTS:
                if not self._facts.payouts_held(applicant.applicant_id):
                    raise PayoutsNotHeld()
                return ReleasePayouts(applicant.applicant_id)
            case ActionKind.REVERIFY:
                return None

    def _save_new(self, action: Action, entry: AuditEntry, effect: Effect | None) -> Saved:
        saved = self._actions.save(action, None, [entry], effect)
        if saved is Saved.STATUS_CHANGED:  # a new id taken: never expected
            raise RuntimeError(f"action id {action.action_id} exists already")
        return saved

    def _lapse(self, action: Action, actor: str, now: datetime, gone: ActionNotApplicable, request_id: str) -> None:
        lapsed = action.lapse(actor, now, gone.code)
        entry = _entry(now, actor, f"{action.kind}_LAPSED", action.action_id, gone.code, request_id)
        if self._actions.save(lapsed, ActionStatus.PENDING_APPROVAL, [entry], None) is not Saved.SAVED:
            raise ActionAlreadyDecided(self.get(action.action_id).status)


def _not_applicable(kind: ActionKind) -> ActionNotApplicable:
    """The kind's 409 after every try found the applicant changed meanwhile."""
    return {
        ActionKind.REVOKE_CARD: NoActiveCard(),
        ActionKind.LIFT_BLACKLIST: NotBlacklisted(),
        ActionKind.HOLD_PAYOUTS: PayoutsAlreadyHeld(),
        ActionKind.RELEASE_PAYOUTS: PayoutsNotHeld(),
    }.get(kind) or ActionNotApplicable("ACTION_NOT_APPLICABLE", "The action no longer applies.")


def _entry(
    at: datetime, actor: str, name: str, target: str, reason: str | None, request_id: str, seq: int = 0
) -> AuditEntry:
    return AuditEntry(at=at, actor=actor, action=name, target=target, reason=reason, request_id=request_id, seq=seq)
