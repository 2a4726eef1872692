"""SzCORE merging, splitting and tolerances are exact at times that are not whole seconds.

Event times are built on a 0.1-s grid the way a pipeline produces them (float sums such as
10.3 + 90.0), and the counts of :func:`benchmark.events.score_recording` are compared with a
reference written here in integer ticks of 0.1 s, independently of ``benchmark.events`` and of
``timescoring``: events less than 90 s apart merged, events over 300 s split, reference events
widened by 30 s before and 60 s after, any overlap a detection.
"""

from __future__ import annotations

import random

import pytest

from benchmark.errors import BenchmarkError
from benchmark.events import PostProcessing, SzcoreParams, score_recording, windows_to_events

GAP, LONGEST, BEFORE, AFTER = 900, 3000, 300, 600  # ticks of 0.1 s: 90 s, 300 s, 30 s, 60 s


def _szcore(events: list[tuple[int, int]], n: int) -> list[tuple[int, int]]:
    kept = sorted((max(0, min(s, n)), max(0, min(e, n))) for s, e in events)
    joined: list[list[int]] = []
    for s, e in kept:
        if e <= s:
            continue
        if joined and s - joined[-1][1] < GAP:  # overlapping, touching or under 90 s apart
            joined[-1][1] = max(joined[-1][1], e)
        else:
            joined.append([s, e])
    pieces = []
    for s, e in joined:
        while e - s > LONGEST:
            pieces.append((s, s + LONGEST))
            s += LONGEST
        pieces.append((s, e))
    return pieces


def reference_counts(ref: list[tuple[int, int]], hyp: list[tuple[int, int]], n: int) -> tuple[int, int, int]:
    """``(tp, fp, n_ref)`` by the SzCORE rules, all in integer ticks."""
    ref, hyp = _szcore(ref, n), _szcore(hyp, n)
    hyp_ticks = {t for s, e in hyp for t in range(s, e)}
    detected: set[int] = set()
    tp = 0
    for s, e in ref:
        lo, hi = max(0, s - BEFORE), min(n, e + AFTER)
        if any(t in hyp_ticks for t in range(lo, hi)):
            tp += 1
            detected.update(range(lo, hi))
    fp = sum(1 for s, e in hyp if not any(t in detected for t in range(s, e)))
    return tp, fp, len(ref)


def _random_events(rng: random.Random, start_tick: int, count: int) -> tuple[list, list]:
    """Events as integer ticks and as the floats a pipeline computes (running sums of seconds)."""
    ticks, floats = [], []
    t_tick, t = start_tick, start_tick / 10
    for _ in range(count):
        dur = rng.choice([3000, 3000, 2999, 3001, 6000, 6001, rng.randint(1, 4000)])
        gap = rng.choice([900, 900, 899, 901, 0, 1, rng.randint(0, 3000)])
        ticks.append((t_tick, t_tick + dur))
        floats.append((t, t + dur / 10))
        t_tick += dur + gap
        t = t + dur / 10 + gap / 10
    return ticks, floats


def test_item13_exact_90_s_gaps_are_not_merged_and_300_s_events_not_split_at_fractional_times():
    # Onsets on the 0.1-s grid where float subtraction gives 89.99999999999999 or 300.00000000000006.
    bad_gap = next(k / 10 for k in range(1, 10000) if (k / 10 + 10.0 + 90.0) - (k / 10 + 10.0) < 90.0)
    ref = [(bad_gap, bad_gap + 10.0), (bad_gap + 10.0 + 90.0, bad_gap + 10.0 + 90.0 + 10.0)]
    counts = score_recording(ref, [], 3600.0)
    assert counts.n_ref == 2  # 90 s apart is not "less than 90 s"
    bad_long = next(k / 10 for k in range(1, 10000) if (k / 10 + 300.0) - k / 10 > 300.0)
    counts = score_recording([], [(bad_long, bad_long + 300.0)], 3600.0)
    assert counts.fp == 1  # one 300.0-s event, not 300 s plus an empty piece
    counts = score_recording([(bad_long, bad_long + 300.0)], [(bad_long, bad_long + 300.0)], 3600.0)
    assert (counts.tp, counts.fp, counts.n_ref) == (1, 0, 1)


@pytest.mark.parametrize("seed", range(40))
def test_item13_szcore_counts_equal_an_integer_tick_reference_on_random_fractional_grids(seed):
    rng = random.Random(seed)
    n = 10 * 3600 * 3  # a 3-h recording
    wrong = []
    for _ in range(10):
        ref_t, ref_f = _random_events(rng, rng.randint(0, 2000), rng.randint(1, 6))
        hyp_t, hyp_f = _random_events(rng, rng.randint(0, 2000), rng.randint(0, 8))
        # Hypotheses at the edges of the widened references: touching them or one tick inside.
        for (s, e), (s_f, e_f) in list(zip(ref_t, ref_f))[: rng.randint(0, len(ref_t))]:
            inside, length = rng.choice([0, 1]), rng.randint(1, 50)
            if rng.random() < 0.5:  # ends where the reference, widened by 30 s, starts
                hyp_t.append((s - BEFORE + inside - length, s - BEFORE + inside))
                hyp_f.append((s_f - 30.0 + (inside - length) / 10, s_f - 30.0 + inside / 10))
            else:  # starts where it ends, widened by 60 s
                hyp_t.append((e + AFTER - inside, e + AFTER - inside + length))
                hyp_f.append((e_f + 60.0 - inside / 10, e_f + 60.0 + (length - inside) / 10))
        got = score_recording(ref_f, hyp_f, n / 10)
        want = reference_counts(ref_t, hyp_t, n)
        if (got.tp, got.fp, got.n_ref) != want:
            wrong.append((ref_f, hyp_f, (got.tp, got.fp, got.n_ref), want))
    assert not wrong, wrong[0]


def test_item13_post_processing_merges_and_drops_by_exact_durations():
    # Windows of 0.1-s-grid times: a 90.0-s gap with merge_gap_s=90 is kept; a run of exactly
    # min_duration_s is kept.
    checked = 0
    for k in range(1, 2000, 7):
        a = k / 10
        b = a + 10.0
        c = b + 90.0
        starts, ends, scores = [a, b, c], [b, c, c + 10.0], [1.0, 0.0, 1.0]  # a negative window between
        events = windows_to_events(starts, ends, scores, PostProcessing(merge_gap_s=90.0))
        assert len(events) == 2, (a, events)
        events = windows_to_events([a], [a + 10.0], [1.0], PostProcessing(min_duration_s=10.0))
        assert len(events) == 1, (a, events)
        events = windows_to_events(starts, ends, scores, PostProcessing(merge_gap_s=90.1))
        assert len(events) == 1 and events[0][0] == a and abs(events[0][1] - (c + 10.0)) < 1e-9
        checked += 1
    assert checked > 250


def test_item13_scoring_parameters_off_the_grid_are_refused():
    with pytest.raises(BenchmarkError, match="multiple of 0.1 s"):
        SzcoreParams(tolerance_start_s=30.05)
    assert SzcoreParams(min_duration_between_events_s=90.3).min_duration_between_events_s == 90.3
