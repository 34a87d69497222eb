"""The program the local runtime starts with: a budget allocation and a course catalog on the
seven platforms (demo_catalog.json), added through the ops API as an operator would."""

from __future__ import annotations

import json
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

CATALOG_FILE = Path(__file__).with_name("demo_catalog.json")
DEMO_OPS_EMAIL = "ops@prakerja.local"
DEMO_BUDGET_RUPIAH = 20_000_000_000_000  # Rp 20 trillion
DEMO_BUDGET = {"reference": "APBN-DEMO-PRAKERJA", "amount": DEMO_BUDGET_RUPIAH}


def demo_catalog() -> list[dict[str, Any]]:
    courses: list[dict[str, Any]] = json.loads(CATALOG_FILE.read_text(encoding="utf-8"))
    return courses


def _post(url: str, token: str, body: dict[str, Any]) -> int:
    request = urllib.request.Request(  # noqa: S310 - the runtime's own http://127.0.0.1 API
        url,
        data=json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310
            return int(response.status)
    except urllib.error.HTTPError as refused:
        return int(refused.code)


def seed_demo_program(api_url: str, ops_token: str) -> dict[str, int]:
    allocated = _post(f"{api_url}/v1/ops/ledger/allocations", ops_token, DEMO_BUDGET)
    if allocated not in (201, 409):  # 409: allocated before
        raise RuntimeError(f"the demo budget was refused ({allocated})")
    with ThreadPoolExecutor(8) as pool:
        statuses = list(pool.map(lambda c: _post(f"{api_url}/v1/ops/trainings", ops_token, c), demo_catalog()))
    if any(status != 201 for status in statuses):
        raise RuntimeError(f"demo courses refused: {sorted(set(statuses))}")
    return {"courses": len(statuses), "budget": DEMO_BUDGET_RUPIAH}
