"""The simulation's report: the funnel per stage and per province, refusals by reason, payouts
by status and failure code, the time of each stage; as text, JSON and an HTML chart."""

from __future__ import annotations

import html
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from prakerja.registration.regions import PROVINCES
from tools.simulation.journey import Outcome

# Stage name -> whether an applicant's outcome reached it, in funnel order.
STAGES: list[tuple[str, Callable[[Outcome], bool]]] = [
    ("applied", lambda o: True),
    ("registered", lambda o: o.registered == 201),
    ("verified", lambda o: o.registered == 201 and o.status != "REJECTED" and o.status is not None),
    ("joined", lambda o: o.joined),
    ("selected", lambda o: o.joined and o.status == "SELECTED"),
    ("bought a course", lambda o: o.purchase_id is not None),
    ("completed it", lambda o: o.completed),
    ("paid", lambda o: any(p["status"] == "PAID" for p in o.payouts)),
]


@dataclass
class Report:
    applicants: int
    funnel: dict[str, int]
    provinces: dict[str, dict[str, int]]  # province code -> stage -> applicants
    refusals: dict[str, int]  # registration refused (HTTP) or rejected (screening), by code
    payouts: dict[str, int]  # by status
    failures: dict[str, int]  # FAILED payouts by failure code
    stage_seconds: dict[str, float]
    ledger: dict[str, Any]
    draw_verified: bool
    seconds: float
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def selected(self) -> int:
        return self.funnel["selected"]

    @property
    def paid(self) -> int:
        return self.funnel["paid"]

    def summary_line(self) -> str:
        return (
            f"demo: applicants={self.applicants} selected={self.selected} paid={self.paid} "
            f"ledger_balanced={str(bool(self.ledger.get('balanced'))).lower()} "
            f"draw_verified={str(self.draw_verified).lower()} seconds={self.seconds:.0f}"
        )


def funnel(outcomes: Sequence[Outcome]) -> dict[str, int]:
    return {name: sum(reached(o) for o in outcomes) for name, reached in STAGES}


def by_province(outcomes: Sequence[Outcome]) -> dict[str, dict[str, int]]:
    groups: dict[str, list[Outcome]] = {}
    for outcome in outcomes:
        groups.setdefault(outcome.applicant.province, []).append(outcome)
    return {code: funnel(group) for code, group in sorted(groups.items())}


def refusals(outcomes: Sequence[Outcome]) -> dict[str, int]:
    found: Counter[str] = Counter()
    for outcome in outcomes:
        if outcome.registration_code:
            found[outcome.registration_code] += 1
        if outcome.status == "REJECTED":
            found.update(outcome.reasons or ["(no reason given)"])
    return dict(found.most_common())


def payouts(outcomes: Sequence[Outcome]) -> tuple[dict[str, int], dict[str, int]]:
    statuses: Counter[str] = Counter()
    failures: Counter[str] = Counter()
    for outcome in outcomes:
        for payout in outcome.payouts:
            statuses[payout["status"]] += 1
            if payout["status"] == "FAILED":
                failures[str(payout.get("failure_code"))] += 1
    return dict(statuses.most_common()), dict(failures.most_common())


def text(report: Report) -> str:
    lines = ["", "Funnel"]
    top = max(report.funnel.values()) or 1
    for name, count in report.funnel.items():
        lines.append(f"  {name:<16} {count:>8,}  {count / top:6.1%}  {'#' * round(40 * count / top)}")
    lines += ["", "Per province (applied / verified / joined / selected / paid)"]
    for code, stages in sorted(report.provinces.items(), key=lambda item: -item[1]["applied"]):
        name = PROVINCES.get(code, code)
        row = " / ".join(f"{stages[s]:,}" for s in ("applied", "verified", "joined", "selected", "paid"))
        lines.append(f"  {code} {name:<28} {row}")
    lines += ["", "Refused or rejected, by code"]
    lines += [f"  {code:<28} {count:>6,}" for code, count in report.refusals.items()]
    lines += ["", "Payouts by status"]
    lines += [f"  {status:<28} {count:>6,}" for status, count in report.payouts.items()]
    lines += [f"    failed: {code:<20} {count:>6,}" for code, count in report.failures.items()]
    lines += ["", "Time per stage"]
    lines += [f"  {stage:<28} {seconds:>7.1f} s" for stage, seconds in report.stage_seconds.items()]
    ledger = report.ledger
    lines += [
        "",
        f"Ledger: balanced={ledger.get('balanced')} budget={ledger.get('budget', 0):,} "
        f"committed={ledger.get('committed', 0):,} disbursed={ledger.get('disbursed', 0):,} "
        f"in_transit={ledger.get('in_transit', 0):,}",
        f"Draw: {'VERIFIED' if report.draw_verified else 'NOT VERIFIED'} (tools/verify_draw.py on the published pages)",
    ]
    return "\n".join(lines)


def html_page(report: Report) -> str:
    """One self-contained page: the funnel as bars, and each province's funnel beside it."""
    bar_width = 520
    top = max(report.funnel.values()) or 1
    rows = []
    for i, (name, count) in enumerate(report.funnel.items()):
        width = max(1, round(bar_width * count / top))
        y = 10 + i * 34
        rows.append(
            f'<text x="0" y="{y + 17}">{html.escape(name)}</text>'
            f'<rect x="130" y="{y}" width="{width}" height="24" fill="#1f6f8b"/>'
            f'<text x="{136 + width}" y="{y + 17}">{count:,} ({count / top:.1%})</text>'
        )
    height = 20 + 34 * len(report.funnel)
    chart = f'<svg width="820" height="{height}" font-family="sans-serif" font-size="13">{"".join(rows)}</svg>'
    stages = [name for name, _ in STAGES]
    head = "".join(f"<th>{html.escape(s)}</th>" for s in stages)
    body = "".join(
        f"<tr><td>{code} {html.escape(PROVINCES.get(code, code))}</td>"
        + "".join(f"<td>{counts[s]:,}</td>" for s in stages)
        + "</tr>"
        for code, counts in sorted(report.provinces.items(), key=lambda item: -item[1]["applied"])
    )
    refused = "".join(f"<li>{html.escape(c)}: {n:,}</li>" for c, n in report.refusals.items())
    failed = "".join(f"<li>{html.escape(c)}: {n:,}</li>" for c, n in report.failures.items())
    times = "".join(f"<li>{html.escape(s)}: {t:.1f} s</li>" for s, t in report.stage_seconds.items())
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Prakerja simulation: {report.applicants:,} applicants</title>
<style>body{{font-family:sans-serif;margin:2em}}table{{border-collapse:collapse}}
td,th{{border:1px solid #ccc;padding:2px 8px;text-align:right}}td:first-child{{text-align:left}}</style></head>
<body><h1>Program cycle: {report.applicants:,} applicants</h1>
<p><code>{html.escape(report.summary_line())}</code></p>
<h2>Funnel</h2>{chart}
<h2>Per province</h2><table><tr><th>province</th>{head}</tr>{body}</table>
<h2>Refused or rejected, by code</h2><ul>{refused}</ul>
<h2>Payouts</h2><p>{", ".join(f"{s}: {n:,}" for s, n in report.payouts.items())}</p><ul>{failed}</ul>
<h2>Time per stage</h2><ul>{times}</ul>
</body></html>
"""
