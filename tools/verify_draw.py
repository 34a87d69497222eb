"""Check a wave's published draw (prakerja-draw-v1) by recomputing it.

    python tools/verify_draw.py draw.json [page-2.json ...]
    python tools/verify_draw.py --url https://api.example --wave WAVE_ID

Files are pages of ``GET /v1/waves/{wave_id}/draw``; with ``--url`` the pages are fetched,
following ``next_token``. Needs only Python's standard library and the open-source
``layers/shared/prakerja/selection/draw.py`` (the reference draw), found relative to this file.

Checks: the algorithm name; the seed against the commitment published before the wave closed;
every participant's key; then the selection, recomputed from (participant_id, province_code,
priority, eligible), against the published ``selected`` flags.
Exit status: 0 VERIFIED; 1 INVALID (the document contradicts itself or the commitment) or
MISMATCH (the published selection is not the draw's); 2 the input could not be read.
"""

from __future__ import annotations

import argparse
import json
import sys
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "layers" / "shared"))

from prakerja.selection.draw import (
    ALGORITHM,
    Participant,
    draw,
    draw_key,
    seed_commitment,
    validate_quotas,
)

HEADER_FIELDS = ("wave_id", "algorithm", "seed", "seed_commitment", "quota_total", "quotas")
ROW_FIELDS = {
    "participant_id": str,
    "province_code": str,
    "priority": bool,
    "eligible": bool,
    "key": str,
    "selected": bool,
}


class InputError(Exception):
    """The pages could not be read."""


@dataclass
class Published:
    """What the pages say, reduced to what the check needs (pages can hold millions of rows)."""

    header: dict[str, Any] = field(default_factory=dict)
    pages: int = 0
    participants: list[Participant] = field(default_factory=list)
    selected: set[str] = field(default_factory=set)
    problems: list[str] = field(default_factory=list)  # each makes the document INVALID
    wrong_keys: list[str] = field(default_factory=list)

    def add_page(self, page: Any) -> None:
        self.pages += 1
        if not isinstance(page, dict):
            self.problems.append(f"page {self.pages} is not a JSON object")
            return
        header = {name: page.get(name) for name in HEADER_FIELDS}
        if self.pages == 1:
            self.header = header
        else:
            self.problems.extend(
                f"page {self.pages} disagrees with page 1 on {name}"
                for name in HEADER_FIELDS
                if header[name] != self.header[name]
            )
        rows = page.get("participants")
        if not isinstance(rows, list):
            self.problems.append(f"page {self.pages} has no participants list")
            return
        seed = self.header["seed"]
        for number, row in enumerate(rows, 1):
            if not isinstance(row, dict) or any(not _is(row.get(n), t) for n, t in ROW_FIELDS.items()):
                self.problems.append(f"page {self.pages}, participant {number}: malformed {row!r:.200}")
                continue
            pid = row["participant_id"]
            self.participants.append(Participant(pid, row["province_code"], row["priority"], row["eligible"]))
            if row["selected"]:
                self.selected.add(pid)
            if isinstance(seed, str) and row["key"] != draw_key(seed, pid):
                self.wrong_keys.append(pid)


def _is(value: Any, kind: type) -> bool:
    # bool is an int subclass, and JSON true must not pass for a number nor 1 for true.
    return isinstance(value, kind) and (kind is bool or not isinstance(value, bool))


def read_files(paths: Iterable[str]) -> Iterator[Any]:
    for path in paths:
        try:
            yield json.loads(Path(path).read_bytes())
        except (OSError, ValueError) as error:
            raise InputError(f"{path}: {error}") from error


def fetch_pages(base_url: str, wave_id: str, timeout: float = 60) -> Iterator[Any]:
    """GET /v1/waves/{wave_id}/draw, then each ?next_token= page until there is none."""
    if urllib.parse.urlsplit(base_url).scheme not in {"http", "https"}:
        raise InputError(f"not an http(s) URL: {base_url}")
    url = f"{base_url.rstrip('/')}/v1/waves/{urllib.parse.quote(wave_id, safe='')}/draw"
    token: str | None = None
    seen: set[str] = set()
    while True:
        page_url = url if token is None else f"{url}?{urllib.parse.urlencode({'next_token': token})}"
        request = urllib.request.Request(page_url, headers={"Accept": "application/json"})  # noqa: S310 (scheme checked)
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 (scheme checked)
                page = json.load(response)
        except (urllib.error.URLError, OSError, ValueError) as error:
            raise InputError(f"{page_url}: {error}") from error
        yield page
        token = page.get("next_token") if isinstance(page, dict) else None
        if not token:
            return
        if token in seen:
            raise InputError(f"{page_url}: next_token {token!r} repeats")
        seen.add(token)


def _quota_problem(header: dict[str, Any]) -> str | None:
    quota_total, quotas = header.get("quota_total"), header.get("quotas")
    if (
        not isinstance(quota_total, int)
        or isinstance(quota_total, bool)
        or not isinstance(quotas, dict)
        or not all(_is(q, int) for q in quotas.values())
    ):
        return "quota_total and quotas must be integers"
    try:
        validate_quotas(quota_total, quotas)
    except ValueError as error:
        return f"quotas: {error}"
    return None


def _seed_problem(header: dict[str, Any]) -> str | None:
    seed = header.get("seed")
    if not isinstance(seed, str):
        return "no seed published"
    if seed_commitment(seed) != header.get("seed_commitment"):
        return "sha256(seed) differs from seed_commitment: not the seed committed to"
    return None


def verify(pages: Iterable[Any], out: TextIO | None = None, max_listed: int = 50) -> int:
    out = out or sys.stdout
    published = Published()
    for page in pages:
        published.add_page(page)
    if not published.pages:
        raise InputError("no page")
    header = published.header
    problems = list(published.problems)
    if header.get("algorithm") != ALGORITHM:
        problems.append(f"algorithm is {header.get('algorithm')!r}, this verifier checks {ALGORITHM!r}")
    seed_problem, quota_problem = _seed_problem(header), _quota_problem(header)
    problems += [problem for problem in (seed_problem, quota_problem) if problem]
    counts = Counter(p.participant_id for p in published.participants)
    duplicates = sorted(pid for pid, n in counts.items() if n > 1)
    if duplicates:
        problems.append(f"{len(duplicates)} participant ids appear more than once: {', '.join(duplicates[:10])}")
    if published.wrong_keys:
        problems.append(f"{len(published.wrong_keys)} published keys are not HMAC-SHA256(seed, participant_id)")

    print(f"wave {header.get('wave_id')}, {header.get('algorithm')}, {published.pages} page(s)", file=out)
    eligible = [p for p in published.participants if p.eligible]
    print(
        f"participants {len(published.participants):,}, eligible {len(eligible):,}, "
        f"priority {sum(p.priority for p in eligible):,} (eligible), "
        f"keys wrong {len(published.wrong_keys):,} of {len(published.participants):,}",
        file=out,
    )
    mismatches: list[str] = []
    # A wrong commitment or key still lets the draw be recomputed from the published seed.
    if isinstance(header.get("seed"), str) and not quota_problem and not duplicates:
        outcome = draw(header["seed"], published.participants, header["quota_total"], header["quotas"])
        mismatches = sorted(outcome.selected ^ published.selected)
        _print_provinces(header["quotas"], eligible, outcome.selected, published.selected, out)
        if mismatches:
            print(f"{len(mismatches):,} participants differ from the recomputed draw:", file=out)
            for pid in mismatches[:max_listed]:
                was = pid in published.selected
                print(f"  {pid}: published selected={was}, recomputed selected={not was}", file=out)
            if len(mismatches) > max_listed:
                print(f"  ... and {len(mismatches) - max_listed:,} more", file=out)
    for problem in problems:
        print(f"invalid: {problem}", file=out)
    for pid in published.wrong_keys[:max_listed]:
        print(f"  wrong key: {pid}", file=out)
    verdict = "INVALID" if problems else "MISMATCH" if mismatches else "VERIFIED"
    print(verdict, file=out)
    return 0 if verdict == "VERIFIED" else 1


def _print_provinces(
    quotas: dict[str, int], eligible: list[Participant], recomputed: frozenset[str], published: set[str], out: TextIO
) -> None:
    by_province = Counter(p.province_code for p in eligible)
    mine = Counter(p.province_code for p in eligible if p.participant_id in recomputed)
    theirs = Counter(p.province_code for p in eligible if p.participant_id in published)
    print(f"{'province':>8} {'quota':>9} {'eligible':>10} {'recomputed':>10} {'published':>10}", file=out)
    for code in sorted(set(by_province) | set(quotas)):
        quota = quotas.get(code)
        print(
            f"{code:>8} {'-' if quota is None else f'{quota:,}':>9} {by_province[code]:>10,} "
            f"{mine[code]:>10,} {theirs[code]:>10,}",
            file=out,
        )
    print(f"{'total':>8} {'':>9} {len(eligible):>10,} {len(recomputed):>10,} {len(published):>10,}", file=out)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("files", nargs="*", help="published draw pages (JSON)")
    parser.add_argument("--url", help="base URL of the public API")
    parser.add_argument("--wave", help="wave id, with --url")
    parser.add_argument("--max-listed", type=int, default=50, help="differences listed by id (default 50)")
    args = parser.parse_args(argv)
    if bool(args.url) == bool(args.files) or bool(args.url) != bool(args.wave):
        parser.error("give either page files or --url and --wave")
    pages = fetch_pages(args.url, args.wave) if args.url else read_files(args.files)
    try:
        return verify(pages, max_listed=args.max_listed)
    except InputError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
