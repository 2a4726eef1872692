"""Baseline methods shipped with seizure-bench.

Importing this package declares every baseline with :data:`benchmark.adapters.REGISTRY`:

- ``chance``: the training class prior for every window.
- ``bandpower_logreg``, ``bandpower_rf``: log band power with logistic regression / random forest.
- ``eegnet``, ``shallow_convnet``: braindecode's EEGNet and ShallowFBCSPNet on raw windows.
- ``i3d_lstm``, ``r2plus1d_lstm``, ``perez_garcia``: video baselines (frozen spatiotemporal CNN
  features and a recurrent head) from Li et al.'s comparison table.

Importing this package reads only their light metadata modules (``_<module>_meta.py``); a
baseline's module is imported when the registry first needs its class, and it imports scikit-learn
and braindecode only when fitted.
"""

from baselines import (  # noqa: F401  (importing declares the methods)
    _bandpower_meta,
    _braindecode_nets_meta,
    _chance_meta,
    _video_baselines_meta,
)
