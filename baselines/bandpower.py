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

from typing import TYPE_CHECKING

from baselines import _bandpower_meta
from benchmark.adapters import FitContext, register
from benchmark.sklearn_adapter import SklearnMethod

if TYPE_CHECKING:
    from sklearn.base import ClassifierMixin

# scikit-learn is imported inside _make_estimator: importing it costs seconds that listing the
# registered methods should not pay. Fit and predict (flattened windows, validation windows used
# for training) are those of every scikit-learn method (benchmark.sklearn_adapter).


@register
class BandPowerLogReg(SklearnMethod):
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
class BandPowerRF(SklearnMethod):
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
