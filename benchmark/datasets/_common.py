"""Steps shared by the EEG dataset loaders once they have read a folder.

Every loader ends the same way: honour the ``SYNTHETIC.json`` marker a generator leaves in a
folder it wrote, build the :class:`~benchmark.index.RecordingIndex` and log one summary line;
:func:`finish_index` does all three so the loaders cannot drift apart.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Iterable

from benchmark.errors import DataError
from benchmark.index import Exclusion, Patient, RecordingIndex

log = logging.getLogger(__name__)

# Written by the synthetic generators (benchmark.datasets.synthetic, .tusz_synthetic) into the
# folders they create.
SYNTHETIC_MARKER = "SYNTHETIC.json"


def finish_index(
    dataset: str,
    patients: Iterable[Patient],
    *,
    root: Path,
    channels: Iterable[str],
    exclusions: Iterable[Exclusion] = (),
    notes: Iterable[str] = (),
    synthetic: bool = False,
    layout: str | None = None,
    noun: str = "patients",
    detail: str = "",
) -> RecordingIndex:
    """Build a loader's index and log its size.

    Parameters
    ----------
    dataset
        Dataset name recorded in the index.
    patients, channels, exclusions, notes
        The index's content, in the order the loader found it.
    root
        Folder the recordings' relative paths start from.
    synthetic
        Whether the caller already knows the data are generated.
    layout
        Name of the folder layout for the note added when the marker is found (``"CHB-MIT"``
        gives "generated EEG in CHB-MIT layout"). A folder holding ``SYNTHETIC.json`` is then
        marked synthetic whatever ``synthetic`` says, so generated EEG loaded under a real
        dataset's name is still labelled synthetic everywhere. ``None``: the loader does not look
        for the marker.
    noun, detail
        How the log line names the patients (``"neonates"``) and what it adds after the dataset
        name (``" (consensus all)"``).

    Returns
    -------
    RecordingIndex
    """
    root = Path(root)
    notes = list(notes)
    if layout is not None and not synthetic and (root / SYNTHETIC_MARKER).is_file():
        log.warning("%s holds %s: its EEG is generated; results are labelled synthetic", root, SYNTHETIC_MARKER)
        notes.append(f"{SYNTHETIC_MARKER} present: generated EEG in {layout} layout, labelled synthetic")
        synthetic = True
    index = RecordingIndex(
        dataset=dataset,
        patients=tuple(patients),
        channels=tuple(channels),
        exclusions=tuple(exclusions),
        synthetic=synthetic,
        root=str(root),
        notes=tuple(notes),
    )
    log.info(
        "%s%s: %d %s, %d recordings, %d seizures, %d exclusions",
        dataset, detail, len(index.patients), noun, index.n_recordings, index.n_seizures, len(index.exclusions),
    )
    return index


def parse_seconds(text: str, column: str, where: str) -> float:
    """A finite number of seconds read from a table cell; a one-line :class:`DataError` otherwise."""
    try:
        value = float(text)
    except ValueError:
        raise DataError(f"{where}: {column} {text!r} is not a number of seconds") from None
    if value != value or value in (float("inf"), float("-inf")):
        raise DataError(f"{where}: {column} {text!r} is not a finite number of seconds")
    return value
