"""What a program cycle costs on AWS, from the operation counts `make demo` measured.

    python -m tools.cost .local/demo/<run>            # the bill per 1 M applicants, markdown
    python -m tools.cost .local/demo/<run> --prices my-prices.json

Reads the run's report.json (applicants, beneficiaries) and usage.json (API requests, AWS
requests, function invocations and seconds, state transitions, notifications, log bytes), and
the synthesized template (each function's memory). Every count is scaled linearly from the
run's N to 1 M applicants; the method and its limits are in docs/cost.md.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = ROOT / "cdk.out" / "Prakerja-dev.template.json"
PER_MILLION = 1_000_000

# USD list prices, on-demand, no free tier (docs/cost.md says where each comes from; Jakarta,
# ap-southeast-3, is priced at or somewhat above these: pass --prices with its own).
PRICES: dict[str, float] = {
    "api_gateway_rest_per_million": 3.50,
    "waf_per_million_requests": 0.60,
    "lambda_per_million_requests": 0.20,
    "lambda_arm_per_gb_second": 0.0000133334,
    "dynamodb_per_million_write_units": 0.625,
    "dynamodb_per_million_read_units": 0.125,
    "step_functions_per_thousand_transitions": 0.025,
    "kms_per_10k_requests": 0.03,
    "secrets_manager_per_10k_requests": 0.05,
    "s3_per_thousand_puts": 0.005,
    "s3_per_thousand_gets": 0.0004,
    "logs_ingestion_per_gb": 0.50,
    "xray_per_million_traces": 5.00,
    "xray_sampled_share": 0.05,
    "sms_indonesia_per_message": 0.0400,
    "cognito_free_mau": 10_000,
}
# Cognito Lite, per monthly active user beyond the free ones, by tier: (users in the tier, price).
COGNITO_TIERS: list[tuple[float, float]] = [
    (90_000, 0.0055),
    (900_000, 0.0046),
    (9_000_000, 0.00325),
    (math.inf, 0.0025),
]

_DYNAMODB_WRITES = ("PutItem", "UpdateItem", "DeleteItem")
_DYNAMODB_READS = ("GetItem", "Query", "Scan")
_DYNAMODB_DATA = {*_DYNAMODB_WRITES, *_DYNAMODB_READS, "BatchGetItem", "BatchWriteItem", "TransactWriteItems"}
_KMS_CRYPTO = ("Encrypt", "Decrypt", "GenerateDataKey")


@dataclass(frozen=True)
class Line:
    service: str
    quantity: float  # per 1 M applicants
    unit: str
    usd: float


# service, quantity (quantities()), unit, price (PRICES), how many units the price is for
_LINES: list[tuple[str, str, str, str, float]] = [
    ("API Gateway (REST)", "api_requests", "requests", "api_gateway_rest_per_million", 1e6),
    ("AWS WAF", "api_requests", "requests", "waf_per_million_requests", 1e6),
    ("Lambda requests", "invocations", "invocations", "lambda_per_million_requests", 1e6),
    ("Lambda compute (arm64)", "gb_seconds", "GB-s", "lambda_arm_per_gb_second", 1),
    ("DynamoDB writes", "write_units", "WRU", "dynamodb_per_million_write_units", 1e6),
    ("DynamoDB reads", "read_units", "RRU", "dynamodb_per_million_read_units", 1e6),
    ("Step Functions", "transitions", "transitions", "step_functions_per_thousand_transitions", 1e3),
    ("KMS", "kms", "requests", "kms_per_10k_requests", 1e4),
    ("Secrets Manager", "secrets", "requests", "secrets_manager_per_10k_requests", 1e4),
    ("S3 writes", "s3_puts", "requests", "s3_per_thousand_puts", 1e3),
    ("S3 reads", "s3_gets", "requests", "s3_per_thousand_gets", 1e3),
    ("CloudWatch Logs", "log_gb", "GB ingested", "logs_ingestion_per_gb", 1),
    ("X-Ray", "traces", "traces", "xray_per_million_traces", 1e6),
    ("SMS notifications", "sms", "messages", "sms_indonesia_per_message", 1),
]


def bill(
    report: Mapping[str, Any], usage: Mapping[str, Any], memory_mb: Mapping[str, int], prices: Mapping[str, float]
) -> list[Line]:
    scale = PER_MILLION / int(report["applicants"])
    q = {name: n * scale for name, n in quantities(usage, memory_mb).items()}
    q["traces"] = q["api_requests"] * prices["xray_sampled_share"]
    lines = [Line(service, q[key], unit, q[key] / per * prices[price]) for service, key, unit, price, per in _LINES]
    # Every applicant signs in during the month of the surge: one monthly active user each.
    return [*lines, Line("Cognito (Lite)", PER_MILLION, "monthly active users", cognito(PER_MILLION, prices))]


def quantities(usage: Mapping[str, Any], memory_mb: Mapping[str, int]) -> dict[str, float]:
    """The run's billable quantities, unscaled."""
    aws, items, functions = usage["aws_requests"], usage.get("dynamodb_items", {}), usage["functions"]
    workflows = usage.get("workflows", {}).values()
    # Items up to 1 KB written and 4 KB read, reads strongly consistent: an upper bound for ours.
    writes = sum(aws.get(f"dynamodb:{op}", 0) for op in _DYNAMODB_WRITES) + items.get("dynamodb:BatchWriteItem", 0)
    reads = sum(aws.get(f"dynamodb:{op}", 0) for op in _DYNAMODB_READS) + items.get("dynamodb:BatchGetItem", 0)
    return {
        "api_requests": _api_requests(usage),
        "invocations": sum(f["invocations"] for f in functions.values()),
        "gb_seconds": sum(f["seconds"] * memory_mb.get(name, 1024) / 1024 for name, f in functions.items()),
        "write_units": writes + 2 * items.get("dynamodb:TransactWriteItems", 0),  # transactions: 2 units an item
        "read_units": reads + 2 * items.get("dynamodb:TransactGetItems", 0),
        "transitions": sum(w["executions"] * w["transitions_per_execution"] for w in workflows),
        "kms": sum(aws.get(f"kms:{op}", 0) for op in _KMS_CRYPTO),
        "secrets": aws.get("secretsmanager:GetSecretValue", 0),
        "s3_puts": aws.get("s3:PUT", 0),
        "s3_gets": aws.get("s3:GET", 0),
        "log_gb": (usage.get("log_bytes") or 0) / 1e9,
        "sms": usage.get("notifications", 0),
    }


def _api_requests(usage: Mapping[str, Any]) -> int:
    """What clients asked of the API; the local runtime's own /_local routes do not exist on AWS."""
    return sum(n for route, n in usage["api_requests"].items() if "/_local/" not in route)


def cognito(users: float, prices: Mapping[str, float]) -> float:
    left, usd = max(0.0, users - prices["cognito_free_mau"]), 0.0
    for size, price in COGNITO_TIERS:
        taken = min(left, size)
        usd, left = usd + taken * price, left - taken
    return usd


# The ops routes' function, by the construct id in its logical id (ApiFunctionsOpsApiFunction...).
OPS_FUNCTION = "OpsApiFunction"


def per_registration(usage: Mapping[str, Any], registered: int) -> dict[str, float]:
    """The operations one registration (sign-up to decision, polls included) causes."""
    at = usage.get("after_registration") or {}
    if not at or not registered:
        return {}
    aws = at["aws_requests"]
    # The operators' set-up (the catalog, the budget, the lists) is not the registrations' doing.
    functions = {name: f for name, f in at["functions"].items() if OPS_FUNCTION not in name}
    q = quantities({**at, "functions": functions}, {})
    data_operations = [op for op in aws if op.startswith("dynamodb:") and op.split(":")[1] in _DYNAMODB_DATA]
    counts = {
        "API requests": q["api_requests"],
        "Lambda invocations": q["invocations"],
        "Step Functions executions": aws.get("states:StartExecution", 0),
        "DynamoDB requests": sum(aws[op] for op in data_operations),
        "KMS requests": q["kms"],
        "Secrets Manager requests": q["secrets"],
        "DynamoDB write units": q["write_units"],
        "state transitions": _registration_transitions(usage) * aws.get("states:StartExecution", 0),
    }
    return {name: round(n / registered, 2) for name, n in counts.items()}


def _registration_transitions(usage: Mapping[str, Any]) -> float:
    """Transitions per execution of the registration workflow (prakerja-<stage>-registration)."""
    found = [w for name, w in usage.get("workflows", {}).items() if name.endswith("-registration")]
    return float(found[0]["transitions_per_execution"]) if found else 0.0


def memory_of_functions(template: Path) -> dict[str, int]:
    resources = json.loads(template.read_text(encoding="utf-8"))["Resources"]
    return {
        lid: int(r["Properties"].get("MemorySize", 128))
        for lid, r in resources.items()
        if r["Type"] == "AWS::Lambda::Function"
    }


def markdown(report: Mapping[str, Any], lines: Sequence[Line], per_reg: Mapping[str, float]) -> str:
    scale = PER_MILLION / int(report["applicants"])
    beneficiaries = report["funnel"]["selected"] * scale
    total = sum(line.usd for line in lines)
    out = [
        f"Measured on N = {report['applicants']:,} applicants ({report['funnel']['selected']:,} selected), "
        f"scaled to 1,000,000 applicants ({beneficiaries:,.0f} beneficiaries).",
        "",
        "| service | quantity per 1 M applicants | unit | USD |",
        "|---|---:|---|---:|",
        *(f"| {line.service} | {line.quantity:,.0f} | {line.unit} | {line.usd:,.2f} |" for line in lines),
        f"| **total** | | | **{total:,.2f}** |",
        "",
        f"Per applicant: USD {total / PER_MILLION:.4f}; per beneficiary: USD {total / beneficiaries:.4f}."
        if beneficiaries
        else "No beneficiaries in this run.",
    ]
    if per_reg:
        out += ["", "| one registration causes | |", "|---|---:|", *(f"| {k} | {v} |" for k, v in per_reg.items())]
    return "\n".join(out)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("run", type=Path, help="a `make demo` output directory (report.json, usage.json)")
    parser.add_argument("--prices", type=Path, help="JSON overriding some of the USD prices")
    parser.add_argument("--template", type=Path, default=TEMPLATE)
    args = parser.parse_args(argv)
    report = json.loads((args.run / "report.json").read_text(encoding="utf-8"))
    usage = json.loads((args.run / "usage.json").read_text(encoding="utf-8"))
    prices = PRICES | (json.loads(args.prices.read_text(encoding="utf-8")) if args.prices else {})
    lines = bill(report, usage, memory_of_functions(args.template), prices)
    print(markdown(report, lines, per_registration(usage, int(report["extra"].get("registered", 0)))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
