"""The chance baseline: every window gets the class frequencies of the training set.

It sets the floor every method must beat: its AUROC is 0.5 by construction, and its
precision/recall trade-off is what a detector without any information achieves.
"""

from __future__ import annotations

import numpy as np

from baselines import _chance_meta
from benchmark.adapters import FitContext, MethodAdapter, register
from benchmark.windowset import WindowSet


@register
class ChanceAdapter(MethodAdapter):
    """Predict the training class prior for every window, ignoring the EEG.

    The input representation is ``bandpower`` only because it is the smallest window cache the
    harness can build (a few numbers per channel); the values are never read.

    Notes
    -----
    ``predict_proba`` rows equal ``bincount(train.y) / len(train.y)``. A threshold on them flags
    every window or none, i.e. the majority-class rule; on class-balanced training windows the prior
    is 0.5, which the event threshold (``>= 0.5``) flags: as an event detector, chance is then the
    always-alarm detector, the no-skill reference of the event metrics.
    """

    meta = _chance_meta.CHANCE

    def fit(self, train: WindowSet, valid: WindowSet | None, context: FitContext) -> None:
        counts = np.bincount(train.y, minlength=train.n_classes).astype(np.float64)
        self.prior_ = counts / counts.sum()
        context.logger.debug("chance prior: %s", dict(zip(train.classes, self.prior_.round(4))))

    def predict_proba(self, test: WindowSet) -> np.ndarray:
        return np.tile(self.prior_, (len(test), 1))
