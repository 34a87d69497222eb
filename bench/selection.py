"""The scalable draw (prakerja-draw-v1) as the selection workflow runs it, on a synthetic export.

One task per shard summarises it (HMAC of every eligible id), the merge computes the thresholds
from the summaries, one task per shard applies them (HMAC again, for the published keys). Tasks
run on a pool of processes (the Lambdas); summaries go through files (S3). Generating the export
(numpy arrays: uuid4-hex ids, province, priority, eligibility) is timed apart; turning a shard's
rows into Participant objects stands for reading the shard's export file and is measured.

Usage: python bench/selection.py --participants 10000000 [--places 800000] [--provinces 38]
       [--priority-share 0.02] [--shards 64] [--workers 2] [--check]
"""

from __future__ import annotations

import argparse
import multiprocessing
import resource
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "layers" / "shared"))

from prakerja.selection.draw import (  # noqa: E402
    Participant,
    ShardSummary,
    Thresholds,
    apply_shard,
    compute_thresholds,
    draw,
    summarize_shard,
)

SEED = "bench-selection-seed"
# Kemendagri province codes with their 2020 census population (millions, the Papua split of
# 2022 estimated): applicants follow population, so Jawa Barat gets ~18 % and Kalimantan Utara 0.3 %.
POPULATION = {
    "11": 5.27, "12": 14.80, "13": 5.53, "14": 6.39, "15": 3.55, "16": 8.47, "17": 2.01, "18": 9.01,
    "19": 1.46, "21": 2.06, "31": 10.56, "32": 48.27, "33": 36.52, "34": 3.67, "35": 40.67, "36": 11.90,
    "51": 4.32, "52": 5.32, "53": 5.33, "61": 5.41, "62": 2.67, "63": 4.07, "64": 3.77, "65": 0.70,
    "71": 2.62, "72": 2.99, "73": 9.07, "74": 2.62, "75": 1.17, "76": 1.42, "81": 1.85, "82": 1.28,
    "91": 1.06, "92": 0.56, "93": 0.52, "94": 1.45, "95": 1.45, "96": 0.60,
}  # fmt: skip
ELIGIBLE_SHARE = 0.9
CHUNK = 1 << 20


@dataclass(frozen=True)
class Export:
    codes: npt.NDArray[Any]  # object array of province codes
    ids: npt.NDArray[np.bytes_]  # S32
    province: npt.NDArray[np.uint16]
    priority: npt.NDArray[np.bool_]
    eligible: npt.NDArray[np.bool_]


# The export, set before the pool forks so that tasks share it copy-on-write (no pickling).
_SHARED: dict[str, Export] = {}


def provinces(count: int) -> dict[str, float]:
    by_size = sorted(POPULATION.items(), key=lambda item: -item[1])
    chosen = dict(by_size[:count])
    chosen.update({f"X{i}": min(POPULATION.values()) for i in range(count - len(chosen))})
    return chosen


def generate(n: int, weights: dict[str, float], priority_share: float) -> Export:
    """Vectorised, in chunks so that temporaries stay small: ids are uuid4 hex from random bytes."""
    rng = np.random.default_rng(20261122)
    hex_digits = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
    ids = np.empty((n, 32), dtype=np.uint8)
    province = np.empty(n, dtype=np.uint16)
    priority = np.empty(n, dtype=bool)
    eligible = np.empty(n, dtype=bool)
    p = np.array(list(weights.values()))
    for start in range(0, n, CHUNK):
        stop = min(n, start + CHUNK)
        raw = rng.integers(0, 256, size=(stop - start, 16), dtype=np.uint8)
        raw[:, 6] = (raw[:, 6] & 0x0F) | 0x40  # version 4
        raw[:, 8] = (raw[:, 8] & 0x3F) | 0x80  # RFC 4122 variant
        ids[start:stop, 0::2] = hex_digits[raw >> 4]
        ids[start:stop, 1::2] = hex_digits[raw & 0x0F]
        province[start:stop] = rng.choice(len(p), size=stop - start, p=p / p.sum())
        priority[start:stop] = rng.random(stop - start, dtype=np.float32) < priority_share
        eligible[start:stop] = rng.random(stop - start, dtype=np.float32) < ELIGIBLE_SHARE
    return Export(np.array(list(weights), dtype=object), ids.view("S32").ravel(), province, priority, eligible)


def rows(start: int, stop: int) -> Iterator[Participant]:
    """A shard of the export, streamed as a task would parse it from its file."""
    export = _SHARED["export"]
    ids = export.ids[start:stop].astype("U32").tolist()
    codes = export.codes[export.province[start:stop]].tolist()
    return map(Participant, ids, codes, export.priority[start:stop].tolist(), export.eligible[start:stop].tolist())


def summarize_task(job: tuple[int, int, str]) -> tuple[str, float]:
    start, stop, path = job
    t0 = time.perf_counter()
    Path(path).write_bytes(summarize_shard(SEED, rows(start, stop)).to_bytes())
    return path, time.perf_counter() - t0


def apply_task(job: tuple[int, int, str, bool]) -> tuple[npt.NDArray[np.int64], list[str], float]:
    start, stop, thresholds_json, keep_ids = job
    export = _SHARED["export"]
    t0 = time.perf_counter()
    decisions = apply_shard(SEED, rows(start, stop), Thresholds.from_json(thresholds_json))
    # Stands for writing the results: count them per province, keep the ids only to check.
    selected = np.fromiter((d.selected for d in decisions), dtype=bool, count=len(decisions))
    counts = np.bincount(export.province[start:stop][selected], minlength=len(export.codes))
    ids = [d.participant_id for d in decisions if d.selected] if keep_ids else []
    return counts, ids, time.perf_counter() - t0


def summaries(paths: list[str]) -> Iterator[ShardSummary]:
    for path in paths:
        yield ShardSummary.from_bytes(Path(path).read_bytes())


@dataclass
class Run:
    thresholds: Thresholds
    phases: dict[str, float]  # wall seconds
    task_seconds: dict[str, float]
    summary_bytes: int
    counts: dict[str, int]  # selected per province, as the apply tasks found
    selected_ids: set[str]


def run(n: int, shards: int, workers: int, places: int, quotas: dict[str, int], keep_ids: bool) -> Run:
    """The workflow: summarise every shard, merge, apply to every shard."""
    bounds = [n * i // shards for i in range(shards + 1)]
    with tempfile.TemporaryDirectory(prefix="draw-bench-") as tmp:
        start = time.perf_counter()
        pool = multiprocessing.get_context("fork").Pool(workers)
        jobs = [(bounds[i], bounds[i + 1], f"{tmp}/shard-{i:04d}.bin") for i in range(shards)]
        summarized = list(pool.imap_unordered(summarize_task, jobs))
        t1 = time.perf_counter()
        thresholds = compute_thresholds(summaries(sorted(path for path, _ in summarized)), places, quotas)
        t2 = time.perf_counter()
        applied = list(pool.imap_unordered(apply_task, [(a, b, thresholds.to_json(), keep_ids) for a, b, _ in jobs]))
        pool.close()
        pool.join()
        end = time.perf_counter()
        summary_bytes = sum(Path(path).stat().st_size for path, _ in summarized)
    codes = _SHARED["export"].codes.tolist()
    counts = np.zeros(len(codes), dtype=np.int64)
    for shard_counts, _, _ in applied:
        counts += shard_counts
    return Run(
        thresholds=thresholds,
        phases={"summarize": t1 - start, "merge": t2 - t1, "apply": end - t2, "total": end - start},
        task_seconds={"summarize": sum(s for _, s in summarized), "apply": sum(s for _, _, s in applied)},
        summary_bytes=summary_bytes,
        counts=dict(zip(codes, counts.tolist(), strict=True)),
        selected_ids={pid for _, ids, _ in applied for pid in ids},
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--participants", type=int, required=True)
    parser.add_argument("--places", type=int, default=800_000)
    parser.add_argument("--provinces", type=int, default=38)
    parser.add_argument("--priority-share", type=float, default=0.02)
    parser.add_argument("--provincial-share", type=float, default=0.8, help="share of places split in quotas")
    parser.add_argument("--shards", type=int, default=64)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--check", action="store_true", help="also run the reference draw() and compare")
    args = parser.parse_args()
    n = args.participants

    weights = provinces(args.provinces)
    total_weight = sum(weights.values())
    quotas = {code: int(args.places * args.provincial_share * w / total_weight) for code, w in weights.items()}

    t0 = time.perf_counter()
    _SHARED["export"] = generate(n, weights, args.priority_share)
    generation = time.perf_counter() - t0
    print(f"generated {n:,} participants in {generation:.2f} s ({args.provinces} provinces, {args.shards} shards)")

    result = run(n, args.shards, args.workers, args.places, quotas, args.check)
    thresholds, phases, tasks = result.thresholds, result.phases, result.task_seconds
    assert {k: v for k, v in result.counts.items() if v} == {
        k: v for k, v in thresholds.selected_by_province.items() if v
    }, "the apply tasks disagree with the merge"
    selected = sum(result.counts.values())
    assert selected == min(args.places, thresholds.eligible)

    self_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    children_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    seconds = phases["total"]
    print(f"eligible {thresholds.eligible:,}, selected {selected:,} ", end="")
    print(f"({thresholds.provincial_selected:,} provincial, {thresholds.national_selected:,} national)")
    print(f"summarize {phases['summarize']:6.2f} s  ({tasks['summarize']:.2f} s in {args.workers} workers' tasks)")
    print(f"merge     {phases['merge']:6.2f} s  (summaries {result.summary_bytes / 2**20:.1f} MiB)")
    print(f"apply     {phases['apply']:6.2f} s  ({tasks['apply']:.2f} s in {args.workers} workers' tasks)")
    print(f"wall {seconds:.2f} s excluding generation, {seconds / n * 1e6:.2f} us/participant")
    print(f"peak RSS: self {self_mb:.0f} MB, largest child {children_mb:.0f} MB (peak_rss_mb is their sum)")

    if args.check:
        reference = draw(SEED, rows(0, n), args.places, quotas)
        assert result.selected_ids == reference.selected, "sharded path != draw()"
        print("check: identical to the reference draw()")

    print(f"participants={n} seconds={seconds:.2f} peak_rss_mb={self_mb + children_mb:.0f}")


if __name__ == "__main__":
    main()
