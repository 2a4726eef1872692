"""Baseline methods shipped with seizure-bench.

Importing this package registers every baseline with :data:`benchmark.adapters.REGISTRY`:

- ``chance``: the training class prior for every window.
- ``bandpower_logreg``, ``bandpower_rf``: log band power with logistic regression / random forest.
- ``eegnet``, ``shallow_convnet``: braindecode's EEGNet and ShallowFBCSPNet on raw windows.
- ``i3d_lstm``, ``r2plus1d_lstm``, ``perez_garcia``: video baselines (frozen spatiotemporal CNN
  features and a recurrent head) from Li et al.'s comparison table.

Baselines import scikit-learn and braindecode only when fitted, so ``import baselines`` stays cheap.
"""

from baselines import bandpower, braindecode_nets, chance, video_baselines  # noqa: F401  (imports register the methods)
