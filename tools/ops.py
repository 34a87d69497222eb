"""Ops without the console: waves, workflow executions, failed payouts and the ledger.

    python -m tools.ops waves                       # every wave, newest first
    python -m tools.ops wave WAVE_ID                # one wave: counts per province, its draw
    python -m tools.ops executions [--workflow selection] [--status FAILED]
    python -m tools.ops execution ARN_OR_NAME       # its states and failures, from the history
    python -m tools.ops payouts --failed            # failed payouts per code, a few of each
    python -m tools.ops ledger                      # exit status 1 when it does not balance

Against the local runtime (`make run`, the default, http://127.0.0.1:3000) an ops token is
minted by `POST /_local/tokens` and Step Functions is the embedded moto (`GET /_local/aws`).
Against a deployed stage (`--stage staging`) the stack `Prakerja-<stage>`'s outputs give the
API URL and the state machines (AWS credentials from the usual places), and the ops user's ID
token comes from the environment variable PRAKERJA_OPS_TOKEN (docs/ops-cli.md). Tables by default;
`--json` for machines. Exit status 2 when something could not be read.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cached_property
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:
    from mypy_boto3_stepfunctions import SFNClient

LOCAL_API = "http://127.0.0.1:3000"
TOKEN_ENV = "PRAKERJA_OPS_TOKEN"  # noqa: S105 - the variable's name, not a token
LOCAL_OPS_EMAIL = "ops-cli@example.com"
# --workflow -> the stack output holding that state machine's ARN (infra/prakerja_infra/stack.py, its outputs).
WORKFLOWS = {
    "registration": "RegistrationStateMachineArn",
    "selection": "SelectionStateMachineArn",
    "payouts": "PayoutStateMachineArn",
    "reconciliation": "ReconciliationStateMachineArn",
    "card-deadlines": "CardDeadlinesStateMachineArn",
}
STATUSES = ("RUNNING", "SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED", "PENDING_REDRIVE")
FAILURE_CODES = (  # prakerja.payouts.models.FailureCode, for --code's choices
    "ACCOUNT_NOT_FOUND",
    "NAME_MISMATCH",
    "ACCOUNT_INACTIVE",
    "ACCOUNT_BLOCKED",
    "WALLET_NOT_UPGRADED",
    "WALLET_LIMIT_EXCEEDED",
    "ACCOUNT_NOT_VALID",
    "PARTNER_UNAVAILABLE",
    "PARTNER_REJECTED",
)
MAX_PAGE = 200  # API.md: ?limit= up to 200
CAUSE_SHOWN = 160  # characters of a failure's cause in a table (--json has all of it)


class OpsError(Exception):
    """Something could not be read: the message says what, for a person."""


# -- formatting ---------------------------------------------------------------------------------
def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """Aligned columns; numbers right-aligned, None shown as '-'."""
    cells = [[_cell(v) for v in row] for row in rows]
    numeric = [
        bool(rows) and all(isinstance(row[i], int) or row[i] is None for row in rows) for i in range(len(headers))
    ]
    widths = [max([len(h), *(len(row[i]) for row in cells)]) for i, h in enumerate(headers)]

    def line(values: Sequence[str]) -> str:
        parts = [v.rjust(w) if right else v.ljust(w) for v, w, right in zip(values, widths, numeric, strict=True)]
        return "  ".join(parts).rstrip()

    return "\n".join([line(headers), *(line(row) for row in cells)])


def _cell(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, datetime):
        return when(value) or "-"
    return str(value)


def rupiah(amount: int) -> str:
    return f"Rp {amount:,}" if amount >= 0 else f"-Rp {-amount:,}"


def when(moment: datetime | str | None) -> str | None:
    """A time as 'YYYY-MM-DD HH:MM:SSZ' in UTC (from an ISO string or an aware datetime)."""
    if moment is None:
        return None
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment.replace("Z", "+00:00"))
    if moment.tzinfo is not None:  # naive times are UTC already (the API's are all aware)
        moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%d %H:%M:%SZ")


def took(start: datetime | None, stop: datetime | None) -> str | None:
    """A duration as '1h02m', '3m05s' or '4.2s'."""
    if start is None or stop is None:
        return None
    seconds = (stop - start).total_seconds()
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, second = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes}m{second:02d}s"
    hours, minute = divmod(minutes, 60)
    return f"{hours}h{minute:02d}m"


def shorten(text: str, limit: int = CAUSE_SHOWN) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."


def execution_name(arn: str | None) -> str | None:
    """The name at the end of an execution ARN (what `execution` accepts too)."""
    return arn.rsplit(":", 1)[-1] if arn else None


def _json_default(value: object) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"not JSON: {type(value).__name__}")


def dump_json(document: object, out: TextIO) -> None:
    json.dump(document, out, indent=2, default=_json_default)
    out.write("\n")


# -- connections ------------------------------------------------------------------------------------
class Api:
    """The ops routes over HTTP (stdlib only), with the caller's bearer token."""

    def __init__(self, base_url: str, token: Callable[[], str], timeout: float = 60) -> None:
        if urllib.parse.urlsplit(base_url).scheme not in {"http", "https"}:
            raise OpsError(f"--api must be an http(s) URL, not {base_url!r}")
        self.base_url = base_url.rstrip("/")
        self._token = token
        self._timeout = timeout

    def get(self, path: str, **params: object) -> Any:
        return self.call("GET", path, params=params, token=self._token())

    def call(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, object] | None = None,
        body: object = None,
        token: str | None = None,
    ) -> Any:
        query = urllib.parse.urlencode({k: v for k, v in (params or {}).items() if v is not None})
        url = f"{self.base_url}{path}" + (f"?{query}" if query else "")
        headers = {"Accept": "application/json"}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        if token:
            headers["Authorization"] = f"Bearer {token}"
        request = urllib.request.Request(url, data=data, headers=headers, method=method)  # noqa: S310 (scheme checked)
        try:
            with urllib.request.urlopen(request, timeout=self._timeout) as response:  # noqa: S310 (scheme checked)
                return json.loads(response.read())
        except urllib.error.HTTPError as error:
            raise OpsError(f"{method} {path}: {error.code} {_problem(error)}") from None
        except (urllib.error.URLError, OSError) as error:
            local = urllib.parse.urlsplit(self.base_url).hostname in {"127.0.0.1", "localhost"}
            hint = "; is `make run` running?" if local else ""
            raise OpsError(f"cannot reach {self.base_url} ({error}){hint}") from None

    def pages(self, path: str, *, at_most: int | None = None, **params: object) -> Iterator[dict[str, Any]]:
        """The items of a list route (API.md: {items, next_token}), page after page; at most
        ``at_most`` of them (None: all)."""
        if at_most == 0:
            return
        size = MAX_PAGE if at_most is None else min(at_most, MAX_PAGE)
        token: str | None = None
        seen = 0
        while True:
            page = self.get(path, **params, limit=size, next_token=token)
            for item in page["items"]:
                if at_most is not None and seen >= at_most:
                    return
                seen += 1
                yield item
            token = page.get("next_token")
            if not token:
                return


def _problem(error: urllib.error.HTTPError) -> str:
    """The problem document's code and detail (RFC 9457), or the body's start."""
    raw = error.read()
    try:
        problem = json.loads(raw)
        return f"{problem.get('code', '')}: {problem.get('detail') or problem.get('title', '')}"
    except ValueError:
        return raw[:200].decode(errors="replace")


@dataclass
class Target:
    """Where the commands go: the local runtime (stage None) or a deployed stage."""

    api_url: str | None
    stage: str | None
    region: str | None

    @property
    def local(self) -> bool:
        return self.stage is None

    @cached_property
    def api(self) -> Api:
        url = self.api_url or (LOCAL_API if self.local else self._outputs().get("ApiUrl"))
        if not url:
            raise OpsError(f"the stack Prakerja-{self.stage} has no ApiUrl output; give --api")
        return Api(url, self._token)

    @cached_property
    def _token_value(self) -> str:
        given = os.environ.get(TOKEN_ENV)
        if given:
            return given
        if not self.local:
            raise OpsError(f"set {TOKEN_ENV} to an ops user's ID token (docs/ops-cli.md)")
        minted = self.api.call("POST", "/_local/tokens", body={"email": LOCAL_OPS_EMAIL, "groups": ["ops"]})
        return str(minted["token"])

    def _token(self) -> str:
        return self._token_value

    @cached_property
    def _local_aws(self) -> dict[str, Any]:
        described: dict[str, Any] = self.api.call("GET", "/_local/aws")
        return described

    def _outputs(self) -> dict[str, str]:
        if self.local:
            return dict(self._local_aws["outputs"])
        return self._stack_outputs

    @cached_property
    def _stack_outputs(self) -> dict[str, str]:
        import boto3  # noqa: PLC0415 - only the Step Functions commands need boto3
        from botocore.exceptions import BotoCoreError, ClientError  # noqa: PLC0415

        stack = f"Prakerja-{self.stage}"
        try:
            described = boto3.client("cloudformation", region_name=self.region).describe_stacks(StackName=stack)
        except (BotoCoreError, ClientError) as error:
            raise OpsError(f"cannot read the stack {stack}: {error}") from None
        return {o["OutputKey"]: o["OutputValue"] for o in described["Stacks"][0].get("Outputs", [])}

    def state_machines(self) -> dict[str, str]:
        """--workflow name -> state machine ARN."""
        outputs = self._outputs()
        return {name: outputs[key] for name, key in WORKFLOWS.items() if key in outputs}

    @cached_property
    def stepfunctions(self) -> SFNClient:
        if self.local:
            return local_client("stepfunctions", self._local_aws)  # type: ignore[no-any-return]
        import boto3  # noqa: PLC0415 - only the Step Functions commands need boto3

        return boto3.client("stepfunctions", region_name=self.region)


def local_client(service: str, aws: Mapping[str, Any]) -> Any:
    """A boto3 client of the local runtime's embedded AWS, as `GET /_local/aws` describes it."""
    import boto3  # noqa: PLC0415 - imported only by the commands that read AWS itself

    session = boto3.session.Session(
        aws_access_key_id="localcloud",
        aws_secret_access_key="localcloud",  # noqa: S106 - moto accepts anything
        region_name=aws["region"],
    )
    return session.client(service, endpoint_url=aws["endpoint_url"])  # type: ignore[call-overload]


# -- commands -----------------------------------------------------------------------------------------
def cmd_waves(target: Target, args: argparse.Namespace, out: TextIO) -> int:
    waves = list(target.api.pages("/v1/ops/waves", at_most=None if args.all else args.limit))
    if args.json:
        dump_json({"items": waves}, out)
        return 0
    rows = [
        (
            w["wave_id"],
            w["name"],
            w["status"],
            when(w["opens_at"]),
            when(w["closes_at"]),
            w["quota_total"],
            (w.get("result") or {}).get("participants"),
            (w.get("result") or {}).get("selected"),
            execution_name(w.get("execution_arn")),
        )
        for w in waves
    ]
    headers = ("WAVE", "NAME", "STATUS", "OPENS", "CLOSES", "QUOTA", "PARTICIPANTS", "SELECTED", "EXECUTION")
    print(table(headers, rows) if rows else "no waves", file=out)
    return 0


def cmd_wave(target: Target, args: argparse.Namespace, out: TextIO) -> int:
    wave = target.api.get(f"/v1/ops/waves/{urllib.parse.quote(args.wave_id, safe='')}")
    if args.json:
        dump_json(wave, out)
        return 0
    print(f"{wave['wave_id']}  {wave['name']}  {wave['status']}  scheme {wave['scheme']}", file=out)
    print(
        f"open {when(wave['opens_at'])} to {when(wave['closes_at'])}; closed {when(wave.get('closed_at')) or '-'}",
        file=out,
    )
    print(f"quota {wave['quota_total']:,}; selection execution {wave.get('execution_arn') or '-'}", file=out)
    result = wave.get("result")
    if result:
        print(
            f"draw published {when(result['published_at'])}: {result['participants']:,} participants, "
            f"{result['eligible']:,} eligible, {result['selected']:,} selected "
            f"({result['provincial_selected']:,} by provincial quota, {result['national_selected']:,} national)",
            file=out,
        )
    quotas: dict[str, int] = wave.get("quotas") or {}
    provinces: dict[str, dict[str, int | None]] = wave.get("provinces") or {}
    codes = sorted(set(quotas) | set(provinces))
    rows = [
        (
            code,
            quotas.get(code),
            provinces.get(code, {}).get("joined"),
            provinces.get(code, {}).get("eligible"),
            provinces.get(code, {}).get("selected"),
        )
        for code in codes
    ]
    print(file=out)
    print(table(("PROVINCE", "QUOTA", "JOINED", "ELIGIBLE", "SELECTED"), rows) if rows else "nobody joined", file=out)
    return 0


def cmd_executions(target: Target, args: argparse.Namespace, out: TextIO) -> int:
    machines = target.state_machines()
    wanted = [args.workflow] if args.workflow else list(machines)
    missing = [name for name in wanted if name not in machines]
    if missing:
        raise OpsError(f"the stack has no state machine for {', '.join(missing)}")
    found: list[dict[str, Any]] = []
    for workflow in wanted:
        found.extend(
            {"workflow": workflow, **e}
            for e in _executions(target.stepfunctions, machines[workflow], args.status, args.limit)
        )
    found.sort(key=lambda e: e["startDate"], reverse=True)
    found = found[: args.limit]
    if args.json:
        keys = ("workflow", "name", "executionArn", "status", "startDate", "stopDate")
        dump_json({"items": [{k: e.get(k) for k in keys} for e in found]}, out)
        return 0
    rows = [
        (
            e["workflow"],
            e["name"],
            e["status"],
            e["startDate"],
            e.get("stopDate"),
            took(e["startDate"], e.get("stopDate")),
        )
        for e in found
    ]
    headers = ("WORKFLOW", "EXECUTION", "STATUS", "STARTED", "STOPPED", "TOOK")
    print(table(headers, rows) if rows else "no executions", file=out)
    return 0


def _executions(sfn: SFNClient, machine_arn: str, status: str | None, limit: int) -> list[dict[str, Any]]:
    """The newest ``limit`` executions of a state machine (Step Functions lists newest first)."""
    found: list[dict[str, Any]] = []
    query: dict[str, Any] = {"stateMachineArn": machine_arn, "maxResults": min(limit, 1000)}
    if status:
        query["statusFilter"] = status
    while len(found) < limit:
        page = sfn.list_executions(**query)
        found.extend(dict(e) for e in page["executions"])
        if not page.get("nextToken"):
            break
        query["nextToken"] = page["nextToken"]
    return found[:limit]


def cmd_execution(target: Target, args: argparse.Namespace, out: TextIO) -> int:
    sfn = target.stepfunctions
    arn = args.execution if args.execution.startswith("arn:") else _find_execution(target, args.execution)
    try:
        described = sfn.describe_execution(executionArn=arn)
        events = [
            dict(e)
            for page in sfn.get_paginator("get_execution_history").paginate(executionArn=arn)
            for e in page["events"]
        ]
    except sfn.exceptions.ExecutionDoesNotExist:
        raise OpsError(f"no execution {arn}") from None
    summary = summarize_history(events)
    if args.json:
        keys = ("executionArn", "stateMachineArn", "name", "status", "startDate", "stopDate", "error", "cause")
        dump_json({"execution": {k: described.get(k) for k in keys}, **summary}, out)
        return 0
    start, stop = described["startDate"], described.get("stopDate")
    print(f"{described['name']}  {described['status']}", file=out)
    print(f"  {arn}", file=out)
    print(f"  started {when(start)}, stopped {when(stop)}, took {took(start, stop) or '-'}", file=out)
    if described.get("error"):
        print(f"  error {described['error']}: {shorten(str(described.get('cause') or ''))}", file=out)
    print(file=out)
    rows = [
        (s["state"], s["entered"], s["exited"], s["failed"], s["first_entered"], s["last_exited"])
        for s in summary["states"]
    ]
    headers = ("STATE", "ENTERED", "EXITED", "FAILED", "FIRST ENTERED", "LAST EXITED")
    print(table(headers, rows) if rows else "no states entered", file=out)
    failures = summary["failures"]
    print(file=out)
    if not failures:
        print("no failures", file=out)
        return 0
    print(f"failures ({len(failures)}; retried and caught ones included):", file=out)
    failed = [(f["at"], f["state"], f["event"], f["error"], shorten(f["cause"] or "")) for f in failures]
    print(table(("AT", "STATE", "EVENT", "ERROR", "CAUSE"), failed), file=out)
    return 0


def _find_execution(target: Target, name: str) -> str:
    """An execution named ``name`` in any of the workflows (an execution ARN is its state
    machine's ARN with ':execution:' and the name)."""
    sfn = target.stepfunctions
    for machine in target.state_machines().values():
        arn = f"{machine.replace(':stateMachine:', ':execution:', 1)}:{name}"
        try:
            sfn.describe_execution(executionArn=arn)
        except sfn.exceptions.ExecutionDoesNotExist:
            continue
        return arn
    raise OpsError(f"no workflow has an execution named {name!r}")


_FAILURE_EVENTS = ("Failed", "TimedOut", "Aborted")


def summarize_history(events: Sequence[Mapping[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Per state, in the order first entered: times entered, exited and failed, first entry and
    last exit; and every failure event with its error, cause and the state it happened in."""
    by_id = {int(e["id"]): e for e in events}
    states: dict[str, dict[str, Any]] = {}
    failures: list[dict[str, Any]] = []
    for event in events:
        kind = str(event["type"])
        if kind.endswith("StateEntered"):
            name = str(event["stateEnteredEventDetails"]["name"])
            state = states.setdefault(
                name,
                {"state": name, "entered": 0, "exited": 0, "failed": 0, "first_entered": None, "last_exited": None},
            )
            state["entered"] += 1
            state["first_entered"] = state["first_entered"] or event["timestamp"]
        elif kind.endswith("StateExited"):
            name = str(event["stateExitedEventDetails"]["name"])
            if name in states:
                states[name]["exited"] += 1
                states[name]["last_exited"] = event["timestamp"]
        elif kind.endswith(_FAILURE_EVENTS):
            details = next((v for k, v in event.items() if k.endswith("EventDetails") and isinstance(v, dict)), {})
            state_name = _state_of(event, by_id)
            if state_name in states and not kind.startswith("Execution"):  # the execution's own: not the state's
                states[state_name]["failed"] += 1
            failures.append(
                {
                    "at": event["timestamp"],
                    "state": state_name,
                    "event": kind,
                    "error": details.get("error"),
                    "cause": details.get("cause"),
                }
            )
    return {"states": list(states.values()), "failures": failures}


def _state_of(event: Mapping[str, Any], by_id: Mapping[int, Mapping[str, Any]]) -> str | None:
    """The state an event happened in: the nearest StateEntered up its previousEventId chain
    (right even when a Map's iterations interleave)."""
    seen = 0
    current: Mapping[str, Any] | None = event
    while current is not None and seen < len(by_id):
        if str(current["type"]).endswith("StateEntered"):
            return str(current["stateEnteredEventDetails"]["name"])
        previous = current.get("previousEventId")
        current = by_id.get(int(previous)) if previous else None
        seen += 1
    return None


def cmd_payouts(target: Target, args: argparse.Namespace, out: TextIO) -> int:
    counts = target.api.get("/v1/ops/payouts/failure-counts")
    by_code: dict[str, int] = counts["by_code"]
    codes = [args.code] if args.code else sorted(by_code, key=lambda c: (-by_code[c], c))
    examples: list[dict[str, Any]] = []
    for code in codes:
        if args.examples and by_code.get(code):
            examples.extend(
                target.api.pages("/v1/ops/payouts", at_most=args.examples, status="FAILED", failure_code=code)
            )
    if args.json:
        dump_json({"total": counts["total"], "by_code": by_code, "examples": examples}, out)
        return 0
    print(f"failed payouts: {counts['total']:,}", file=out)
    if not by_code:
        return 0
    print(file=out)
    print(table(("FAILURE CODE", "PAYOUTS"), [(code, by_code.get(code, 0)) for code in codes]), file=out)
    if examples:
        print(file=out)
        print(f"the newest {args.examples} of each code:", file=out)
        rows = [
            (
                p["failure_code"],
                p["payout_id"],
                p["applicant_id"],
                p["kind"],
                rupiah(int(p["amount"])),
                p.get("provider"),
                p["attempt"],
                when(p["failed_at"]),
            )
            for p in examples
        ]
        headers = ("FAILURE CODE", "PAYOUT", "APPLICANT", "KIND", "AMOUNT", "PROVIDER", "ATTEMPT", "FAILED AT")
        print(table(headers, rows), file=out)
    return 0


def cmd_ledger(target: Target, args: argparse.Namespace, out: TextIO) -> int:
    report = target.api.get("/v1/ops/ledger")
    balanced = bool(report["balanced"])
    if args.json:
        dump_json(report, out)
        return 0 if balanced else 1
    figures = (
        ("budget", "allocated from the state budget"),
        ("available", "allocated, not committed"),
        ("committed", "on cards and incentives due"),
        ("in_transit", "sent to payment partners, unconfirmed"),
        ("disbursed", "paid to platforms and applicants"),
        ("returned", "unused card balances returned"),
    )
    width = max(len(rupiah(int(report[name]))) for name, _ in figures)
    for name, meaning in figures:
        print(f"{name:<11} {rupiah(int(report[name])):>{width}}  {meaning}", file=out)
    verdict = "yes" if balanced else "NO"
    print(f"balanced    {verdict}: debits {rupiah(report['debits'])}, credits {rupiah(report['credits'])}", file=out)
    print(file=out)
    rows = [(a["account"], a["debits"], a["credits"], a["balance"]) for a in report["accounts"]]
    print(table(("ACCOUNT", "DEBITS", "CREDITS", "BALANCE"), rows), file=out)
    return 0 if balanced else 1


# -- command line ---------------------------------------------------------------------------------------
def _connection_options(parser: argparse.ArgumentParser, *, defaults: bool) -> None:
    """Accepted before and after the command; only the top level sets defaults, so that a
    command's parser does not overwrite what was given before it."""

    def default(value: object) -> object:
        return value if defaults else argparse.SUPPRESS

    parser.add_argument(
        "--api", default=default(None), help=f"API base URL (default {LOCAL_API}, or the stack's ApiUrl with --stage)"
    )
    parser.add_argument(
        "--stage", default=default(None), help="a deployed stage (dev, staging, prod): stack Prakerja-<stage>"
    )
    parser.add_argument("--region", default=default(None), help="the stage's AWS region (default: AWS configuration)")
    parser.add_argument("--json", action="store_true", default=default(False), help="JSON instead of tables")


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(
        prog="python -m tools.ops", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    _connection_options(top, defaults=True)
    common = argparse.ArgumentParser(add_help=False)
    _connection_options(common, defaults=False)
    commands = top.add_subparsers(dest="command", required=True, metavar="COMMAND")

    waves = commands.add_parser("waves", parents=[common], help="every wave, newest first")
    waves.add_argument("--limit", type=int, default=50, help="waves shown (default 50)")
    waves.add_argument("--all", action="store_true", help="every wave, page after page")
    waves.set_defaults(run=cmd_waves)

    wave = commands.add_parser("wave", parents=[common], help="one wave: counts per province, the draw, the execution")
    wave.add_argument("wave_id")
    wave.set_defaults(run=cmd_wave)

    executions = commands.add_parser("executions", parents=[common], help="workflow executions, newest first")
    executions.add_argument("--workflow", choices=sorted(WORKFLOWS), help="one workflow (default: all)")
    executions.add_argument("--status", choices=STATUSES, type=str.upper, help="only executions in this status")
    executions.add_argument("--limit", type=int, default=20, help="executions shown (default 20)")
    executions.set_defaults(run=cmd_executions)

    execution = commands.add_parser("execution", parents=[common], help="one execution's states and failures")
    execution.add_argument("execution", help="its ARN, or its name (looked up in every workflow)")
    execution.set_defaults(run=cmd_execution)

    payouts = commands.add_parser("payouts", parents=[common], help="failed payouts: counts per code and examples")
    payouts.add_argument("--failed", action="store_true", help="the failed payouts (the only ones ops list)")
    payouts.add_argument("--code", choices=FAILURE_CODES, type=str.upper, help="one failure code")
    payouts.add_argument("--examples", type=int, default=3, help="newest payouts shown per code (default 3)")
    payouts.set_defaults(run=cmd_payouts)

    ledger = commands.add_parser("ledger", parents=[common], help="budget, committed, disbursed, returned; balanced?")
    ledger.set_defaults(run=cmd_ledger)
    return top


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    arguments = parser()
    args = arguments.parse_args(argv)
    if args.command == "payouts" and not args.failed:
        arguments.error(
            "payouts: only --failed is listed (an applicant's payouts are theirs: /v1/applicants/me/payouts)"
        )
    for name in ("limit", "examples"):
        if getattr(args, name, 1) < 0:
            arguments.error(f"--{name} must be 0 or more")
    stage = None if args.stage in (None, "", "local") else args.stage
    target = Target(api_url=args.api, stage=stage, region=args.region)
    run: Callable[[Target, argparse.Namespace, TextIO], int] = args.run
    try:
        return run(target, args, out or sys.stdout)
    except OpsError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # `... | head`: the reader has seen enough
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":
    sys.exit(main())
