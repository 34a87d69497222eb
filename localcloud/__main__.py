"""`make run`: the stack on http://127.0.0.1:3000 without AWS, until Ctrl-C.

Top-level imports stay light: this module must not pull moto into Lambda worker processes.
"""

from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
import threading
import time
from datetime import date
from pathlib import Path
from types import FrameType

from localcloud.civil_registry import Resident

ROOT = Path(__file__).resolve().parents[1]
DEMO_PEOPLE = [  # (name, gender, age)
    ("Budi Santoso", "M", 24),
    ("Siti Rahayu", "F", 31),
    ("Agus Wijaya", "M", 38),
    ("Dewi Lestari", "F", 22),
    ("Rina Marlina", "F", 27),
]


def demo_population(today: date | None = None) -> list[Resident]:
    """Adults of Kota Bandung (32 73, district 01) with NIKs that agree with their data."""
    today = today or date.today()
    residents = []
    for serial, (name, gender, age) in enumerate(DEMO_PEOPLE, start=1):
        born = date(today.year - age, (serial * 2) % 12 + 1, 10 + serial)
        day = born.day + 40 if gender == "F" else born.day
        nik = f"327301{day:02d}{born.month:02d}{born.year % 100:02d}{serial:04d}"
        residents.append(Resident(nik, f"327301150118{serial:04d}", name, born, gender))
    return residents


def _curl_lines(api: str, demo: Resident) -> str:
    json_header = "-H 'Content-Type: application/json'"
    read_field = "python3 -c 'import json,sys; print(json.load(sys.stdin)[\"token\"])'"
    new_resident = {
        "nik": "3273015208990007",
        "kk_number": "3273011501180007",
        "full_name": "Wulan Sari",
        "date_of_birth": "1999-08-12",
        "gender": "F",
    }
    registration = {
        "nik": demo.nik,
        "kk_number": demo.kk_number,
        "full_name": demo.full_name,
        "date_of_birth": demo.date_of_birth.isoformat(),
        "gender": demo.gender,
        "phone": "081234567890",
        "email": "budi@example.com",
        "province_code": "32",
        "regency_code": "3273",
        "education_level": "SMA",
        "employment_status": "UNEMPLOYED",
    }
    return "\n".join(
        [
            f"  TOKEN=$(curl -s -X POST {api}/_local/tokens {json_header} "
            f'-d \'{{"email": "budi@example.com"}}\' | {read_field})',
            f"  curl -s -X POST {api}/_local/population {json_header} -d '{json.dumps({'residents': [new_resident]})}'",
            f'  curl -s -X POST {api}/v1/applicants -H "Authorization: Bearer $TOKEN" {json_header} '
            f"-d '{json.dumps(registration)}'",
            f'  curl -s {api}/v1/applicants/me -H "Authorization: Bearer $TOKEN"',
            f"  OPS=$(curl -s -X POST {api}/_local/tokens {json_header} "
            f'-d \'{{"email": "ops@example.com", "groups": ["ops"]}}\' | {read_field})',
        ]
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m localcloud", description=__doc__)
    parser.add_argument("--port", type=int, default=3000, help="API port (default 3000)")
    parser.add_argument("--moto-port", type=int, default=0, help="moto port (default: any free one)")
    parser.add_argument("--stage", default="dev", choices=["dev", "staging", "prod"])
    parser.add_argument("--state-dir", type=Path, default=ROOT / ".local", help="function logs go here")
    parser.add_argument(
        "--env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a function setting to override, e.g. PAYOUT_CALLBACK_TIMEOUT_SECONDS=30 (repeatable)",
    )
    args = parser.parse_args(argv)
    overrides = dict(setting.split("=", 1) for setting in args.env if "=" in setting)
    if len(overrides) != len(args.env):
        parser.error("--env takes NAME=VALUE")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s", datefmt="%H:%M:%S")

    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)

    started = time.monotonic()
    sys.path.insert(0, str(ROOT / "infra"))
    sys.path.insert(0, str(ROOT / "layers" / "shared"))  # the runtime answers problems like the API does
    from synth import ensure_synthesized  # noqa: PLC0415 - infra/ is not a package on the path

    template = ensure_synthesized(args.stage)
    from localcloud.runtime import LocalCloud  # noqa: PLC0415 - keeps moto out of worker imports

    cloud = LocalCloud(
        template, api_port=args.port, moto_port=args.moto_port, state_dir=args.state_dir, env_overrides=overrides
    )
    try:
        cloud.start()
        residents = demo_population()
        cloud.registry.add(residents)
        seeded = cloud.seed_demo()
        print(f"\nmoto (AWS APIs): {cloud.moto_url}")
        print(f"  aws --endpoint-url {cloud.moto_url} --region {cloud.region} dynamodb list-tables")
        print(f"\nresources of {template.name}:\n{cloud.resources.summary()}")
        print(f"\nAPI (stage {cloud.api.stage}): {cloud.api_url}")
        for route in cloud.api.routes():
            auth = " (Cognito)" if route.authorization == "COGNITO_USER_POOLS" else ""
            print(f"  {route.method:<7} {route.resource_path}{auth}")
        if cloud.clock.jobs:  # moto has no scheduler: POST /_local/clock fires them
            print("\nscheduled jobs (run when POST /_local/clock moves program time past them):")
            for job in cloud.clock.jobs:
                print(f"  {job.expression:<24} {job.rule} -> {job.state_machine}")
        print(f"\nfunction logs: {args.state_dir / 'logs'}")
        print(f"civil registry: {len(residents)} demo residents, e.g. {residents[0].full_name} {residents[0].nik}")
        print(f"catalog: {seeded['courses']} demo courses; budget Rp {seeded['budget']:,} allocated")
        print(f"partners and their signing secrets: {cloud.api_url}/_local/partners")
        print(f"ops from the command line: python -m tools.ops --api {cloud.api_url} waves (executions, ledger...)")
        print(f"\ntry:\n{_curl_lines(cloud.api_url, residents[0])}")
        print(f"\nReady in {time.monotonic() - started:.1f}s (Ctrl-C stops)", flush=True)
        while not stop.wait(0.5):
            pass
    finally:
        print("stopping...", flush=True)
        cloud.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
