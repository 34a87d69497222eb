from __future__ import annotations

import hashlib
import json
import random
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from prakerja.selection.draw import ALGORITHM, Participant, draw, draw_key
from tools import verify_draw

ROOT = Path(__file__).resolve().parents[2]
SEED = "wave-7-secret-seed"
QUOTAS = {"32": 6, "35": 5, "94": 4}


def a_wave() -> list[Participant]:
    rng = random.Random(3)
    return [
        Participant(f"applicant-{i:03d}", rng.choice(["32", "35", "94", "11"]), rng.random() < 0.1, rng.random() < 0.85)
        for i in range(120)
    ]


def publish(participants: list[Participant], seed: str = SEED, quota_total: int = 25) -> dict[str, Any]:
    """The document GET /v1/waves/{id}/draw serves, in one page."""
    outcome = draw(seed, participants, quota_total, QUOTAS)
    return {
        "wave_id": "wave-7",
        "algorithm": ALGORITHM,
        "seed": seed,
        "seed_commitment": hashlib.sha256(seed.encode()).hexdigest(),
        "quota_total": quota_total,
        "quotas": QUOTAS,
        "participants": [
            {
                "participant_id": p.participant_id,
                "province_code": p.province_code,
                "priority": p.priority,
                "eligible": p.eligible,
                "key": draw_key(seed, p.participant_id),
                "selected": p.participant_id in outcome.selected,
            }
            for p in participants
        ],
        "next_token": None,
    }


def paginate(document: dict[str, Any], size: int) -> list[dict[str, Any]]:
    rows = document["participants"]
    pages = [dict(document, participants=rows[i : i + size]) for i in range(0, len(rows), size)]
    for number, page in enumerate(pages):
        page["next_token"] = f"t{number + 1}" if number + 1 < len(pages) else None
    return pages


def run(tmp_path: Path, capsys: pytest.CaptureFixture[str], *pages: dict[str, Any]) -> tuple[int, str]:
    paths = []
    for number, page in enumerate(pages):
        path = tmp_path / f"draw-{number}.json"
        path.write_text(json.dumps(page))
        paths.append(str(path))
    code = verify_draw.main(paths)
    return code, capsys.readouterr().out


def selected_row(document: dict[str, Any], province: str) -> dict[str, Any]:
    return next(r for r in document["participants"] if r["selected"] and r["province_code"] == province)


def test_a_correct_document_is_verified(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = run(tmp_path, capsys, publish(a_wave()))
    assert code == 0
    assert out.rstrip().endswith("VERIFIED")
    assert "participants 120" in out
    assert "      94         4" in out  # the per-province table: province, quota, ...


def test_pages_are_verified_together(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = run(tmp_path, capsys, *paginate(publish(a_wave()), 50))
    assert (code, out.rstrip().splitlines()[-1]) == (0, "VERIFIED")
    assert "3 page(s)" in out


def test_a_flipped_selection_is_a_mismatch(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    document = publish(a_wave())
    row = next(r for r in document["participants"] if r["eligible"] and not r["selected"])
    row["selected"] = True
    code, out = run(tmp_path, capsys, document)
    assert code == 1
    assert out.rstrip().endswith("MISMATCH")
    assert f"{row['participant_id']}: published selected=True, recomputed selected=False" in out


def test_a_selected_ineligible_participant_is_a_mismatch(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    document = publish(a_wave())
    row = next(r for r in document["participants"] if not r["eligible"])
    row["selected"] = True
    code, out = run(tmp_path, capsys, document)
    assert (code, out.rstrip().splitlines()[-1]) == (1, "MISMATCH")


def test_a_changed_key_is_invalid(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    document = publish(a_wave())
    row = document["participants"][17]
    row["key"] = "0" * 64
    code, out = run(tmp_path, capsys, document)
    assert code == 1
    assert out.rstrip().endswith("INVALID")
    assert f"wrong key: {row['participant_id']}" in out


def test_a_seed_that_does_not_match_the_commitment_is_invalid(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # A wave re-drawn with another seed, keys and all consistent, but not the committed seed.
    document = publish(a_wave(), seed="a-seed-chosen-after-the-fact")
    document["seed_commitment"] = hashlib.sha256(SEED.encode()).hexdigest()
    code, out = run(tmp_path, capsys, document)
    assert code == 1
    assert "seed_commitment" in out
    assert out.rstrip().endswith("INVALID")


def test_a_removed_participant_shows_as_someone_else_filling_the_quota(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    document = publish(a_wave())
    removed = selected_row(document, "32")
    document["participants"].remove(removed)
    code, out = run(tmp_path, capsys, document)
    assert code == 1
    assert out.rstrip().endswith("MISMATCH")
    assert "1 participants differ" in out
    assert "recomputed selected=True" in out
    assert removed["participant_id"] not in out


def test_other_algorithms_duplicates_and_inconsistent_pages_are_invalid(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    document = publish(a_wave())
    code, out = run(tmp_path, capsys, dict(document, algorithm="prakerja-draw-v2"))
    assert (code, out.rstrip().splitlines()[-1]) == (1, "INVALID")

    twice = dict(document, participants=document["participants"] + document["participants"][:1])
    code, out = run(tmp_path, capsys, twice)
    assert (code, "appear more than once" in out) == (1, True)

    first, second, third = paginate(document, 50)
    code, out = run(tmp_path, capsys, first, dict(second, quota_total=26), third)
    assert (code, "page 2 disagrees with page 1 on quota_total" in out) == (1, True)

    code, out = run(tmp_path, capsys, dict(document, quotas={"32": 20, "35": 20}))
    assert (code, "exceeds quota_total" in out) == (1, True)


def test_unreadable_input_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "broken.json").write_text("{")
    assert verify_draw.main([str(tmp_path / "broken.json")]) == 2
    assert verify_draw.main([str(tmp_path / "missing.json")]) == 2
    assert verify_draw.main(["--url", "ftp://example", "--wave", "w"]) == 2


@pytest.fixture
def api() -> Iterator[tuple[str, list[str]]]:
    """A public API serving the document in pages of 40, following next_token."""
    pages = paginate(publish(a_wave()), 40)
    requested: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            requested.append(self.path)
            url = urlsplit(self.path)
            token = parse_qs(url.query).get("next_token", ["t0"])[0]
            if url.path != "/v1/waves/wave-7/draw":
                self.send_error(404)
                return
            body = json.dumps(pages[int(token[1:])]).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", requested
    finally:
        server.shutdown()
        server.server_close()


def test_the_pages_can_be_fetched_from_the_api(api: tuple[str, list[str]], capsys: pytest.CaptureFixture[str]) -> None:
    url, requested = api
    assert verify_draw.main(["--url", url, "--wave", "wave-7"]) == 0
    assert capsys.readouterr().out.rstrip().endswith("VERIFIED")
    assert requested == [
        "/v1/waves/wave-7/draw",
        "/v1/waves/wave-7/draw?next_token=t1",
        "/v1/waves/wave-7/draw?next_token=t2",
    ]
    assert verify_draw.main(["--url", url, "--wave", "unknown"]) == 2


def test_an_auditor_needs_only_the_standard_library_and_the_draw_module(tmp_path: Path) -> None:
    (tmp_path / "draw.json").write_text(json.dumps(publish(a_wave())))
    harness = f"""
import runpy, sys
sys.argv = ["verify_draw.py", "draw.json"]
try:
    runpy.run_path({str(ROOT / "tools" / "verify_draw.py")!r}, run_name="__main__")
except SystemExit as exit:
    code = exit.code
foreign = sorted(
    m for m in sys.modules
    if m.split(".")[0] not in sys.stdlib_module_names and not m.startswith("_")
)
print(code, foreign)
"""
    # -I: no PYTHONPATH, no user site; run from elsewhere than the repository.
    result = subprocess.run(
        [sys.executable, "-I", "-c", harness], cwd=tmp_path, capture_output=True, text=True, check=True
    )
    last = result.stdout.strip().splitlines()[-1]
    assert last == "0 ['prakerja', 'prakerja.selection', 'prakerja.selection.draw']"
