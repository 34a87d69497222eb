from __future__ import annotations

import hashlib
import hmac
import json
import random
from collections import Counter

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from prakerja.selection.draw import (
    ALGORITHM,
    EVERYBODY,
    NOBODY,
    DrawCollision,
    DrawOutcome,
    Participant,
    ShardSummary,
    Thresholds,
    apply_shard,
    compute_thresholds,
    draw,
    draw_key,
    draw_order,
    summarize_shard,
)

PROVINCES = ("11", "31", "32", "35", "94")


def people(n: int, province: str = "32", *, prefix: str = "p", priority: bool = False, eligible: bool = True):
    return [Participant(f"{prefix}{i}", province, priority, eligible) for i in range(n)]


def random_wave(rng: random.Random, n: int) -> list[Participant]:
    return [Participant(f"id-{i}", rng.choice(PROVINCES), rng.random() < 0.2, rng.random() < 0.85) for i in range(n)]


def sharded(
    seed: str, shards: list[list[Participant]], quota_total: int, quotas: dict[str, int]
) -> tuple[DrawOutcome, Thresholds]:
    """The workflow's path, through the serialised forms a Lambda writes and reads."""
    summaries = (ShardSummary.from_bytes(summarize_shard(seed, shard).to_bytes()) for shard in shards)
    thresholds = Thresholds.from_json(compute_thresholds(summaries, quota_total, quotas).to_json())
    decisions = [d for shard in shards for d in apply_shard(seed, shard, thresholds)]
    selected = [d for d in decisions if d.selected]
    by_province = dict.fromkeys(quotas, 0)
    province = {p.participant_id: p.province_code for shard in shards for p in shard}
    by_province.update(Counter(province[d.participant_id] for d in selected))
    outcome = DrawOutcome(
        selected=frozenset(d.participant_id for d in selected),
        selected_by_province=by_province,
        provincial=frozenset(d.participant_id for d in selected if d.via == "PROVINCIAL"),
        national=frozenset(d.participant_id for d in selected if d.via == "NATIONAL"),
    )
    return outcome, thresholds


# --- the key ---------------------------------------------------------------------------------


def test_the_key_is_lowercase_hex_hmac_sha256_of_the_id_under_the_seed() -> None:
    # Also `printf participant | openssl dgst -sha256 -hmac seed`.
    assert draw_key("seed", "participant") == "1a1c3fa0e135b17ad609a0c199a3b1707cd07c2b59a8bf720cfdb0548ed562d6"
    assert draw_key("séed", "ïd") == hmac.new("séed".encode(), "ïd".encode(), hashlib.sha256).hexdigest()
    assert ALGORITHM == "prakerja-draw-v1"


@pytest.mark.parametrize("seed", ["", "s", "x" * 63, "x" * 64, "x" * 65, "ü" * 100])
def test_the_scalable_path_publishes_the_same_keys_for_any_seed_length(seed: str) -> None:
    # The shard path spells HMAC out on pre-keyed hashes (keys longer than a block are hashed).
    wave = people(5) + people(3, "31", prefix="q", eligible=False)
    decisions = apply_shard(seed, wave, compute_thresholds([summarize_shard(seed, wave)], 3, {}))
    assert [d.key for d in decisions] == [draw_key(seed, p.participant_id) for p in wave]
    assert [d.participant_id for d in decisions] == [p.participant_id for p in wave]


# --- the reference draw ----------------------------------------------------------------------


@settings(max_examples=150, deadline=None)
@given(st.integers(0, 2**32), st.integers(0, 80), st.dictionaries(st.sampled_from(PROVINCES), st.integers(0, 8)))
def test_quotas_are_never_exceeded_and_filled_whenever_enough_are_eligible(
    rng_seed: int, n: int, quotas: dict[str, int]
) -> None:
    rng = random.Random(rng_seed)
    wave = random_wave(rng, n)
    quota_total = sum(quotas.values()) + rng.randint(0, 15)
    outcome = draw(f"seed-{rng_seed}", wave, quota_total, quotas)

    eligible = [p for p in wave if p.eligible]
    assert len(outcome.selected) == min(quota_total, len(eligible))
    assert outcome.selected == outcome.provincial | outcome.national
    assert not outcome.provincial & outcome.national
    for province, quota in quotas.items():
        in_province = {p.participant_id for p in eligible if p.province_code == province}
        assert len(outcome.provincial & in_province) == min(quota, len(in_province))
        assert outcome.provincial & in_province == {
            p.participant_id for p in wave if p.participant_id in outcome.provincial and p.province_code == province
        }
    assert not outcome.provincial - {p.participant_id for p in eligible if p.province_code in quotas}
    assert sum(outcome.selected_by_province.values()) == len(outcome.selected)


def test_the_same_seed_gives_the_same_result_and_another_seed_another() -> None:
    wave = random_wave(random.Random(7), 300)
    first = draw("seed-a", wave, 40, {"32": 10, "35": 10})
    assert draw("seed-a", list(reversed(wave)), 40, {"32": 10, "35": 10}) == first
    assert draw("seed-b", wave, 40, {"32": 10, "35": 10}).selected != first.selected


def test_ineligible_participants_are_never_selected() -> None:
    wave = people(10, eligible=False, priority=True) + people(3, prefix="ok")
    outcome = draw("s", wave, 10, {"32": 5})
    assert outcome.selected == {"ok0", "ok1", "ok2"}


def test_priority_participants_are_drawn_first_in_their_province() -> None:
    wave = people(30) + people(4, prefix="prio", priority=True) + people(5, "31", prefix="other", priority=True)
    outcome = draw("s", wave, 6, {"32": 6})
    assert {f"prio{i}" for i in range(4)} <= outcome.provincial
    assert len(outcome.provincial) == 6
    assert not outcome.selected & {p.participant_id for p in wave if p.province_code == "31"}


def test_priority_participants_are_drawn_first_nationally() -> None:
    wave = people(50) + people(50, "35", prefix="j") + people(3, "94", prefix="prio", priority=True)
    outcome = draw("s", wave, 5, {})
    assert {"prio0", "prio1", "prio2"} <= outcome.national
    assert len(outcome.selected) == 5


def test_a_province_with_fewer_eligible_than_its_quota_gives_the_rest_to_the_nation() -> None:
    wave = people(2, "94", prefix="papua") + people(2, "94", prefix="x", eligible=False) + people(20, "32")
    outcome = draw("s", wave, 8, {"94": 5})
    assert outcome.provincial == {"papua0", "papua1"}
    assert len(outcome.national) == 6
    assert outcome.selected_by_province == {"94": 2, "32": 6}


def test_provinces_without_a_quota_only_get_national_places() -> None:
    wave = people(10, "32") + people(10, "31", prefix="j")
    outcome = draw("s", wave, 12, {"32": 10})
    assert {p.participant_id for p in wave if p.province_code == "32"} == outcome.provincial
    assert len(outcome.national) == 2
    assert all(pid.startswith("j") for pid in outcome.national)


def test_the_order_is_not_priority_then_key() -> None:
    wave = people(6) + people(2, prefix="prio", priority=True)
    outcome = draw("s", wave, 4, {})
    plain = sorted(people(6), key=lambda p: draw_key("s", p.participant_id))[:2]
    assert outcome.selected == {"prio0", "prio1"} | {p.participant_id for p in plain}


@pytest.mark.parametrize(
    ("quota_total", "quotas"),
    [(-1, {}), (5, {"32": -1}), (5, {"32": 3, "31": 3})],
)
def test_inconsistent_quotas_are_refused(quota_total: int, quotas: dict[str, int]) -> None:
    with pytest.raises(ValueError, match="quota"):
        draw("s", people(3), quota_total, quotas)
    with pytest.raises(ValueError, match="quota"):
        compute_thresholds([], quota_total, quotas)


def test_duplicate_participants_are_refused() -> None:
    with pytest.raises(ValueError, match="duplicate"):
        draw("s", people(3) + people(1), 2, {})


def test_selection_is_uniform_over_many_draws() -> None:
    """2,000 draws of 5 among 20: each participant's count is Binomial(2000, 1/4), the counts sum
    to 10,000 and are negatively correlated (sampling without replacement), so
    sum((count - 500)^2) / (2000 * 1/4 * 3/4 * 20/19) follows chi-square with 19 degrees of freedom.
    Two-sided at 0.1 %: too even would betray a rotation rather than a random draw."""
    wave = people(20)
    counts = Counter[str]()
    for i in range(2000):
        counts.update(draw(f"seed-{i}", wave, 5, {"32": 5}).selected)
    statistic = sum((counts[p.participant_id] - 500) ** 2 for p in wave) / (2000 * 0.25 * 0.75 * 20 / 19)
    # chi2(19) quantiles 0.001 and 0.999 (scipy.stats.chi2.ppf).
    assert 5.407 < statistic < 43.820


# --- the scalable path -----------------------------------------------------------------------


@st.composite
def waves(draw_: st.DrawFn) -> tuple[str, list[list[Participant]], int, dict[str, int]]:
    rows = draw_(
        st.lists(
            st.tuples(st.sampled_from(PROVINCES), st.booleans(), st.booleans() | st.just(True)),
            max_size=60,
        )
    )
    ids = draw_(st.lists(st.text(min_size=1, max_size=8), min_size=len(rows), max_size=len(rows), unique=True))
    wave = [Participant(pid, *row) for pid, row in zip(ids, rows, strict=True)]
    cuts = sorted(draw_(st.lists(st.integers(0, len(wave)), max_size=5)))
    shards = [wave[a:b] for a, b in zip([0, *cuts], [*cuts, len(wave)], strict=True)]
    quotas = draw_(st.dictionaries(st.sampled_from(PROVINCES), st.integers(0, 6)))
    quota_total = sum(quotas.values()) + draw_(st.integers(0, 12))
    return draw_(st.text(max_size=70)), shards, quota_total, quotas


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(waves())
def test_the_sharded_path_selects_exactly_what_the_reference_draw_does(
    wave: tuple[str, list[list[Participant]], int, dict[str, int]],
) -> None:
    seed, shards, quota_total, quotas = wave
    everyone = [p for shard in shards for p in shard]
    expected = draw(seed, everyone, quota_total, quotas)
    outcome, thresholds = sharded(seed, shards, quota_total, quotas)
    assert outcome == expected
    assert thresholds.selected_by_province == expected.selected_by_province
    assert thresholds.provincial_selected == len(expected.provincial)
    assert thresholds.national_selected == len(expected.national)
    assert thresholds.participants == len(everyone)
    assert thresholds.eligible == sum(p.eligible for p in everyone)
    for p in everyone:
        if p.eligible:
            selected, via = thresholds.is_selected(draw_order(seed, p.participant_id, p.priority), p.province_code)
            assert selected == (p.participant_id in expected.selected)
            assert (via == "PROVINCIAL") == (p.participant_id in expected.provincial)


def brute_force_thresholds(
    summaries: list[ShardSummary], quota_total: int, quotas: dict[str, int]
) -> tuple[dict[str, int], int]:
    orders = sorted(
        (int(r) << 128 | int(h) << 64 | int(lo), s.provinces[i])
        for s in summaries
        for r, h, lo, i in zip(s.rank, s.hi, s.lo, s.province_index, strict=True)
    )
    provincial: dict[str, int] = {}
    taken: set[int] = set()
    for code, quota in quotas.items():
        mine = [order for order, province in orders if province == code]
        provincial[code] = NOBODY if quota == 0 else mine[quota - 1] if len(mine) >= quota else EVERYBODY
        taken.update(mine[:quota])
    left = [order for order, _ in orders if order not in taken]
    places = quota_total - len(taken)
    national = NOBODY if places == 0 else left[places - 1] if len(left) >= places else EVERYBODY
    return provincial, national


def synthetic_summary(rng: np.random.Generator, n: int, *, narrow: bool) -> ShardSummary:
    """Order arrays without hashing; ``narrow`` high words make the 64-bit prefix tie a lot."""
    hi = rng.integers(0, 4 if narrow else 2**64, size=n, dtype=np.uint64)
    return ShardSummary(
        seed_commitment="c",
        participants=n,
        joined_by_province={},
        provinces=PROVINCES,
        rank=(rng.random(n) > 0.05).astype(np.uint8),
        hi=hi,
        lo=rng.integers(0, 2**64, size=n, dtype=np.uint64),
        province_index=rng.integers(0, len(PROVINCES), size=n, dtype=np.uint16),
    )


@pytest.mark.parametrize("narrow", [False, True])
def test_the_streaming_merge_keeps_what_it_needs_over_many_large_shards(narrow: bool) -> None:
    rng = np.random.default_rng(5)
    summaries = [synthetic_summary(rng, 12_000, narrow=narrow) for _ in range(10)]
    quotas = {"32": 3_000, "35": 2_500, "94": 30_000, "11": 0}
    provincial, national = brute_force_thresholds(summaries, 40_000, quotas)
    thresholds = compute_thresholds(iter(summaries), 40_000, quotas)
    assert (thresholds.provincial, thresholds.national) == (provincial, national)
    assert thresholds.provincial["94"] == EVERYBODY
    assert thresholds.provincial["11"] == NOBODY
    assert sum(thresholds.selected_by_province.values()) == 40_000


def test_a_participant_exported_twice_at_a_cut_is_refused() -> None:
    wave = people(10)
    with pytest.raises(DrawCollision):
        compute_thresholds([summarize_shard("s", wave), summarize_shard("s", wave)], 3, {"32": 3})


def test_a_shard_summary_is_compact_and_round_trips() -> None:
    wave = people(100, "32") + people(50, "31", prefix="j", priority=True) + people(10, prefix="x", eligible=False)
    summary = summarize_shard("s", wave)
    data = summary.to_bytes()
    assert len(summary) == 150
    assert summary.participants == 160
    assert summary.joined_by_province == {"32": 110, "31": 50}
    assert len(data) < 400 + 19 * 150
    again = ShardSummary.from_bytes(data)
    for name in ("rank", "hi", "lo", "province_index"):
        assert np.array_equal(getattr(again, name), getattr(summary, name))
    assert (again.provinces, again.seed_commitment) == (summary.provinces, summary.seed_commitment)
    with pytest.raises(ValueError, match="summary"):
        ShardSummary.from_bytes(data[:-1])
    with pytest.raises(ValueError, match="summary"):
        ShardSummary.from_bytes(b"X" * len(data))


def test_the_merge_and_the_apply_refuse_another_seed() -> None:
    wave = people(10)
    with pytest.raises(ValueError, match="seeds"):
        compute_thresholds([summarize_shard("a", wave), summarize_shard("b", wave)], 3, {})
    thresholds = compute_thresholds([summarize_shard("a", wave)], 3, {})
    with pytest.raises(ValueError, match="seed"):
        apply_shard("b", wave, thresholds)


def test_thresholds_travel_as_json_with_order_values_as_hex_text() -> None:
    wave = people(10) + people(10, "31", prefix="j")
    thresholds = compute_thresholds([summarize_shard("s", wave)], 5, {"32": 3, "94": 1, "35": 0})
    text = thresholds.to_json()
    assert '"94":"2' in text  # EVERYBODY: no one eligible there
    assert '"35":"-1"' in text  # NOBODY: quota 0
    assert Thresholds.from_json(text) == thresholds
    # The national cut reads as "1" (not priority) then the first 32 hex digits of the last key in.
    national_keys = sorted(d.key for d in apply_shard("s", wave, thresholds) if d.via == "NATIONAL")
    assert len(national_keys) == 2
    assert json.loads(text)["national"] == "1" + national_keys[-1][:32]


def test_an_empty_wave_selects_no_one() -> None:
    thresholds = compute_thresholds([summarize_shard("s", [])], 10, {"32": 5})
    assert (thresholds.national, thresholds.provincial) == (EVERYBODY, {"32": EVERYBODY})
    assert thresholds.selected_by_province == {"32": 0}
    assert apply_shard("s", [], thresholds) == []
