"""Seizure selections on a patient's timeline that several tasks share.

Lead seizures: seizure prediction evaluates only seizures not preceded by another seizure within
the preictal horizon, because a seizure whose seizure occurrence period (SOP) and seizure
prediction horizon (SPH) overlap an earlier seizure has no clean preictal period (Maiwald et al.,
2004, Clin. Neurophysiol. 115:2097-2107 for SOP/SPH; lead-seizure selection as in e.g. Truong et
al., 2018, Neural Networks 105:104-111).
"""

from __future__ import annotations

from benchmark.index import Patient, Seizure

__all__ = ["lead_seizures"]


def lead_seizures(patient: Patient, sop_s: float, sph_s: float = 0.0) -> list[tuple[float, float, str, Seizure]]:
    """The patient's lead seizures for a given SOP and SPH.

    A seizure is a lead seizure when no earlier seizure ends (or is still going on) within
    ``sop_s + sph_s`` seconds before its onset on the patient timeline. The first seizure of a
    patient always qualifies here; whether enough recording precedes it is for the task to decide.

    Parameters
    ----------
    patient
        The patient; recordings without a place on the timeline are ignored.
    sop_s, sph_s
        Seizure occurrence period and seizure prediction horizon, seconds.

    Returns
    -------
    list of tuple
        ``(abs_onset, abs_offset, recording_id, seizure)`` as in
        :meth:`benchmark.index.Patient.seizures_on_timeline`, sorted by onset.
    """
    if sop_s < 0 or sph_s < 0:
        raise ValueError("sop_s and sph_s must be >= 0")
    horizon = sop_s + sph_s
    lead = []
    latest_end = None  # end of the latest-ending seizure seen so far
    for item in patient.seizures_on_timeline():
        onset, offset = item[0], item[1]
        if latest_end is None or onset - latest_end >= horizon:
            lead.append(item)
        latest_end = offset if latest_end is None else max(latest_end, offset)
    return lead
