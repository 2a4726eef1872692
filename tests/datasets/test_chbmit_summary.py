"""The CHB-MIT summary parser, on synthetic snippets and on all 24 real summaries."""

from __future__ import annotations

import pytest

from benchmark.datasets.chbmit_summary import parse_clock, parse_summary
from benchmark.errors import DataError

# Seizure counts per case in the CHB-MIT documentation (PhysioNet table of cases); 198 in total.
OFFICIAL_COUNTS = {
    "chb01": 7,
    "chb02": 3,
    "chb03": 7,
    "chb04": 4,
    "chb05": 5,
    "chb06": 10,
    "chb07": 3,
    "chb08": 5,
    "chb09": 4,
    "chb10": 7,
    "chb11": 3,
    "chb12": 40,
    "chb13": 12,
    "chb14": 8,
    "chb15": 20,
    "chb16": 10,
    "chb17": 3,
    "chb18": 6,
    "chb19": 3,
    "chb20": 8,
    "chb21": 4,
    "chb22": 3,
    "chb23": 7,
    "chb24": 16,
}

# The one place where the official .seizures file and the summary disagree by more than 1 s:
# chb24_21's first seizure starts at 2404 s in the annotation file and at 2804 s in the summary
# (ending 2872 s; a 468-s seizure would be far longer than chb24's others, so the summary wins).
KNOWN_ANNOTATION_DIFFERENCES = {("chb24_21.edf", 0)}

SNIPPET = """Data Sampling Rate: 256 Hz
*************************

Channels in EDF Files:
**********************
Channel 1: FP1-F7
Channel 2: T8-P8
Channel 3: T8-P8

File Name: p_01.edf
File Start Time: 23:30:00
File End Time: 24:30:00
Number of Seizures in File: 1
Seizure Start Time: 10 seconds
Seizure End Time: 20 seconds

Channels changed:
*****************
Channel 1: FP1-F7
Channel 2: -
Channel 3: CZ-PZ

File Name: p_02.edf
File Start Time: 00:30:07
File End Time: 1:30:07
Number of Seizures in File: 3
Seizure 1 Start Time: 100 seconds
Seizure 1 End Time:  130 seconds
Seizure 2 Start Time:  200 seconds
Seizure 2 End Time:   250
Seizure 3 Start Time:300 seconds
Seizure 3 End Time: 310.5 seconds

File Name: p_03+.edf
Number of Seizures in File: 0
"""


def test_snippet_quirks_are_parsed():
    s = parse_summary(SNIPPET)
    assert s.sfreq == 256.0
    assert [f.name for f in s.files] == ["p_01.edf", "p_02.edf", "p_03+.edf"]
    first, second, third = s.files
    # Clock past 24:00 kept as written; duration from the difference.
    assert (first.start_clock, first.end_clock, first.duration) == (84600, 88200, 3600.0)
    assert first.seizures == ((10.0, 20.0),)
    # Both seizure wordings, odd spacing, optional unit, fractional seconds.
    assert second.seizures == ((100.0, 130.0), (200.0, 250.0), (300.0, 310.5))
    assert second.duration == 3600.0
    # The channel section applies to the files after it, duplicates and placeholders kept.
    assert first.channels == ("FP1-F7", "T8-P8", "T8-P8")
    assert second.channels == third.channels == ("FP1-F7", "-", "CZ-PZ")
    assert len(s.channel_sections) == 2
    # No clock times (chb24 style).
    assert third.start_clock is None and third.duration is None and third.seizures == ()
    assert s.n_seizures == 4


def test_end_clock_written_modulo_a_day_gives_positive_duration():
    text = "File Name: a.edf\nFile Start Time: 23:00:00\nFile End Time: 01:00:00\n"
    text += "Number of Seizures in File: 0\n"
    assert parse_summary(text).files[0].duration == 7200.0


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        (
            "File Name: a.edf\nNumber of Seizures in File: 2\nSeizure Start Time: 1 seconds\n"
            "Seizure End Time: 2 seconds\n",
            "says 2 seizures but lists 1",
        ),
        (
            "File Name: a.edf\nNumber of Seizures in File: 1\nSeizure Start Time: 5 seconds\n"
            "Seizure End Time: 5 seconds\n",
            "not after its start",
        ),
        ("File Name: a.edf\nNumber of Seizures in File: 1\nSeizure Start Time: 5 seconds\n", "has no end time"),
        ("File Name: a.edf\nNumber of Seizures in File: 0\nSeizure End Time: 5 seconds\n", "without a start time"),
        ("File Name: a.edf\nNumber of Seizures in File: 0\nSeizure onset at 5\n", "unrecognised line"),
        (
            "File Name: a.edf\nFile Start Time: 25:61:00\nFile End Time: 26:00:00\nNumber of Seizures in File: 0\n",
            "bad clock time",
        ),
        (
            "File Name: a.edf\nFile Start Time: 10:00:00\nNumber of Seizures in File: 0\n",
            "start time without an end time",
        ),
        ("Channel 1: FP1-F7\n", "outside a channel section"),
    ],
)
def test_malformed_summaries_raise_one_line_data_errors(text, fragment):
    with pytest.raises(DataError, match=fragment) as err:
        parse_summary(text, source="x-summary.txt")
    assert "\n" not in str(err.value) and "x-summary.txt" in str(err.value)


def test_parse_clock():
    assert parse_clock("00:00:00") == 0
    assert parse_clock("1:44:37") == 6277
    assert parse_clock("27:09:34") == 27 * 3600 + 9 * 60 + 34
    with pytest.raises(ValueError):
        parse_clock("12:3:4")


@pytest.fixture(scope="module")
def real_summaries(shared_data):
    root = shared_data / "chbmit"
    return {
        p.parent.name: (p.parent, parse_summary(p.read_text(), source=str(p)))
        for p in sorted(root.glob("chb*/chb*-summary.txt"))
    }


def test_all_real_summaries_give_the_official_seizure_counts(real_summaries):
    assert sorted(real_summaries) == sorted(OFFICIAL_COUNTS)
    counts = {case: s.n_seizures for case, (_, s) in real_summaries.items()}
    assert counts == OFFICIAL_COUNTS
    assert sum(counts.values()) == 198
    for case, (_, s) in real_summaries.items():
        assert s.sfreq == 256.0
        for f in s.files:
            assert f.name.startswith(case) and f.name.endswith(".edf")
            # Every file is covered by a channel section; clock times are all-or-none.
            assert len(f.channels) >= 18
            assert (f.start_clock is None) == (case == "chb24")
            if f.duration is not None:
                assert 0 < f.duration <= 4 * 3600 + 60
            for onset, offset in f.seizures:
                assert 0 <= onset < offset <= (f.duration or float("inf"))


# wfdb 4.3 calls a pandas API that newer pandas deprecates; not ours to fix.
@pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::FutureWarning")
def test_real_summaries_match_the_official_wfdb_annotations(real_summaries):
    wfdb = pytest.importorskip("wfdb")
    differences, compared, files_with_seizures = set(), 0, 0
    for case, (folder, s) in real_summaries.items():
        for f in s.files:
            annotation = folder / f"{f.name}.seizures"
            files_with_seizures += bool(f.seizures)
            assert annotation.exists() == bool(f.seizures), f.name
            if not annotation.exists():
                continue
            ann = wfdb.rdann(str(folder / f.name), "seizures")
            assert list(ann.symbol) == ["[", "]"] * len(f.seizures), f.name
            onsets, offsets = ann.sample[::2] / ann.fs, ann.sample[1::2] / ann.fs
            for i, ((on, off), a_on, a_off) in enumerate(zip(f.seizures, onsets, offsets)):
                compared += 1
                if abs(on - a_on) > 1 or abs(off - a_off) > 1:
                    differences.add((f.name, i))
    assert compared == 198 and files_with_seizures == 141
    assert differences == KNOWN_ANNOTATION_DIFFERENCES
