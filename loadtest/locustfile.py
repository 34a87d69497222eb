"""Locust scenarios of the program's peaks, run together in a mix by their weights:

- `RegistrationSurge` (6): new applicants, each with an account and a synthetic resident of
  its own, register and poll their profile until the registration workflow decides;
- `WaveJoiner` (3): a new applicant registers, is verified, passes the assessment and joins
  the open wave;
- `Buyer` (1): a recipient with a card browses the catalog and buys courses it can afford.

Requests are named by route template, so the CSV has one row per route. Expected refusals
are outcomes of their own, not failures: a 429 (a throttle, or a handler's attempt limit) is
counted in a row named `<route> [429 <code>]` and retried after a short Retry-After, and a
purchase refused for the balance in `<route> [409 INSUFFICIENT_BALANCE]`. Rows of type
JOURNEY time a registration from its 201 to the workflow's decision.

Run with `make loadtest HOST=...` (README, "Load test"); settings in loadtest/settings.py.
"""

from __future__ import annotations

import itertools
import logging
import random
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

# `locust -f loadtest/locustfile.py` puts only this folder on the path; the package is wanted.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from locust import HttpUser, between, events, task
from locust.clients import ResponseContextManager
from locust.env import Environment
from locust.exception import StopUser
from locust.runners import MasterRunner

from loadtest.people import Person, Population
from loadtest.program import LocalSetup, passing_answers
from loadtest.settings import Settings
from loadtest.tokens import TokenFile

LOG = logging.getLogger("loadtest")
THROTTLE_RETRIES = 2
THROTTLE_PAUSE_MAX_SECONDS = 5.0  # honour Retry-After briefly: an hour-long one is not waited out
# Profile polls: soon at first (the decision's time is measured to within a poll), then once a
# second. time.sleep is a cooperative pause under Locust (gevent's monkey-patching).
POLL_SECONDS = (0.25, 0.25, 0.5, 0.5, 1.0)
DECIDED = ("VERIFIED", "REJECTED")
COURSE_TYPES = ("WEBINAR", "SELF_PACED", "OFFLINE")
CATEGORIES = ("SALES_MARKETING", "IT", "LANGUAGE", "FINANCE", "CULINARY", "CREATIVE", "ENTREPRENEURSHIP", "OFFICE")
SEARCH_WORDS = ("digital", "usaha", "bahasa", "keuangan", "marketing", "kuliner", "data")


@dataclass
class Run:
    """What this process's simulated users share, prepared once when Locust starts."""

    settings: Settings
    people: Iterator[Person]
    tokens: TokenFile | None = None
    wave_id: str | None = None
    local_recipients: list[str] = field(default_factory=list)
    _recipient_turn: Iterator[int] = field(default_factory=itertools.count)

    def recipient_token(self) -> str | None:
        if self.tokens is not None:
            return self.tokens.recipient()
        if not self.local_recipients:
            return None
        return self.local_recipients[next(self._recipient_turn) % len(self.local_recipients)]


_run: Run | None = None


def run() -> Run:
    if _run is None:
        raise RuntimeError("the load test was not prepared (init event)")
    return _run


@events.init.add_listener
def prepare(environment: Environment, **_: Any) -> None:
    """Settings, people and tokens; locally also an open wave and recipients. Runs before the
    test's clock starts, so that the set-up is neither timed nor counted."""
    global _run  # noqa: PLW0603 - Locust's users are made by Locust: they find the run here
    if isinstance(environment.runner, MasterRunner):
        return  # a master runs no users
    try:
        settings = Settings.from_env(environment.host or "")
        population = Population(settings.seed)
        people = (population.person(i) for i in itertools.count(settings.first_person))
        prepared = Run(settings, people)
        if settings.tokens_file is not None:
            prepared.tokens = TokenFile(settings.tokens_file)
        prepared.wave_id = settings.wave_id
        if settings.target == "local":
            started = time.monotonic()
            program = LocalSetup(environment.host or "").prepare(people, settings.local_recipients)
            prepared.wave_id = prepared.wave_id or program.wave_id
            prepared.local_recipients = program.recipient_tokens
            LOG.info(
                "local program ready in %.1f s: open wave %s, %d recipients",
                time.monotonic() - started,
                program.wave_id,
                len(program.recipient_tokens),
            )
    except Exception as error:
        raise SystemExit(f"load test set-up failed: {error}") from error
    LOG.info("target %s, people of seed %r from %d", settings.target, settings.seed, settings.first_person)
    _run = prepared


def problem_code(response: ResponseContextManager) -> str:
    if response.status_code == 0:
        return ""  # no answer: a connection error
    try:
        body = response.json()
    except ValueError:
        return ""
    return str(body.get("code", "")) if isinstance(body, dict) else ""


def retry_after(response: ResponseContextManager) -> float:
    try:
        seconds = float(response.headers.get("Retry-After", "1"))
    except ValueError:
        seconds = 1.0
    return min(max(seconds, 0.1), THROTTLE_PAUSE_MAX_SECONDS) * random.uniform(1.0, 1.5)  # jitter: no herd


class Applicant(HttpUser):
    """A person using the applicant API, with the steps the scenarios share."""

    abstract = True
    token: str = ""

    def send(
        self,
        method: str,
        path: str,
        *,
        name: str,
        expect: tuple[int, ...] = (200,),
        refusals: tuple[str, ...] = (),
        headers: dict[str, str] | None = None,
        **kwargs: Any,
    ) -> ResponseContextManager | None:
        """The response when its status is in `expect` or it is one of the expected `refusals`
        (problem codes), else None and a failure in the stats. A 429 is retried a few times."""
        headers = dict(headers or {})
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        for attempt in itertools.count():
            response = self.client.request(method, path, name=name, headers=headers, catch_response=True, **kwargs)
            with response:
                status, code = response.status_code, problem_code(response)
                if status in expect:
                    response.success()
                    return response
                if status != 429 and code not in refusals:
                    response.failure(f"{status} {code or response.error or response.reason}")
                    return None
                # Its own row, so that the route's row times only what was served.
                cast(dict[str, Any], response.request_meta)["name"] = f"{name} [{status} {code or 'THROTTLED'}]"
                response.success()
                if status != 429:
                    return response
                pause = retry_after(response)
            if attempt >= THROTTLE_RETRIES:
                return None
            time.sleep(pause)
        raise AssertionError("unreachable")

    def sign_up(self, person: Person) -> bool:
        """Signs in as the person's new account, and locally adds the person to the civil
        registry. False (a failure in the stats) when a step failed; StopUser when the token
        file has no fresh account left."""
        prepared = run()
        if prepared.tokens is not None:
            token = prepared.tokens.applicant()
            if token is None:
                LOG.warning("%s: the token file has no fresh applicant account left", type(self).__name__)
                raise StopUser
            self.token = token
        else:
            self.token = ""
            minted = self.send("POST", "/_local/tokens", name="/_local/tokens", json={"email": person.account_email})
            if minted is None:
                return False
            self.token = str(minted.json()["token"])
        if prepared.settings.target == "staging":
            return True  # the registry sandbox was loaded with the population beforehand (README)
        added = self.send(
            "POST",
            "/_local/population",
            name="/_local/population",
            expect=(201,),
            json={"residents": [person.resident()]},
        )
        return added is not None

    def register(self, *, eligible_only: bool = False) -> str | None:
        """A new applicant registers and waits for the decision: VERIFIED, REJECTED or None.
        `eligible_only` passes over the students of the population, whom screening rejects."""
        person = next(p for p in run().people if not (eligible_only and p.employment_status == "STUDENT"))
        if not self.sign_up(person):
            return None
        created = self.send(
            "POST",
            "/v1/applicants",
            name="/v1/applicants",
            expect=(201,),
            json=person.registration(),
            headers={"Idempotency-Key": uuid.uuid4().hex},  # retries after a 429 count once
        )
        if created is None:
            return None
        return self.wait_for_decision()

    def wait_for_decision(self) -> str | None:
        timeout = run().settings.decision_timeout_seconds
        started = time.perf_counter()
        for poll in itertools.count():
            if time.perf_counter() - started > timeout:
                break
            time.sleep(POLL_SECONDS[min(poll, len(POLL_SECONDS) - 1)])
            profile = self.send("GET", "/v1/applicants/me", name="/v1/applicants/me")
            status = str(profile.json()["status"]) if profile is not None else None
            if status in DECIDED:
                self.journey(f"registration {status}", started)
                return status
        self.journey("registration decision", started, TimeoutError(f"no decision in {timeout:.0f} s"))
        return None

    def journey(self, name: str, started: float, exception: Exception | None = None) -> None:
        """A row of type JOURNEY: the time from `started` until now, over several requests."""
        self.environment.events.request.fire(
            request_type="JOURNEY",
            name=name,
            response_time=(time.perf_counter() - started) * 1000,
            response_length=0,
            exception=exception,
            context={},
        )


class RegistrationSurge(Applicant):
    """The launch peak: each task is a new applicant registering (one account, one profile)."""

    weight = 6
    wait_time = between(0.5, 2)

    @task
    def register_an_applicant(self) -> None:
        self.register()


class WaveJoiner(Applicant):
    """A new applicant on its way into the open wave: registered, verified, assessed, joined."""

    weight = 3
    wait_time = between(1, 3)

    @task
    def join_the_open_wave(self) -> None:
        if self.register(eligible_only=True) != "VERIFIED":
            return
        self.send("GET", "/v1/assessment", name="/v1/assessment")
        scored = self.send(
            "POST",
            "/v1/applicants/me/assessment",
            name="/v1/applicants/me/assessment",
            json=passing_answers(),
            headers={"Idempotency-Key": uuid.uuid4().hex},
        )
        if scored is None:
            return
        waves = self.send("GET", "/v1/waves", name="/v1/waves")
        listed = [str(w["wave_id"]) for w in waves.json()["items"]] if waves is not None else []
        wave_id = run().wave_id or next(iter(listed), None)
        if wave_id is None:
            LOG.warning("no open wave to join: set LOADTEST_WAVE_ID")
            raise StopUser
        joined = self.send("POST", f"/v1/waves/{wave_id}/join", name="/v1/waves/{wave_id}/join")
        if joined is not None:
            self.send("GET", "/v1/applicants/me", name="/v1/applicants/me")


class Buyer(Applicant):
    """A recipient shopping: mostly browsing, sometimes buying a course the card can pay for."""

    weight = 1
    wait_time = between(1, 3)

    def on_start(self) -> None:
        token = run().recipient_token()
        if token is None:
            LOG.warning("no recipients: Buyer stops (staging: `recipients` in LOADTEST_TOKENS_FILE)")
            raise StopUser
        self.token = token
        self.courses: list[dict[str, Any]] = []
        # A new card's first purchase is due within days: the recipient starts by buying, from
        # the whole catalog (a filtered page may hold nothing the card can pay for).
        self._browse({})
        self.buy()

    @task(5)
    def browse(self) -> None:
        filters: dict[str, Any] = random.choice(
            [{}, {"type": random.choice(COURSE_TYPES)}, {"category": random.choice(CATEGORIES)}]
        )
        if random.random() < 0.3:
            filters["q"] = random.choice(SEARCH_WORDS)
        self._browse(filters)

    def _browse(self, filters: dict[str, Any]) -> None:
        page = self.send("GET", "/v1/trainings", name="/v1/trainings", params=filters | {"limit": 20})
        if page is not None and page.json()["items"]:
            self.courses = list(page.json()["items"])

    @task(2)
    def look_at_a_course(self) -> None:
        if self.courses:
            course = random.choice(self.courses)
            self.send("GET", f"/v1/trainings/{course['training_id']}", name="/v1/trainings/{training_id}")

    @task(2)
    def buy(self) -> None:
        profile = self.send("GET", "/v1/applicants/me", name="/v1/applicants/me")
        card = profile.json().get("card") if profile is not None else None
        if not card:
            return
        affordable = [c for c in self.courses if int(c["price"]) <= int(card["training_balance"])]
        if not affordable:
            return  # the balance is spent, or this page has nothing cheap enough: browse on
        course = random.choice(affordable)
        self.send(
            "POST",
            "/v1/purchases",
            name="/v1/purchases",
            expect=(201,),
            # Another buyer on the same card may have spent the balance meanwhile.
            refusals=("INSUFFICIENT_BALANCE", "CARD_REVOKED"),
            json={"training_id": course["training_id"]},
            headers={"Idempotency-Key": uuid.uuid4().hex},
        )

    @task(1)
    def my_purchases(self) -> None:
        self.send("GET", "/v1/purchases", name="/v1/purchases")
