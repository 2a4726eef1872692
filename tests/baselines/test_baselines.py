"""Baselines and the PyTorch training helpers, on SYNTHETIC windows (tests/fakes.py)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from fakes import make_windowset
from sklearn.metrics import roc_auc_score

from benchmark import torch_utils
from benchmark.adapters import REGISTRY, FitContext, get_method
from benchmark.conformance import check_adapter, format_results
from benchmark.errors import DataError

BASELINES = ("chance", "bandpower_logreg", "bandpower_rf", "eegnet", "shallow_convnet")


def fold(representation: str, n_train: int = 160, n_test: int = 80, learnable: bool = True, **kw):
    train = make_windowset(n_train, representation=representation, seed=1, learnable=learnable, **kw)
    test = make_windowset(n_test, representation=representation, seed=2, learnable=learnable, **kw)
    return train, test


def fit_predict(name: str, train, test, seed: int = 0, overrides=None, valid=None) -> np.ndarray:
    adapter = get_method(name).from_budget("smoke", overrides)
    adapter.fit(train, valid, FitContext(seed=seed))
    return adapter.predict_proba(test.without_labels())


def test_all_baselines_are_registered_as_baselines():
    registered = {n for n in REGISTRY.names() if get_method(n).meta.is_baseline}
    assert set(BASELINES) <= registered
    for name in BASELINES:
        meta = get_method(name).meta
        assert set(meta.tasks) == {"prediction", "detection", "seizure-type"}
        assert meta.citation


@pytest.mark.parametrize("name", sorted(n for n in REGISTRY.names() if get_method(n).meta.is_baseline))
def test_baseline_passes_conformance(name):
    results = check_adapter(name, budget="smoke", seed=0)
    assert all(r.ok for r in results), format_results(results)


def test_chance_predicts_the_training_prior():
    train, test = fold("bandpower")
    proba = fit_predict("chance", train, test)
    prior = np.bincount(train.y) / len(train.y)
    np.testing.assert_allclose(proba, np.tile(prior, (len(test), 1)))


@pytest.mark.parametrize("name", ["bandpower_logreg", "bandpower_rf"])
def test_band_power_baselines_learn_the_rhythm(name):
    train, test = fold("bandpower")
    assert roc_auc_score(test.y, fit_predict(name, train, test)[:, 1]) > 0.8


def test_logreg_is_near_chance_when_labels_carry_no_signal():
    train, test = fold("bandpower", n_train=200, n_test=200, learnable=False)
    assert abs(roc_auc_score(test.y, fit_predict("bandpower_logreg", train, test)[:, 1]) - 0.5) < 0.15


def test_sklearn_baseline_rejects_a_single_class_fold():
    train = make_windowset(40, representation="bandpower")
    train.y[:] = 0
    with pytest.raises(DataError, match="one class only"):
        get_method("bandpower_logreg").from_budget("smoke").fit(train, None, FitContext(seed=0))


def test_shallow_convnet_learns_the_rhythm_on_raw_windows():
    train, test = fold("raw", n_train=256, n_test=96)
    proba = fit_predict("shallow_convnet", train, test, overrides={"epochs": 6, "batch_size": 32})
    assert roc_auc_score(test.y, proba[:, 1]) > 0.8


def test_eegnet_auto_kernel_is_half_the_sampling_rate():
    train = make_windowset(8, n_times=512, sfreq=256)
    adapter = get_method("eegnet").from_budget("paper", {"epochs": 1})
    adapter.fit(train, None, FitContext(seed=0))
    assert adapter.model_[1].conv_temporal.weight.shape[-1] == 128
    assert adapter.n_parameters() == sum(p.numel() for p in adapter.model_.parameters())


def test_torch_baseline_seed_changes_the_model():
    train, test = fold("raw", n_train=64, n_test=16)
    a = fit_predict("eegnet", train, test, seed=0, overrides={"epochs": 1})
    b = fit_predict("eegnet", train, test, seed=1, overrides={"epochs": 1})
    assert not np.allclose(a, b)


# --- torch_utils -------------------------------------------------------------------------------


class TinyNet(torch.nn.Module):
    """Log-power of each channel -> linear; enough to separate the synthetic classes."""

    def __init__(self, n_chans: int, n_classes: int = 2):
        super().__init__()
        self.linear = torch.nn.Linear(n_chans, n_classes)

    def forward(self, x):
        return self.linear(torch.log(x.pow(2).mean(-1) + 1e-6))


def test_class_weights_are_balanced_and_zero_for_absent_classes():
    np.testing.assert_allclose(torch_utils.class_weights(np.array([0, 0, 0, 1]), 2), [4 / 6, 2.0])
    np.testing.assert_allclose(torch_utils.class_weights(np.array([0, 0]), 3), [1.0, 0.0, 0.0])


def test_input_scaler_uses_training_channel_scale_and_centres_windows():
    train = make_windowset(32, n_chans=3)
    scaler = torch_utils.InputScaler(3).fit(train, batch_size=5)
    x = train.load()
    np.testing.assert_allclose(scaler.scale.numpy(), np.median(x.std(axis=-1), axis=0), rtol=1e-5)
    out = scaler(torch.from_numpy(x) + 1000.0)
    assert out.mean(-1).abs().max() < 1e-3
    assert out.abs().max() <= scaler.clip


def test_train_classifier_keeps_the_best_validation_epoch_and_is_seeded():
    train, valid = make_windowset(96, seed=1), make_windowset(32, seed=2)
    runs = []
    for _ in range(2):
        torch_utils.seed_everything(0)
        model = torch_utils.with_input_scaling(TinyNet(4), train)
        result = torch_utils.train_classifier(model, train, valid, FitContext(seed=0), epochs=6, lr=0.05, batch_size=16)
        runs.append((result, torch_utils.predict_proba_torch(model, valid.without_labels(), "cpu", 7)))
    (result, proba), (_, proba2) = runs
    np.testing.assert_array_equal(proba, proba2)
    losses = [h["valid_loss"] for h in result.history]
    assert result.best_epoch == int(np.argmin(losses)) and result.best_valid_loss == pytest.approx(min(losses))
    assert proba.shape == (32, 2) and np.allclose(proba.sum(1), 1)
    # The restored weights are those of the best epoch: recomputing the validation loss gives it back.
    w = torch.tensor(torch_utils.class_weights(train.y, 2), dtype=torch.float32)
    loss = torch.nn.functional.nll_loss(torch.log(torch.from_numpy(proba)).float(), torch.from_numpy(valid.y), weight=w)
    assert float(loss) == pytest.approx(result.best_valid_loss, rel=1e-4)


def test_train_classifier_patience_and_epoch_cap():
    train, valid = make_windowset(64, seed=1), make_windowset(16, seed=2, learnable=False)
    torch_utils.seed_everything(0)
    model = torch_utils.with_input_scaling(TinyNet(4), train)
    result = torch_utils.train_classifier(
        model,
        train,
        valid,
        FitContext(seed=0),
        epochs=200,
        lr=0.5,
        batch_size=8,
        patience=2,
        max_windows_per_epoch=16,
    )
    assert result.epochs_run < 200
    assert result.epochs_run == result.best_epoch + 3


def test_train_classifier_needs_labels():
    ws = make_windowset(8, labels=False)
    with pytest.raises(ValueError, match="labelled"):
        torch_utils.train_classifier(TinyNet(4), ws, None, FitContext(seed=0), epochs=1, lr=0.1, batch_size=4)
