"""The selection workflow's files (S3 objects): names and formats.

selection/<wave>/shards.json         the Distributed Map's items: one descriptor per shard
selection/<wave>/export/<nn>.csv     a shard's participants as re-screened at close (written once)
selection/<wave>/summary/<nn>.bin    their draw orders (ShardSummary), for the merge
selection/<wave>/thresholds.json     the draw's result as thresholds (Thresholds)
draw/<wave>/<nn>/<pppp>.json         the published draw, in pages of PAGE_SIZE participants
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from prakerja.selection.draw import Decision, Participant

PAGE_SIZE = 1000
EXPORT_HEADER = ("participant_id", "province_code", "priority", "eligible", "reasons")


def shards_key(wave_id: str) -> str:
    return f"selection/{wave_id}/shards.json"


def parts_key(wave_id: str) -> str:
    return f"selection/{wave_id}/parts.json"


def export_key(wave_id: str, shard: int) -> str:
    return f"selection/{wave_id}/export/{shard:02d}.csv"


def summary_key(wave_id: str, shard: int) -> str:
    return f"selection/{wave_id}/summary/{shard:02d}.bin"


def thresholds_key(wave_id: str) -> str:
    return f"selection/{wave_id}/thresholds.json"


def draw_page_key(wave_id: str, shard: int, page: int) -> str:
    return f"draw/{wave_id}/{shard:02d}/{page:04d}.json"


@dataclass(frozen=True, slots=True)
class ExportRow:
    """A participant as the snapshot found it: eligible, or not with the reasons why."""

    participant_id: str
    province_code: str
    priority: bool
    reasons: tuple[str, ...] = ()

    @property
    def eligible(self) -> bool:
        return not self.reasons

    def participant(self) -> Participant:
        return Participant(self.participant_id, self.province_code, self.priority, self.eligible)


def export_csv(rows: Iterable[ExportRow]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(EXPORT_HEADER)
    for row in rows:
        writer.writerow(
            (row.participant_id, row.province_code, int(row.priority), int(row.eligible), ";".join(row.reasons))
        )
    return out.getvalue().encode()


def read_export(data: bytes) -> Iterator[ExportRow]:
    reader = csv.reader(io.StringIO(data.decode()))
    if tuple(next(reader, ())) != EXPORT_HEADER:
        raise ValueError("not a participant export")
    for participant_id, province_code, priority, eligible, reasons in reader:
        row = ExportRow(participant_id, province_code, priority == "1", tuple(filter(None, reasons.split(";"))))
        if row.eligible != (eligible == "1"):
            raise ValueError("export row contradicts itself")
        yield row


def draw_pages(shard: int, rows: list[ExportRow], decisions: list[Decision]) -> Iterator[tuple[int, bytes]]:
    """The published pages of one shard; at least one (possibly empty) so every shard is listed."""
    published = [
        {
            "participant_id": row.participant_id,
            "province_code": row.province_code,
            "priority": row.priority,
            "eligible": row.eligible,
            "key": decision.key,
            "selected": decision.selected,
        }
        for row, decision in zip(rows, decisions, strict=True)
    ]
    pages = max(1, -(-len(published) // PAGE_SIZE))
    for page in range(pages):
        body: dict[str, Any] = {
            "shard": shard,
            "page": page,
            "last": page == pages - 1,
            "participants": published[page * PAGE_SIZE : (page + 1) * PAGE_SIZE],
        }
        yield page, json.dumps(body, separators=(",", ":")).encode()
