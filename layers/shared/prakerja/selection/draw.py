"""The draw of a wave, ``prakerja-draw-v1``: public so that anyone can recompute a result.

1. ``key`` = lowercase hex HMAC-SHA256(key = seed UTF-8, message = participant id UTF-8).
2. Only eligible participants take part, ordered by (not priority, key) ascending.
3. Each province with a quota selects its participants in that order until the quota is full.
4. The remaining national places (``quota_total`` minus those selected in 3) go to the
   participants not yet selected, any province, in the same order.

Two implementations:

- :func:`draw`, the reference: a plain sort. The verifier and small waves use it.
- The scalable path for waves of millions split over shards (one Lambda per shard, a merge,
  one Lambda per shard again). Since the order is total, the result is fully described by
  thresholds: ``T_p`` = order of province p's ``q_p``-th eligible participant, ``T_nat`` = order
  of the R-th participant left after step 3 (R = national places). Participant x is selected
  iff (x's province has a quota and order(x) <= T_p) or (not so and order(x) <= T_nat).
  :func:`summarize_shard` -> :func:`compute_thresholds` -> :func:`apply_shard`.

  The scalable path orders by (not priority, first 128 bits of the HMAC) instead of the full
  256-bit key. That ordering is a coarsening of the exact one, so it can only differ where two
  participants share a 128-bit prefix (a duplicate id, or a 2^-128 accident). Such a tie only
  matters at a threshold, and :func:`compute_thresholds` refuses any tie among the candidates
  it keeps, so the path gives exactly the reference result or raises :class:`DrawCollision`.

numpy is imported only by the scalable path, so that the reference draw and the verifier
run on a bare Python.
"""

from __future__ import annotations

import gc
import hashlib
import hmac
import json
import struct
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Any, Literal, NamedTuple, Self

if TYPE_CHECKING:
    from _hashlib import HASH

    import numpy as np
    import numpy.typing as npt

ALGORITHM = "prakerja-draw-v1"

Via = Literal["PROVINCIAL", "NATIONAL"]
PROVINCIAL: Via = "PROVINCIAL"
NATIONAL: Via = "NATIONAL"

# Order values of the scalable path as one int: (not priority) << 128 | first 128 key bits.
# Thresholds use two sentinels outside that range: nobody qualifies / everybody does.
NOBODY = -1
EVERYBODY = 2 << 128
_WORD = (1 << 64) - 1


@dataclass(frozen=True, slots=True)
class Participant:
    participant_id: str
    province_code: str
    priority: bool
    eligible: bool


@dataclass(frozen=True)
class DrawOutcome:
    selected: frozenset[str]
    # Every province with a quota (0 when none selected) and every province with a selection.
    selected_by_province: dict[str, int]
    provincial: frozenset[str]
    national: frozenset[str]


class DrawCollision(ValueError):
    """Two candidates share a 128-bit order: a duplicate participant (or a 2^-128 accident)."""


def seed_commitment(seed: str) -> str:
    return hashlib.sha256(seed.encode()).hexdigest()


def draw_key(seed: str, participant_id: str) -> str:
    return hmac.new(seed.encode(), participant_id.encode(), hashlib.sha256).hexdigest()


def draw_order(seed: str, participant_id: str, priority: bool) -> int:
    """The scalable path's order value of one participant (see :data:`EVERYBODY`)."""
    digest = hmac.digest(seed.encode(), participant_id.encode(), "sha256")
    return (0 if priority else 1) << 128 | int.from_bytes(digest[:16], "big")


def validate_quotas(quota_total: int, quotas: Mapping[str, int]) -> None:
    if quota_total < 0:
        raise ValueError("quota_total must be >= 0")
    if any(quota < 0 for quota in quotas.values()):
        raise ValueError("quotas must be >= 0")
    if sum(quotas.values()) > quota_total:
        raise ValueError("the sum of quotas exceeds quota_total")


def draw(seed: str, participants: Iterable[Participant], quota_total: int, quotas: Mapping[str, int]) -> DrawOutcome:
    """The reference implementation: sort, then fill the provincial and national places."""
    validate_quotas(quota_total, quotas)
    everyone = list(participants)
    if len({p.participant_id for p in everyone}) != len(everyone):
        raise ValueError("duplicate participant_id")
    ordered = sorted(
        (p for p in everyone if p.eligible),
        key=lambda p: (not p.priority, draw_key(seed, p.participant_id)),
    )
    provincial: list[Participant] = []
    filled = dict.fromkeys(quotas, 0)
    for p in ordered:
        if p.province_code in quotas and filled[p.province_code] < quotas[p.province_code]:
            filled[p.province_code] += 1
            provincial.append(p)
    taken = {p.participant_id for p in provincial}
    national_places = quota_total - len(provincial)
    national = [p for p in ordered if p.participant_id not in taken][:national_places]
    by_province = dict.fromkeys(quotas, 0)
    by_province.update(Counter(p.province_code for p in provincial + national))
    return DrawOutcome(
        selected=frozenset(taken | {p.participant_id for p in national}),
        selected_by_province=by_province,
        provincial=frozenset(taken),
        national=frozenset(p.participant_id for p in national),
    )


# --- scalable path -----------------------------------------------------------------------

_IPAD = bytes(x ^ 0x36 for x in range(256))
_OPAD = bytes(x ^ 0x5C for x in range(256))


def _keyed_pads(seed: str) -> tuple[HASH, HASH]:
    """HMAC-SHA256 (RFC 2104) as two pre-keyed hashlib objects to copy per message: ~0.9-1.2 us
    an id on the bench machine, against ~1.7 us for ``hmac.new(...).copy()`` and ~2.9 us for a
    fresh HMAC, on the path that hashes millions. Tests check it against :mod:`hmac`."""
    key = seed.encode()
    if len(key) > 64:  # the SHA-256 block size
        key = hashlib.sha256(key).digest()
    key = key.ljust(64, b"\0")
    return hashlib.sha256(key.translate(_IPAD)), hashlib.sha256(key.translate(_OPAD))


def _order_words(digests: bytes) -> tuple[npt.NDArray[np.uint64], npt.NDArray[np.uint64]]:
    """The first two big-endian 64-bit words of each 32-byte digest."""
    import numpy as np  # noqa: PLC0415

    words = np.frombuffer(digests, dtype=">u8").reshape(-1, 4)
    return words[:, 0].astype(np.uint64), words[:, 1].astype(np.uint64)


def _split(order: int) -> tuple[int, int, int]:
    """An order value (or sentinel) as (rank, high word, low word); NOBODY ranks -1."""
    if order < 0:
        return -1, 0, 0
    return order >> 128, (order >> 64) & _WORD, order & _WORD


def _at_most(
    rank: npt.NDArray[Any],
    hi: npt.NDArray[np.uint64],
    lo: npt.NDArray[np.uint64],
    t_rank: npt.NDArray[np.int16],
    t_hi: npt.NDArray[np.uint64],
    t_lo: npt.NDArray[np.uint64],
) -> npt.NDArray[np.bool_]:
    """Elementwise (rank, hi, lo) <= (t_rank, t_hi, t_lo), lexicographically."""
    rank16 = rank.astype("i2")
    result: npt.NDArray[np.bool_] = (rank16 < t_rank) | (
        (rank16 == t_rank) & ((hi < t_hi) | ((hi == t_hi) & (lo <= t_lo)))
    )
    return result


_SUMMARY_MAGIC = b"PKDRAWS1"
_SUMMARY_HEAD = struct.Struct("<8sI")


@dataclass(frozen=True, eq=False)
class ShardSummary:
    """The eligible participants of one shard as order arrays, without their ids: 19 bytes a
    participant, so the merge can hold what it needs of a whole wave."""

    seed_commitment: str
    participants: int  # rows read, eligible or not
    joined_by_province: dict[str, int]  # rows read per province, eligible or not
    provinces: tuple[str, ...]  # province_index -> province code
    rank: npt.NDArray[np.uint8]  # 0 priority, 1 not: the first element of the order
    hi: npt.NDArray[np.uint64]  # key bits 0-63
    lo: npt.NDArray[np.uint64]  # key bits 64-127
    province_index: npt.NDArray[np.uint16]

    def __len__(self) -> int:
        return len(self.rank)

    def to_bytes(self) -> bytes:
        header = json.dumps(
            {
                "algorithm": ALGORITHM,
                "seed_commitment": self.seed_commitment,
                "participants": self.participants,
                "joined_by_province": self.joined_by_province,
                "provinces": list(self.provinces),
                "eligible": len(self),
            },
            separators=(",", ":"),
        ).encode()
        return b"".join(
            (
                _SUMMARY_HEAD.pack(_SUMMARY_MAGIC, len(header)),
                header,
                self.hi.astype("<u8").tobytes(),
                self.lo.astype("<u8").tobytes(),
                self.rank.astype("u1").tobytes(),
                self.province_index.astype("<u2").tobytes(),
            )
        )

    @classmethod
    def from_bytes(cls, data: bytes) -> Self:
        import numpy as np  # noqa: PLC0415

        magic, header_size = _SUMMARY_HEAD.unpack_from(data)
        if magic != _SUMMARY_MAGIC:
            raise ValueError("not a prakerja-draw-v1 shard summary")
        start = _SUMMARY_HEAD.size
        header = json.loads(data[start : start + header_size])
        n = header["eligible"]
        offset = start + header_size
        if header["algorithm"] != ALGORITHM or len(data) != offset + 19 * n:
            raise ValueError("corrupt shard summary")
        hi = np.frombuffer(data, "<u8", n, offset).astype(np.uint64)
        lo = np.frombuffer(data, "<u8", n, offset + 8 * n).astype(np.uint64)
        rank = np.frombuffer(data, "u1", n, offset + 16 * n).copy()
        province_index = np.frombuffer(data, "<u2", n, offset + 17 * n).astype(np.uint16)
        provinces = tuple(header["provinces"])
        if n and (int(rank.max()) > 1 or int(province_index.max()) >= len(provinces)):
            raise ValueError("corrupt shard summary")
        return cls(
            seed_commitment=header["seed_commitment"],
            participants=header["participants"],
            joined_by_province=header["joined_by_province"],
            provinces=provinces,
            rank=rank,
            hi=hi,
            lo=lo,
            province_index=province_index,
        )


@contextmanager
def _gc_paused() -> Iterator[None]:
    """The hot loops allocate millions of acyclic objects (the caller's Participants too, when
    streamed); the garbage collections that triggers rescan everything alive and cost about as
    much as the hashing. Nothing created there needs the cycle collector."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def summarize_shard(seed: str, participants: Iterable[Participant]) -> ShardSummary:
    """One pass over a shard: the order of each eligible participant and its province."""
    import numpy as np  # noqa: PLC0415

    inner, outer = _keyed_pads(seed)
    inner_copy, outer_copy = inner.copy, outer.copy
    provinces: dict[str, int] = {}
    where: list[int] = []  # every row's province index
    eligible: list[bool] = []
    ranks: list[bool] = []
    digests: list[bytes] = []  # eligible rows only
    with _gc_paused():
        for p in participants:
            code = p.province_code
            index = provinces.get(code)
            if index is None:
                index = provinces[code] = len(provinces)
            where.append(index)
            eligible.append(p.eligible)
            ranks.append(not p.priority)
            if p.eligible:
                mac = inner_copy()
                mac.update(p.participant_id.encode())
                outer_mac = outer_copy()
                outer_mac.update(mac.digest())
                digests.append(outer_mac.digest())
    if len(provinces) > 1 << 16:
        raise ValueError("too many provinces")
    province_index = np.array(where, dtype=np.uint16)
    is_eligible = np.array(eligible, dtype=bool)
    hi, lo = _order_words(b"".join(digests))
    return ShardSummary(
        seed_commitment=seed_commitment(seed),
        participants=len(where),
        joined_by_province=dict(
            zip(provinces, np.bincount(province_index, minlength=len(provinces)).tolist(), strict=True)
        ),
        provinces=tuple(provinces),
        rank=np.array(ranks, dtype=np.uint8)[is_eligible],
        hi=hi,
        lo=lo,
        province_index=province_index[is_eligible],
    )


class _Smallest:
    """The k smallest orders pushed so far, with their province, in O(k) memory: chunks are
    buffered and cut back to k whenever the buffer passes 2k (amortised linear time)."""

    def __init__(self, k: int) -> None:
        self.k = k
        self._chunks: list[tuple[npt.NDArray[Any], ...]] = []
        self._buffered = 0

    def push(
        self,
        rank: npt.NDArray[np.uint8],
        hi: npt.NDArray[np.uint64],
        lo: npt.NDArray[np.uint64],
        province: npt.NDArray[np.uint16],
    ) -> None:
        if self.k == 0 or len(rank) == 0:
            return
        self._chunks.append((rank, hi, lo, province))
        self._buffered += len(rank)
        if self._buffered > max(2 * self.k, 1 << 16):
            self._cut()

    def _cut(self) -> None:
        import numpy as np  # noqa: PLC0415

        rank, hi, lo, province = (np.concatenate(column) for column in zip(*self._chunks, strict=True))
        if len(rank) > self.k:
            # Select on a 64-bit prefix of the order in linear time, keeping every element
            # that ties with the k-th: the exact cut among those is left to the final sort.
            prefix = (rank.astype(np.uint64) << np.uint64(63)) | (hi >> np.uint64(1))
            kth = np.partition(prefix, self.k - 1)[self.k - 1]
            keep = prefix <= kth
            rank, hi, lo, province = rank[keep], hi[keep], lo[keep], province[keep]
            if len(rank) > self.k:
                first = np.lexsort((lo, hi, rank))[: self.k]
                rank, hi, lo, province = rank[first], hi[first], lo[first], province[first]
        self._chunks = [(rank, hi, lo, province)]
        self._buffered = len(rank)

    def ascending(self) -> tuple[npt.NDArray[Any], ...]:
        """(rank, hi, lo, province) of the k smallest, in order."""
        import numpy as np  # noqa: PLC0415

        if not self._chunks:
            empty = np.zeros(0, dtype=np.uint64)
            return empty.astype(np.uint8), empty, empty, empty.astype(np.uint16)
        self._cut()
        rank, hi, lo, province = self._chunks[0]
        order = np.lexsort((lo, hi, rank))
        return rank[order], hi[order], lo[order], province[order]


def _check_distinct(rank: npt.NDArray[Any], hi: npt.NDArray[Any], lo: npt.NDArray[Any]) -> None:
    """Sorted candidates must all differ: equal neighbours would make a cut ambiguous."""
    if len(rank) > 1 and bool(((rank[1:] == rank[:-1]) & (hi[1:] == hi[:-1]) & (lo[1:] == lo[:-1])).any()):
        raise DrawCollision("two candidates share a 128-bit order (duplicate participant?); use draw()")


def _order_at(rank: npt.NDArray[Any], hi: npt.NDArray[Any], lo: npt.NDArray[Any], i: int) -> int:
    return int(rank[i]) << 128 | int(hi[i]) << 64 | int(lo[i])


def _order_text(order: int) -> str:
    return "-1" if order < 0 else format(order, "033x")


def _order_from_text(text: str) -> int:
    order = int(text, 16)
    if not NOBODY <= order <= EVERYBODY:
        raise ValueError(f"not an order value: {text}")
    return order


@dataclass(frozen=True)
class Thresholds:
    """The result of a wave's draw in a few numbers, plus counts for the wave's statistics."""

    seed_commitment: str
    quota_total: int
    quotas: dict[str, int]
    provincial: dict[str, int]  # T_p for each quota province (NOBODY, an order or EVERYBODY)
    national: int  # T_nat
    participants: int = 0
    eligible: int = 0
    provincial_selected: int = 0
    national_selected: int = 0
    joined_by_province: dict[str, int] = field(default_factory=dict)
    eligible_by_province: dict[str, int] = field(default_factory=dict)
    selected_by_province: dict[str, int] = field(default_factory=dict)

    def is_selected(self, order: int, province_code: str) -> tuple[bool, Via | None]:
        """Whether the eligible participant with this order value (:func:`draw_order`) is selected."""
        if order <= self.provincial.get(province_code, NOBODY):
            return True, PROVINCIAL
        if order <= self.national:
            return True, NATIONAL
        return False, None

    def to_json(self) -> str:
        return json.dumps(
            {
                "algorithm": ALGORITHM,
                "seed_commitment": self.seed_commitment,
                "quota_total": self.quota_total,
                "quotas": self.quotas,
                "provincial": {code: _order_text(t) for code, t in self.provincial.items()},
                "national": _order_text(self.national),
                "participants": self.participants,
                "eligible": self.eligible,
                "provincial_selected": self.provincial_selected,
                "national_selected": self.national_selected,
                "joined_by_province": self.joined_by_province,
                "eligible_by_province": self.eligible_by_province,
                "selected_by_province": self.selected_by_province,
            },
            separators=(",", ":"),
        )

    @classmethod
    def from_json(cls, text: str | bytes) -> Self:
        doc = json.loads(text)
        if doc["algorithm"] != ALGORITHM:
            raise ValueError(f"not {ALGORITHM} thresholds")
        return cls(
            seed_commitment=doc["seed_commitment"],
            quota_total=doc["quota_total"],
            quotas=doc["quotas"],
            provincial={code: _order_from_text(t) for code, t in doc["provincial"].items()},
            national=_order_from_text(doc["national"]),
            participants=doc["participants"],
            eligible=doc["eligible"],
            provincial_selected=doc["provincial_selected"],
            national_selected=doc["national_selected"],
            joined_by_province=doc["joined_by_province"],
            eligible_by_province=doc["eligible_by_province"],
            selected_by_province=doc["selected_by_province"],
        )


def compute_thresholds(summaries: Iterable[ShardSummary], quota_total: int, quotas: Mapping[str, int]) -> Thresholds:
    """The merge: one streaming pass over the shard summaries, memory O(quota_total + one shard).

    Province p keeps its q_p + 1 smallest orders; the nation keeps its quota_total + 1 smallest.
    That is enough: a participant selected in step 4 has before it only participants selected in
    step 3 (at most quota_total - R) or earlier in step 4 (at most R - 1), so it ranks within the
    first quota_total; the "+ 1" is the first one left out, to check the cut is not a tie.
    """
    merge = _Merge(quota_total, quotas)
    for summary in summaries:
        merge.add(summary)
    return merge.thresholds()


class _Merge:
    def __init__(self, quota_total: int, quotas: Mapping[str, int]) -> None:
        import numpy as np  # noqa: PLC0415

        validate_quotas(quota_total, quotas)
        self.quota_total = quota_total
        self.quotas = dict(quotas)
        # Quota provinces take the first indices, so "has a quota" is "index < len(quotas)".
        self.codes = list(quotas)
        self.index = {code: i for i, code in enumerate(self.codes)}
        self.per_province = [_Smallest(q + 1 if q else 0) for q in quotas.values()]
        self.nation = _Smallest(quota_total + 1)
        self.commitment: str | None = None
        self.participants = 0
        self.joined: Counter[str] = Counter()
        self.eligible = np.zeros(len(self.codes), dtype=np.int64)

    def add(self, summary: ShardSummary) -> None:
        import numpy as np  # noqa: PLC0415

        if self.commitment is None:
            self.commitment = summary.seed_commitment
        elif summary.seed_commitment != self.commitment:
            raise ValueError("shard summaries drawn with different seeds")
        self.participants += summary.participants
        self.joined.update(summary.joined_by_province)
        if not len(summary):
            return
        for code in summary.provinces:
            if code not in self.index:
                self.index[code] = len(self.codes)
                self.codes.append(code)
        lookup = np.array([self.index[code] for code in summary.provinces], dtype=np.uint16)
        province = lookup[summary.province_index]
        counts = np.bincount(province, minlength=len(self.codes))
        self.eligible = np.pad(self.eligible, (0, len(self.codes) - len(self.eligible))) + counts
        self.nation.push(summary.rank, summary.hi, summary.lo, province)
        if self.per_province:
            by_province = np.argsort(province, kind="stable")
            bounds = np.concatenate(([0], np.cumsum(counts)))
            for i, smallest in enumerate(self.per_province):
                rows = by_province[bounds[i] : bounds[i + 1]]
                smallest.push(summary.rank[rows], summary.hi[rows], summary.lo[rows], province[rows])

    def thresholds(self) -> Thresholds:
        provincial, selected_by_province = self._provincial()
        provincial_selected = sum(selected_by_province.values())
        national, national_selected = self._national(provincial, selected_by_province, provincial_selected)
        return Thresholds(
            seed_commitment=self.commitment or "",
            quota_total=self.quota_total,
            quotas=self.quotas,
            provincial=provincial,
            national=national,
            participants=self.participants,
            eligible=int(self.eligible.sum()),
            provincial_selected=provincial_selected,
            national_selected=national_selected,
            joined_by_province=dict(self.joined),
            eligible_by_province={code: n for code, n in zip(self.codes, self.eligible.tolist(), strict=False) if n},
            selected_by_province=selected_by_province,
        )

    def _provincial(self) -> tuple[dict[str, int], dict[str, int]]:
        provincial: dict[str, int] = {}
        selected: dict[str, int] = {}
        for (code, quota), smallest in zip(self.quotas.items(), self.per_province, strict=True):
            rank, hi, lo, _ = smallest.ascending()
            _check_distinct(rank, hi, lo)
            if quota == 0:
                provincial[code] = NOBODY
            elif len(rank) < quota:  # fewer eligible than places: all of them, the rest goes national
                provincial[code] = EVERYBODY
            else:
                provincial[code] = _order_at(rank, hi, lo, quota - 1)
            selected[code] = min(quota, len(rank))
        return provincial, selected

    def _national(
        self, provincial: dict[str, int], selected_by_province: dict[str, int], provincial_selected: int
    ) -> tuple[int, int]:
        """T_nat and how many it selects; adds those to ``selected_by_province``."""
        import numpy as np  # noqa: PLC0415

        places = self.quota_total - provincial_selected
        rank, hi, lo, province = self.nation.ascending()
        _check_distinct(rank, hi, lo)
        t_rank = np.full(len(self.codes), -1, dtype=np.int16)  # NOBODY for provinces without a quota
        t_hi = np.zeros(len(self.codes), dtype=np.uint64)
        t_lo = np.zeros(len(self.codes), dtype=np.uint64)
        for i, code in enumerate(self.quotas):
            t_rank[i], t_hi[i], t_lo[i] = _split(provincial[code])
        left = ~_at_most(rank, hi, lo, t_rank[province], t_hi[province], t_lo[province])
        rank, hi, lo, province = rank[left], hi[left], lo[left], province[left]
        if places == 0:
            national = NOBODY
        elif len(rank) < places:  # everyone left is selected
            national = EVERYBODY
        else:
            national = _order_at(rank, hi, lo, places - 1)
        selected = min(places, len(rank))
        for i, count in enumerate(np.bincount(province[:selected], minlength=len(self.codes)).tolist()):
            if count:
                selected_by_province[self.codes[i]] = selected_by_province.get(self.codes[i], 0) + count
        return national, selected


class Decision(NamedTuple):
    participant_id: str
    selected: bool
    via: Via | None
    key: str  # the published draw key


def apply_shard(seed: str, participants: Iterable[Participant], thresholds: Thresholds) -> list[Decision]:
    """Each participant of a shard, in input order, with its selection and its key."""
    import numpy as np  # noqa: PLC0415

    if thresholds.seed_commitment and seed_commitment(seed) != thresholds.seed_commitment:
        raise ValueError("the seed does not match the thresholds")
    inner, outer = _keyed_pads(seed)
    inner_copy, outer_copy = inner.copy, outer.copy
    provinces: dict[str, int] = {}
    ids: list[str] = []
    where: list[int] = []
    eligible: list[bool] = []
    ranks: list[bool] = []
    digests: list[bytes] = []
    with _gc_paused():
        for p in participants:
            code = p.province_code
            index = provinces.get(code)
            if index is None:
                index = provinces[code] = len(provinces)
            where.append(index)
            eligible.append(p.eligible)
            ranks.append(not p.priority)
            ids.append(p.participant_id)
            mac = inner_copy()
            mac.update(p.participant_id.encode())
            outer_mac = outer_copy()
            outer_mac.update(mac.digest())
            digests.append(outer_mac.digest())
    if not ids:
        return []
    joined = b"".join(digests)
    hi, lo = _order_words(joined)
    rank = np.array(ranks, dtype=np.uint8)
    province = np.array(where, dtype=np.intp)
    split = [_split(thresholds.provincial.get(code, NOBODY)) for code in provinces]
    p_rank = np.array([s[0] for s in split], dtype=np.int16)[province]
    p_hi = np.array([s[1] for s in split], dtype=np.uint64)[province]
    p_lo = np.array([s[2] for s in split], dtype=np.uint64)[province]
    n_rank, n_hi, n_lo = _split(thresholds.national)
    is_eligible = np.array(eligible, dtype=bool)
    provincial = is_eligible & _at_most(rank, hi, lo, p_rank, p_hi, p_lo)
    national = (
        is_eligible
        & ~provincial
        & _at_most(
            rank,
            hi,
            lo,
            np.array([n_rank], dtype=np.int16),
            np.array([n_hi], dtype=np.uint64),
            np.array([n_lo], dtype=np.uint64),
        )
    )
    via = provincial.astype(np.uint8) + 2 * national.astype(np.uint8)
    hex_keys = joined.hex()
    labels = np.array([None, PROVINCIAL, NATIONAL], dtype=object)
    with _gc_paused():
        # tuple.__new__ builds the named tuples in C: a third of the time of Decision(...).
        return list(
            map(
                partial(tuple.__new__, Decision),
                zip(
                    ids,
                    (via != 0).tolist(),
                    labels[via].tolist(),
                    [hex_keys[i : i + 64] for i in range(0, len(hex_keys), 64)],
                    strict=True,
                ),
            )
        )
