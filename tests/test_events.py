"""Tests of benchmark.events: post-processing of window scores and SzCORE event scoring.

Expected counts are derived by hand from the SzCORE rules (Dan et al., 2024): any overlap, a
tolerance of 30 s before / 60 s after each reference event, events closer than 90 s merged,
events longer than 300 s split into 300-s pieces.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from benchmark.errors import BenchmarkError, DataError
from benchmark.events import (
    EVENT_COLUMNS,
    EventCounts,
    PostProcessing,
    SzcoreParams,
    score_recording,
    score_windows,
    sum_counts,
    windows_to_events,
)

HOUR = 3600.0
SEIZURE = (1000.0, 1060.0)  # one 60-s seizure in a 1-h recording; widened: (970, 1120)


def _score(hyp, ref=(SEIZURE,), duration=HOUR, **kw):
    return score_recording(list(ref), list(hyp), duration, SzcoreParams(**kw))


def _counts(c: EventCounts):
    return c.tp, c.fp, c.n_ref


# -- SzCORE matching rules -------------------------------------------------------------------------
def test_exact_hit():
    c = _score([SEIZURE])
    assert _counts(c) == (1, 0, 1)
    assert (c.sensitivity, c.precision, c.f1) == (1.0, 1.0, 1.0)
    assert c.fa_per_24h == 0.0


def test_partial_overlap_is_a_hit():
    # Any overlap counts: 1 s inside the seizure is enough.
    assert _counts(_score([(1059.0, 1065.0)])) == (1, 0, 1)


@pytest.mark.parametrize(
    "hyp, expected",
    [
        ((960.0, 975.0), (1, 0, 1)),  # ends 25 s before onset: inside the 30-s tolerance
        ((950.0, 965.0), (0, 1, 1)),  # ends 35 s before onset: outside -> false alarm + miss
        ((950.0, 970.0), (0, 1, 1)),  # ends exactly at the tolerance edge: touching is no overlap
        ((1110.0, 1130.0), (1, 0, 1)),  # starts 50 s after offset: inside the 60-s tolerance
        ((1125.0, 1140.0), (0, 1, 1)),  # starts 65 s after offset: outside -> false alarm + miss
        ((1120.0, 1140.0), (0, 1, 1)),  # starts exactly at the tolerance edge
    ],
)
def test_tolerance_before_and_after(hyp, expected):
    assert _counts(_score([hyp])) == expected


def test_tolerance_can_be_changed():
    # With no tolerance, a detection 5 s after offset is a false alarm and the seizure is missed.
    assert _counts(_score([(1065.0, 1070.0)], tolerance_start_s=0, tolerance_end_s=0)) == (0, 1, 1)
    assert _counts(_score([(1065.0, 1070.0)])) == (1, 0, 1)


def test_detections_closer_than_90s_are_merged():
    # The second detection starts 70 s after the offset (outside tolerance) but only 60 s after the
    # first one ends, so the two merge into one event that overlaps the seizure.
    assert _counts(_score([(1040.0, 1070.0), (1130.0, 1140.0)])) == (1, 0, 1)
    # 120 s apart: no merge, the second is a false alarm.
    c = _score([(1040.0, 1070.0), (1190.0, 1200.0)])
    assert _counts(c) == (1, 1, 1)
    assert c.precision == pytest.approx(0.5)
    assert c.f1 == pytest.approx(2 / 3)


def test_merge_threshold_is_strict_without_seizures():
    # "Closer than 90 s": a gap of 89.9 s merges (one false alarm), exactly 90 s does not (two).
    assert _score([(100.0, 110.0), (199.9, 210.0)], ref=()).fp == 1
    assert _score([(100.0, 110.0), (200.0, 210.0)], ref=()).fp == 2


def test_long_detection_is_split_into_5min_events():
    # A 700-s detection is split into 300 + 300 + 100 s pieces: (900, 1200) overlaps the short
    # seizure at (1000, 1030); (1200, 1500) and (1500, 1600) lie beyond its tolerance window
    # (970, 1090), so they are two false alarms.
    c = _score([(900.0, 1600.0)], ref=[(1000.0, 1030.0)])
    assert _counts(c) == (1, 2, 1)
    assert c.precision == pytest.approx(1 / 3)


def test_long_seizure_counts_as_several_reference_events():
    # The split applies to the reference too: a 700-s seizure is 3 reference events, and a
    # detection of its first minute finds only the first of them.
    c = _score([(1000.0, 1060.0)], ref=[(1000.0, 1700.0)])
    assert _counts(c) == (1, 0, 3)
    assert c.sensitivity == pytest.approx(1 / 3)


def test_false_alarm_rate_arithmetic():
    c = _score([(1000.0, 1010.0), (20000.0, 20010.0)], ref=(), duration=12 * HOUR)
    assert _counts(c) == (0, 2, 0)
    assert c.fa_per_24h == pytest.approx(4.0)
    assert math.isnan(c.sensitivity)  # no seizure to find
    assert c.precision == 0.0
    assert c.f1 == 0.0


def test_no_events_at_all():
    c = _score([], ref=())
    assert _counts(c) == (0, 0, 0)
    assert math.isnan(c.sensitivity) and math.isnan(c.precision) and math.isnan(c.f1)
    assert c.fa_per_24h == 0.0


def test_missed_seizure_without_detections():
    c = _score([])
    assert _counts(c) == (0, 0, 1)
    assert c.sensitivity == 0.0 and math.isnan(c.precision) and c.f1 == 0.0


def test_events_are_clipped_sorted_and_joined():
    # Out of order, overlapping, and partly past the end of a 1-h recording; the one entirely
    # after the end disappears.
    hyp = [(3590.0, 3700.0), (1050.0, 1070.0), (1000.0, 1055.0), (4000.0, 4100.0)]
    assert _counts(_score(hyp)) == (1, 1, 1)


def test_bad_inputs_raise_one_line_errors():
    with pytest.raises(DataError, match="duration"):
        score_recording([], [], 0.0)
    with pytest.raises(DataError, match="start <= end"):
        score_recording([(10.0, 5.0)], [], HOUR)
    with pytest.raises(BenchmarkError, match="min_overlap"):
        SzcoreParams(min_overlap=1.5)


def test_sum_counts_pools_before_ratios():
    a = EventCounts(tp=1, fp=0, n_ref=1, duration_s=HOUR)
    b = EventCounts(tp=0, fp=3, n_ref=3, duration_s=5 * HOUR)
    s = sum_counts([a, b])
    assert (s.tp, s.fp, s.n_ref, s.duration_s) == (1, 3, 4, 6 * HOUR)
    assert s.sensitivity == pytest.approx(0.25)  # not the mean of 1 and 0
    assert s.fa_per_24h == pytest.approx(12.0)
    empty = sum_counts([])
    assert math.isnan(empty.fa_per_24h) and math.isnan(empty.sensitivity)


# -- post-processing -----------------------------------------------------------------------------
def _windows(scores, length=1.0, stride=1.0):
    starts = np.arange(len(scores)) * stride
    return starts, starts + length, np.asarray(scores, dtype=float)


def test_threshold_edge_is_inclusive():
    starts, ends, _ = _windows([0] * 5)
    assert windows_to_events(starts, ends, [0, 0.5, 0, 0, 0]) == [(1.0, 2.0)]
    assert windows_to_events(starts, ends, [0, 0.4999, 0, 0, 0]) == []
    assert windows_to_events(starts, ends, [1] * 5, PostProcessing(threshold=1.0)) == [(0.0, 5.0)]


def test_run_of_windows_is_one_event():
    scores = np.zeros(100)
    scores[20:30] = 0.9
    scores[70:72] = 0.8
    assert windows_to_events(*_windows(scores)) == [(20.0, 30.0), (70.0, 72.0)]


def test_smoothing_removes_an_isolated_spike_but_keeps_a_seizure():
    scores = np.zeros(100)
    scores[10] = 1.0  # one-window spike: (0 + 1 + 0) / 3 < 0.5
    scores[50:60] = 1.0  # sustained: edges average to 2/3 inside and 1/3 outside
    assert windows_to_events(*_windows(scores)) == [(10.0, 11.0), (50.0, 60.0)]
    assert windows_to_events(*_windows(scores), PostProcessing(smooth_windows=3)) == [(50.0, 60.0)]


def test_smoothing_stays_within_the_recording_edges():
    # At the first window the average is over the windows that exist: (0.9 + 0.3) / 2 = 0.6.
    # Padding with zeros would give 0.4 and lose the event.
    w = _windows([0.9, 0.3, 0, 0, 0, 0])
    assert windows_to_events(*w, PostProcessing(smooth_windows=3)) == [(0.0, 1.0)]


def test_min_duration_drops_short_events():
    scores = np.zeros(60)
    scores[5:8] = 1.0  # 3 s
    scores[30:40] = 1.0  # 10 s
    post = PostProcessing(min_duration_s=5.0)
    assert windows_to_events(*_windows(scores), post) == [(30.0, 40.0)]


def test_merge_gap_joins_events_before_the_duration_filter():
    scores = np.zeros(30)
    scores[5:8] = 1.0  # (5, 8)
    scores[9:12] = 1.0  # (9, 12): 1 s later
    w = _windows(scores)
    assert windows_to_events(*w, PostProcessing(merge_gap_s=0.5)) == [(5.0, 8.0), (9.0, 12.0)]
    assert windows_to_events(*w, PostProcessing(merge_gap_s=2.0)) == [(5.0, 12.0)]
    # Merged first, then long enough to survive a 5-s minimum; each piece alone would not.
    merged_then_filtered = PostProcessing(merge_gap_s=2.0, min_duration_s=5.0)
    assert windows_to_events(*w, merged_then_filtered) == [(5.0, 12.0)]
    assert windows_to_events(*w, PostProcessing(min_duration_s=5.0)) == []


def test_overlapping_windows():
    # 4-s windows every 2 s; windows 3-5 start at 6, 8, 10 and end at 10, 12, 14.
    scores = np.zeros(10)
    scores[3:6] = 1.0
    assert windows_to_events(*_windows(scores, length=4.0, stride=2.0)) == [(6.0, 14.0)]


def test_extra_overlapping_windows_unsorted_and_of_unequal_length():
    # 1-s windows plus an extra 3-s window inside the seizure, given out of order; the run's end
    # is the latest window end (13), not the end of the window that starts last.
    starts = [12.0, 0.0, 10.0, 10.5, 11.0, 20.0]
    ends = [13.0, 1.0, 11.0, 13.5, 12.0, 21.0]
    scores = [0.9, 0.0, 0.8, 0.9, 0.7, 0.1]
    assert windows_to_events(starts, ends, scores) == [(10.0, 13.5)]


def test_windows_with_gaps_are_bridged_within_a_run():
    # 1-s windows every 2 s: a run of positive windows is one event covering the gaps.
    scores = [0, 1, 1, 1, 0]
    assert windows_to_events(*_windows(scores, length=1.0, stride=2.0)) == [(2.0, 7.0)]


def test_post_processing_rejects_bad_input():
    with pytest.raises(BenchmarkError, match="smooth_windows"):
        PostProcessing(smooth_windows=0)
    with pytest.raises(BenchmarkError, match="min_duration_s"):
        PostProcessing(min_duration_s=-1.0)
    with pytest.raises(DataError, match="one start, end and score"):
        windows_to_events([0.0, 1.0], [1.0, 2.0], [0.5])
    with pytest.raises(DataError, match="finite"):
        windows_to_events([0.0], [1.0], [float("nan")])
    assert windows_to_events([], [], []) == []


# -- per-patient table ---------------------------------------------------------------------------
def _recording_rows(patient, recording, duration, positive_spans):
    """10-s windows over a recording, scored 1 inside ``positive_spans`` and 0 elsewhere."""
    starts = np.arange(0.0, duration, 10.0)
    score = np.zeros_like(starts)
    for a, b in positive_spans:
        score[(starts >= a) & (starts < b)] = 0.95
    return pd.DataFrame(
        {
            "patient": patient,
            "recording": recording,
            "start": starts,
            "end": starts + 10.0,
            "score": score,
        }
    )


def _pooled_table():
    table = pd.concat(
        [
            # Patient A, recording 1: seizure (1000, 1060) detected; a false alarm at (2000, 2010).
            _recording_rows("A", "A_r1", HOUR, [(1000, 1060), (2000, 2010)]),
            # Patient A, recording 2 (2 h, no seizure): one false alarm.
            _recording_rows("A", "A_r2", 2 * HOUR, [(500, 510)]),
            # Patient B: seizure (300, 400) missed, nothing detected.
            _recording_rows("B", "B_r1", HOUR, []),
        ]
    ).sample(frac=1.0, random_state=0)  # row order must not matter
    reference = {"A_r1": [(1000.0, 1060.0)], "A_r2": [], "B_r1": [(300.0, 400.0)]}
    durations = {"A_r1": HOUR, "A_r2": 2 * HOUR, "B_r1": HOUR}
    return table, reference, durations


def test_score_windows_pools_recordings_per_patient():
    table, reference, durations = _pooled_table()
    out = score_windows(table, reference, durations, PostProcessing(), SzcoreParams())
    assert out.index.name == "patient"
    assert list(out.index) == ["A", "B"]
    assert list(out.columns) == list(EVENT_COLUMNS)

    a = out.loc["A"]
    assert (a.event_tp, a.event_fp, a.event_n_ref) == (1, 2, 1)
    assert a.hours == pytest.approx(3.0)
    assert a.event_sensitivity == pytest.approx(1.0)
    assert a.event_precision == pytest.approx(1 / 3)
    assert a.event_f1 == pytest.approx(0.5)  # 2*1 / (2*1 + 2 + 0)
    assert a.fa_per_24h == pytest.approx(16.0)  # 2 false alarms in 3 h

    b = out.loc["B"]
    assert (b.event_tp, b.event_fp, b.event_n_ref) == (0, 0, 1)
    assert b.event_sensitivity == 0.0 and math.isnan(b.event_precision) and b.fa_per_24h == 0.0


def test_score_windows_uses_post_processing():
    table, reference, durations = _pooled_table()
    # The isolated 10-s false alarms vanish under a 20-s minimum; the 60-s detection stays.
    post = PostProcessing(min_duration_s=20.0)
    out = score_windows(table, reference, durations, post, SzcoreParams())
    assert (out.loc["A"].event_tp, out.loc["A"].event_fp) == (1, 0)


def test_score_windows_requires_annotations_for_every_recording():
    table, reference, durations = _pooled_table()
    del reference["A_r2"]
    with pytest.raises(DataError, match="A_r2"):
        score_windows(table, reference, durations, PostProcessing(), SzcoreParams())
    with pytest.raises(DataError, match="score"):
        score_windows(table.drop(columns="score"), reference, durations)
