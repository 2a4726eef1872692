"""Small SzCORE cases scored by the reference package ``szcore-evaluation`` (0.0.7).

:data:`RECORDINGS` lists a few recordings of three subjects in BIDS names, each with its annotated
seizures (the reference) and the detections of some detector (the hypothesis; ``None``: no file,
which SzCORE scores as no detections). Times are whole seconds, since szcore-evaluation draws 1-Hz
masks with truncated edges while ``timescoring`` rounds them. ``tests/test_szcore.py`` builds a BIDS
dataset and a hypothesis folder from them, scores it with seizure-bench and compares the result with
``szcore_evaluation_reference.json``, which this script writes by running the reference package on
the same files. szcore-evaluation needs Python >= 3.12 (this project supports 3.11), so it is not a
dependency; regenerate the reference with it installed in a separate Python 3.12 environment::

    python tests/data/szcore_cases.py --write

Only the standard library is imported here, so that environment needs szcore-evaluation alone.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

REFERENCE_JSON = Path(__file__).with_name("szcore_evaluation_reference.json")
COLUMNS = ("onset", "duration", "eventType", "confidence", "channels", "dateTime", "recordingDuration")

# (subject, session, run, duration s, reference seizures, hypothesis events or None for no file)
RECORDINGS = (
    # detected seizure, one false alarm, two detections 45 s apart merged into one false alarm
    ("01", "01", "00", 3600, [(100, 160)], [(95, 170), (1000, 1010), (2000, 2005), (2050, 2060)]),
    ("01", "01", "01", 600, [], []),
    # a 400-s seizure split into 300 s + 100 s (one piece detected); a detection within the 30-s tolerance
    ("02", "01", "00", 1800, [(300, 700), (1500, 1530)], [(320, 340), (1480, 1490)]),
    ("02", "01", "01", 900, [(50, 80)], None),
    # no seizure, one false alarm: sensitivity undefined, F1 zero
    ("03", "01", "00", 1200, [], [(10, 20)]),
)


def basename(sub: str, ses: str, run: str) -> str:
    return f"sub-{sub}_ses-{ses}_task-szMonitoring_run-{run}"


def relpath(sub: str, ses: str, run: str) -> str:
    """The events file of a recording, relative to the dataset (or hypothesis folder) root."""
    return f"sub-{sub}/ses-{ses}/eeg/{basename(sub, ses, run)}_events.tsv"


def events_tsv(events, duration: float) -> str:
    """An SzCORE events.tsv: one ``sz`` row per event, or one ``bckg`` row covering the recording."""
    rows = ["\t".join(COLUMNS)]
    for onset, end in events:
        rows.append("\t".join(map(str, (onset, end - onset, "sz", "n/a", "n/a", "n/a", duration))))
    if not events:
        rows.append("\t".join(map(str, (0, duration, "bckg", "n/a", "n/a", "n/a", duration))))
    return "\n".join(rows) + "\n"


def write_folders(root: Path) -> tuple[Path, Path]:
    """The reference and hypothesis folders of :data:`RECORDINGS` (events files only)."""
    ref, hyp = root / "ref", root / "hyp"
    for sub, ses, run, duration, seizures, detections in RECORDINGS:
        for folder, events in ((ref, seizures), (hyp, detections)):
            if events is None:
                continue
            path = folder / relpath(sub, ses, run)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(events_tsv(events, duration))
    return ref, hyp


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help=f"write {REFERENCE_JSON.name}")
    args = parser.parse_args()
    from szcore_evaluation.evaluate import evaluate_dataset

    with tempfile.TemporaryDirectory() as tmp:
        ref, hyp = write_folders(Path(tmp))
        result = evaluate_dataset(ref, hyp, Path(tmp) / "out.json")
    text = json.dumps(result, indent=2, sort_keys=True) + "\n"
    if args.write:
        REFERENCE_JSON.write_text(text)
        print(f"wrote {REFERENCE_JSON}")
    else:
        print(text)


if __name__ == "__main__":
    main()
