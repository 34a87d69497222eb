"""A whole program cycle through the real API and workflows: `make demo N=2000`.

    python -m tools.simulation --applicants 2000 [--api http://127.0.0.1:3000] [--seed demo]

Without --api it starts the local runtime (`python -m localcloud`) on a free port and stops it
at the end. Stages: the civil registry and the agencies' exclusion lists are loaded; every
applicant signs up and registers (some are refused or rejected: population.py); a wave opens
with provincial quotas; the verified pass the assessment and join; the wave closes with its
seed and the draw is checked with tools/verify_draw.py; the selected buy courses that their
platforms redeem and complete; accounts are linked (some refused); a payout run pays the
incentives while the simulated partners fail, stay silent or repeat themselves; the ledger
must balance. Writes report.json, usage.json, funnel.html and draw-verification.txt to
.local/demo/<UTC time>/; the last line printed is `demo: applicants=N selected=S paid=P
ledger_balanced=... draw_verified=... seconds=T`.
"""

from __future__ import annotations

import argparse
import functools
import io
import json
import math
import os
import secrets
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from contextlib import contextmanager
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from tools.ops import local_client
from tools.simulation import journey, report
from tools.simulation.journey import Api, ApiError, Outcome
from tools.simulation.population import Applicant, build
from tools.verify_draw import InputError, fetch_pages, verify

ROOT = Path(__file__).resolve().parents[2]
OPS_EMAIL = "simulation-ops@example.com"
# The simulated payment partners' misbehaviour during the payout run (API.md, /_local/payment-faults).
PARTNER_FAULTS = {"provider": "*", "fail_rate": 0.03, "timeout_rate": 0.02, "duplicate_rate": 0.05, "seed": 2026}
SELECTED_SHARE = 0.6  # of those who join, the wave's quota
PROVINCIAL_SHARE = 0.5  # of the quota, reserved per province in proportion to who verified
USAGE_SAMPLE = 20  # executions per workflow whose history is read to count state transitions
# How long a transfer waits for its partner's callback before the workflow asks the partner.
# The runtime's default (5 s) suits a few transfers; hundreds at once queue their callbacks
# for longer, and each early check and re-wait would be counted as work AWS does not do.
CALLBACK_TIMEOUT_SECONDS = 60


class Simulation:
    def __init__(self, api: Api, applicants: Sequence[Applicant], workers: int, console: Console) -> None:
        self.api = api
        self.outcomes = [Outcome(a) for a in applicants]
        self.workers = workers
        self.console = console
        self.stage_seconds: dict[str, float] = {}
        self.ops = ""
        self.after_registration: dict[str, Any] = {}
        self.draw_verification = ""

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        started = time.monotonic()
        yield
        self.stage_seconds[name] = round(time.monotonic() - started, 1)
        self.console.print(f"{name}: {self.stage_seconds[name]:.1f} s")  # also where no bar shows (logs)

    def each(self, name: str, outcomes: Sequence[Outcome], step: Callable[[Outcome], None]) -> None:
        """Runs `step` for every outcome on the worker threads, with a progress bar."""
        columns = (TextColumn(f"{name:<28}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
        with self.stage(name), Progress(*columns, console=self.console) as progress:
            task = progress.add_task(name, total=len(outcomes))
            with ThreadPoolExecutor(self.workers) as pool:
                for done in as_completed([pool.submit(step, o) for o in outcomes]):
                    done.result()  # an unexpected answer stops the run
                    progress.advance(task)

    def run(self, seed: str) -> dict[str, Any]:
        api = self.api
        self.ops = api.token(OPS_EMAIL, ["ops"])
        with self.stage("civil registry and lists"):
            self._load_registry_and_lists()
        self.each("sign up and register", self.outcomes, lambda o: journey.register(api, o))
        registered = [o for o in self.outcomes if o.registered == 201]
        self.each("identity and eligibility", registered, lambda o: journey.await_decision(api, o))
        # What registering alone cost (docs/cost.md: the registration surge's capacity).
        self.after_registration = {"api_requests": dict(api.requests), **api.call("GET", "/_local/usage")}
        verified = [o for o in registered if o.status == "VERIFIED"]
        with self.stage("open the wave"):
            wave_id = journey.open_wave(api, self.ops, seed, *self._quotas(verified))
        self.each("assessment and joining", verified, lambda o: journey.join(api, o, wave_id))
        with self.stage("close the wave and draw"):
            api.call("POST", f"/v1/ops/waves/{wave_id}/close", self.ops, body={"seed": seed}, ok=(202,))
            wave = self._wait_for_selection(wave_id)
        with self.stage("verify the draw"):
            draw_verified = self._verify_draw(wave_id)
        joined = [o for o in verified if o.joined]
        self.each("read the results", joined, lambda o: journey.read_status(api, o))
        selected = [o for o in joined if o.status == "SELECTED"]
        courses = self._affordable_courses(selected[0].token) if selected else []
        now = self._program_now()
        self.each("buy, redeem, complete", selected, lambda o: journey.train(api, o, courses, now))
        reviewed = [o for o in selected if o.reviewed]
        self.each("link payout accounts", reviewed, lambda o: journey.link_account(api, o))
        with self.stage("payout run"):
            api.call("POST", "/_local/payment-faults", body=PARTNER_FAULTS)
            run = api.call("POST", "/v1/ops/payout-runs", self.ops, ok=(202,))
            self._wait_for_execution(str(run["execution_arn"]))
            api.call("POST", "/_local/payment-faults", body=PARTNER_FAULTS | {"fail_rate": 0, "timeout_rate": 0})
        self.each("read the payouts", reviewed, lambda o: journey.read_payouts(api, o))
        ledger = api.call("GET", "/v1/ops/ledger", self.ops)
        return {"wave": wave, "ledger": ledger, "draw_verified": draw_verified}

    def _load_registry_and_lists(self) -> None:
        residents = [o.applicant.resident for o in self.outcomes if o.applicant.resident is not None]
        for start in range(0, len(residents), 1000):
            self.api.call("POST", "/_local/population", body={"residents": residents[start : start + 1000]}, ok=(201,))
        listed: dict[str, list[str]] = {}
        for outcome in self.outcomes:
            if outcome.applicant.exclusion_source:
                listed.setdefault(outcome.applicant.exclusion_source, []).append(outcome.applicant.person.nik)
        for source, niks in listed.items():  # in parts that stay well under the 64 KiB body limit
            for start in range(0, len(niks), 1000):
                part = {"niks": niks[start : start + 1000]}
                self.api.call("POST", f"/v1/ops/exclusion-lists/{source}", self.ops, body=part, ok=(200, 201))

    def _quotas(self, verified: Sequence[Outcome]) -> tuple[int, dict[str, int]]:
        """The wave's places: a share of those verified, half of them reserved per province in
        proportion to each province's verified applicants, the rest national."""
        total = max(1, math.floor(len(verified) * SELECTED_SHARE))
        per_province = Counter(o.applicant.province for o in verified)
        quotas = {
            code: share
            for code, count in per_province.items()
            if (share := math.floor(total * PROVINCIAL_SHARE * count / len(verified))) > 0
        }
        return total, dict(sorted(quotas.items()))

    def _wait_for_selection(self, wave_id: str, timeout: float = 1800) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        with self.console.status("the selection workflow draws..."):
            while (wave := self.api.call("GET", f"/v1/ops/waves/{wave_id}", self.ops))["status"] != "SELECTED":
                if time.monotonic() > deadline:
                    raise ApiError(f"wave {wave_id} not SELECTED in {timeout:.0f} s")
                time.sleep(1)
        return dict(wave)

    def _verify_draw(self, wave_id: str) -> bool:
        """tools/verify_draw.py on the published pages, as an auditor would; its full output
        (per province) is kept as draw-verification.txt."""
        out = io.StringIO()
        try:
            verdict = verify(fetch_pages(self.api.url, wave_id), out=out)
        except InputError as error:
            out.write(f"error: {error}\n")
            verdict = 2
        self.draw_verification = out.getvalue()
        self.console.print(f"draw: {self.draw_verification.strip().splitlines()[-1]}")
        return verdict == 0

    def _affordable_courses(self, token: str) -> list[dict[str, Any]]:
        balance = int(self.api.call("GET", "/v1/applicants/me", token)["card"]["training_balance"])
        courses = self.api.call("GET", "/v1/trainings?limit=200", token)["items"]
        return sorted((c for c in courses if c["price"] <= balance), key=lambda c: str(c["training_id"]))

    def _program_now(self) -> datetime:
        now = str(self.api.call("GET", "/_local/clock")["now"])
        return datetime.fromisoformat(now.replace("Z", "+00:00"))

    def _wait_for_execution(self, arn: str, timeout: float = 1800) -> None:
        sfn = _stepfunctions(self.api)
        deadline = time.monotonic() + timeout
        with self.console.status("the payout workflow pays..."):
            while sfn.describe_execution(executionArn=arn)["status"] == "RUNNING":
                if time.monotonic() > deadline:
                    raise ApiError(f"payout run {arn} still running after {timeout:.0f} s")
                time.sleep(1)


@functools.cache  # one client per run: the payout wait and the usage count share it
def _stepfunctions(api: Api) -> Any:
    return local_client("stepfunctions", api.call("GET", "/_local/aws"))


def usage(api: Api, logs: Path | None) -> dict[str, Any]:
    """What AWS would bill for the cycle: the API requests made, the AWS requests and function
    time behind them (GET /_local/usage), the workflows' state transitions, counted in the
    history of a sample of each workflow's executions, the notifications (SMS on AWS) and the
    bytes the functions logged (CloudWatch Logs ingestion)."""
    sfn = _stepfunctions(api)
    measured = api.call("GET", "/_local/usage")
    notifications = len(api.call("GET", "/_local/outbox")["items"])
    logged = sum(f.stat().st_size for f in logs.glob("*.log")) if logs else None
    workflows: dict[str, Any] = {}
    for machine in sfn.list_state_machines()["stateMachines"]:
        arns = [
            e["executionArn"]
            for page in sfn.get_paginator("list_executions").paginate(stateMachineArn=machine["stateMachineArn"])
            for e in page["executions"]
        ]
        sample = arns[:: max(1, len(arns) // USAGE_SAMPLE)][:USAGE_SAMPLE]
        entered = [_states_entered(sfn, arn) for arn in sample]
        workflows[machine["name"]] = {
            "executions": len(arns),
            "sampled": len(sample),
            "transitions_per_execution": round(sum(entered) / len(entered), 2) if entered else 0,
        }
    return {
        "api_requests": dict(api.requests.most_common()),
        **measured,
        "workflows": workflows,
        "notifications": notifications,
        "log_bytes": logged,
    }


def _states_entered(sfn: Any, arn: str) -> int:
    pages = sfn.get_paginator("get_execution_history").paginate(executionArn=arn)
    return sum(e["type"].endswith("StateEntered") for page in pages for e in page["events"])


@contextmanager
def local_runtime(state_dir: Path, console: Console) -> Iterator[str]:
    """`python -m localcloud` on a free port, until the block ends: its API URL."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    state_dir.mkdir(parents=True, exist_ok=True)
    log_path = state_dir / "runtime.log"
    with open(log_path, "w", encoding="utf-8") as log:
        runtime = subprocess.Popen(  # noqa: S603 - our own module, with our own interpreter
            [
                *(sys.executable, "-m", "localcloud", "--port", str(port), "--state-dir", str(state_dir)),
                *("--env", f"PAYOUT_CALLBACK_TIMEOUT_SECONDS={CALLBACK_TIMEOUT_SECONDS}"),
            ],
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=os.environ | {"PYTHONUNBUFFERED": "1"},
        )
        try:
            with console.status(f"starting the local runtime (log: {log_path})..."):
                deadline = time.monotonic() + 300
                while "Ready in" not in log_path.read_text(encoding="utf-8", errors="replace"):
                    if runtime.poll() is not None or time.monotonic() > deadline:
                        raise RuntimeError(f"the local runtime did not start: see {log_path}")
                    time.sleep(0.5)
            yield f"http://127.0.0.1:{port}"
        finally:
            runtime.terminate()
            try:
                runtime.wait(60)
            except subprocess.TimeoutExpired:
                runtime.kill()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tools.simulation", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--applicants", "-n", type=int, default=2000)
    parser.add_argument("--api", help="a running local runtime (default: start one)")
    parser.add_argument("--seed", default="demo", help="the population's seed (the draw's seed is random)")
    parser.add_argument("--workers", type=int, default=32, help="concurrent applicants (default 32)")
    parser.add_argument("--out", type=Path, default=ROOT / ".local" / "demo")
    args = parser.parse_args(argv)
    if args.applicants < 1:
        parser.error("--applicants must be at least 1")
    started = time.monotonic()
    console = Console(stderr=True)
    out = args.out / datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    applicants = build(args.applicants, args.seed)
    console.print(f"{len(applicants):,} applicants: {dict(Counter(a.kind.value for a in applicants).most_common())}")
    with local_runtime(out / "runtime", console) if args.api is None else _given(args.api) as url:
        api = Api(url)
        simulation = Simulation(api, applicants, args.workers, console)
        ended = simulation.run(secrets.token_hex(16))
        measured = usage(api, out / "runtime" / "logs" if args.api is None else None)
        measured["after_registration"] = simulation.after_registration
    outcomes = simulation.outcomes
    statuses, failures = report.payouts(outcomes)
    ledger = ended["ledger"]
    accounted = ledger["budget"] == sum(
        ledger[k] for k in ("available", "committed", "in_transit", "disbursed", "returned")
    )
    result = report.Report(
        applicants=len(outcomes),
        funnel=report.funnel(outcomes),
        provinces=report.by_province(outcomes),
        refusals=report.refusals(outcomes),
        payouts=statuses,
        failures=failures,
        stage_seconds=simulation.stage_seconds,
        ledger={**{k: v for k, v in ledger.items() if k != "accounts"}, "balanced": ledger["balanced"] and accounted},
        draw_verified=ended["draw_verified"],
        seconds=time.monotonic() - started,
        extra={
            "kinds": dict(Counter(a.kind.value for a in applicants)),
            "wave": ended["wave"],
            "registered": sum(o.registered == 201 for o in outcomes),
        },
    )
    out.mkdir(parents=True, exist_ok=True)
    (out / "report.json").write_text(json.dumps(asdict(result), indent=2), encoding="utf-8")
    (out / "usage.json").write_text(json.dumps(measured, indent=2), encoding="utf-8")
    (out / "funnel.html").write_text(report.html_page(result), encoding="utf-8")
    (out / "draw-verification.txt").write_text(simulation.draw_verification, encoding="utf-8")
    print(report.text(result))
    print(f"\nreport.json, usage.json, funnel.html and draw-verification.txt in {out}")
    ok = result.ledger["balanced"] and result.draw_verified
    print(result.summary_line(), flush=True)
    return 0 if ok else 1


@contextmanager
def _given(url: str) -> Iterator[str]:
    yield url


if __name__ == "__main__":
    sys.exit(main())
