"""Spectral band-power baselines: log band power per channel, then a classical classifier.

Power in the delta..low-gamma bands of every channel (see :func:`benchmark.features.band_power`) is
the oldest and most studied family of seizure-prediction and -detection features (Mormann et al.
2007; Shoeb & Guttag 2010). The features are flattened to ``n_chans * n_bands`` columns.

References
----------
Mormann, F., Andrzejak, R. G., Elger, C. E., & Lehnertz, K. (2007). Seizure prediction: the long and
winding road. Brain, 130(2), 314-333.

Shoeb, A. H., & Guttag, J. V. (2010). Application of machine learning to epileptic seizure detection.
Proceedings of the 27th International Conference on Machine Learning (ICML), 975-982.

Breiman, L. (2001). Random forests. Machine Learning, 45(1), 5-32.

Pedregosa, F. et al. (2011). Scikit-learn: machine learning in Python. Journal of Machine Learning
Research, 12, 2825-2830.
"""

from __future__ import annotations

from abc import abstractmethod
from typing import TYPE_CHECKING

import numpy as np

from baselines import _bandpower_meta
from benchmark.adapters import FitContext, MethodAdapter, register
from benchmark.errors import DataError
from benchmark.windowset import WindowSet

if TYPE_CHECKING:
    from sklearn.base import ClassifierMixin

# scikit-learn is imported inside _make_estimator: importing it costs seconds that listing the
# registered methods should not pay.
BATCH = 4096  # windows per read; band-power windows are a few hundred bytes each


def flat_features(ws: WindowSet) -> np.ndarray:
    """All windows of ``ws`` as a ``(n, n_features)`` float32 matrix, read batch by batch."""
    n_features = int(np.prod(ws.window_shape)) if len(ws) else 0
    out = np.empty((len(ws), n_features), dtype=np.float32)
    for start in range(0, len(ws), BATCH):
        stop = min(start + BATCH, len(ws))
        out[start:stop] = ws.get(np.arange(start, stop)).reshape(stop - start, -1)
    return out


def full_proba(proba: np.ndarray, seen: np.ndarray, n_classes: int) -> np.ndarray:
    """Expand probabilities over the classes a model saw to all ``n_classes`` columns (zeros elsewhere)."""
    out = np.zeros((proba.shape[0], n_classes))
    out[:, seen] = proba
    return out


class _SklearnBandPower(MethodAdapter):
    """Shared fit/predict for scikit-learn classifiers on flattened log band power."""

    @abstractmethod
    def _make_estimator(self, context: FitContext) -> ClassifierMixin:
        """Build the (unfitted) estimator from ``self.params`` and the context's seed."""

    def fit(self, train: WindowSet, valid: WindowSet | None, context: FitContext) -> None:
        # No early stopping to tune, so the validation windows are used for training too.
        data = train if valid is None or len(valid) == 0 else WindowSet.concat([train, valid])
        present = np.unique(data.y)
        if len(present) < 2:
            only = data.classes[int(present[0])] if len(present) else "none"
            raise DataError(
                f"{self.meta.name}: the training windows of this fold hold one class only ('{only}'); "
                "check the split or the task's labelling."
            )
        self.n_classes_ = data.n_classes
        self.model_ = self._make_estimator(context)
        self.model_.fit(flat_features(data), data.y)

    def predict_proba(self, test: WindowSet) -> np.ndarray:
        proba = self.model_.predict_proba(flat_features(test))
        return full_proba(proba, self.model_.classes_, self.n_classes_)


@register
class BandPowerLogReg(_SklearnBandPower):
    """Standardised log band power -> L2-regularised logistic regression (balanced class weights).

    A linear model on log spectral power; it separates windows by how much power each channel has
    in each band, the classical spectral seizure feature (Mormann et al. 2007; Shoeb & Guttag 2010).
    """

    meta = _bandpower_meta.BANDPOWER_LOGREG

    def _make_estimator(self, context: FitContext) -> ClassifierMixin:
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler

        return make_pipeline(
            StandardScaler(),
            LogisticRegression(
                C=float(self.params["C"]),
                max_iter=int(self.params["max_iter"]),
                class_weight="balanced",
                random_state=context.seed,
            ),
        )

    def n_parameters(self) -> int | None:
        model = getattr(self, "model_", None)
        if model is None:
            return None
        clf = model[-1]
        return int(clf.coef_.size + clf.intercept_.size)


@register
class BandPowerRF(_SklearnBandPower):
    """Log band power -> random forest (Breiman 2001) with balanced class weights.

    Non-linear in the band powers and insensitive to their scale, so no standardisation is needed.
    """

    meta = _bandpower_meta.BANDPOWER_RF

    def _make_estimator(self, context: FitContext) -> ClassifierMixin:
        from sklearn.ensemble import RandomForestClassifier

        return RandomForestClassifier(
            n_estimators=int(self.params["n_estimators"]),
            min_samples_leaf=int(self.params["min_samples_leaf"]),
            max_features=self.params["max_features"],
            class_weight="balanced",
            random_state=context.seed,
            n_jobs=context.n_jobs,
        )
