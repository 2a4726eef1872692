"""BraindecodeAdapter: any braindecode model class as a method, in process or as an entry point."""

from __future__ import annotations

import numpy as np
import pytest
from _plugins import installed_plugin
from fakes import run_config

from benchmark.adapters import REGISTRY, FitContext, adapter_class, meta_from_dict
from benchmark.braindecode_adapter import TRAIN_KEYS, BraindecodeAdapter, braindecode_models
from benchmark.errors import BenchmarkError, UnknownNameError
from benchmark.fake_data import make_windowset


def _shallow():
    return braindecode_models().ShallowFBCSPNet


def test_meta_is_complete_and_settings_are_its_hyper_parameters():
    adapter = BraindecodeAdapter(_shallow(), n_filters_time=8, epochs=20, smoke={"epochs": 1})
    meta = adapter.meta
    assert meta.name == "shallowfbcspnet" and meta.representation == "raw" and meta.modality == "eeg"
    assert not meta.is_baseline and meta.pretrained == "" and "not a published method" in meta.citation
    assert meta.citation.startswith("ShallowFBCSPNet from braindecode (Schirrmeister et al.,")
    assert "not a published method" in meta.description and "ShallowFBCSPNet" in meta.description
    assert meta.budgets["paper"]["epochs"] == 20 and meta.budgets["smoke"]["epochs"] == 1
    assert meta.budgets["paper"]["n_filters_time"] == meta.budgets["smoke"]["n_filters_time"] == 8
    assert set(TRAIN_KEYS) <= set(meta.budgets["smoke"]) and meta.budgets["smoke"]["max_windows_per_epoch"] == 2048
    assert meta_from_dict(meta.to_dict(), "x") == meta


def test_refusals_are_one_line():
    with pytest.raises(BenchmarkError, match="takes a model class") as err:
        BraindecodeAdapter(_shallow()(n_chans=2, n_outputs=2, n_times=256))
    assert "\n" not in str(err.value)
    with pytest.raises(BenchmarkError, match="smoke sets 'drop_prob'.*give it as a keyword argument too"):
        BraindecodeAdapter(_shallow(), smoke={"drop_prob": 0.1})


def test_fit_predict_is_seeded_and_builds_the_class_with_its_arguments():
    train = make_windowset(n=48, n_chans=4, n_times=256, seed=1)
    test = make_windowset(n=16, n_chans=4, n_times=256, seed=2, labels=False)
    cls = adapter_class(BraindecodeAdapter(_shallow(), n_filters_time=4, n_filters_spat=4, name="bd_fit_demo"), "t")

    def predict(seed: int):
        adapter = cls.from_budget("smoke", {"epochs": 1})
        adapter.fit(train, None, FitContext(seed=seed))
        return adapter, adapter.predict_proba(test)

    first, proba = predict(0)
    assert proba.shape == (16, 2) and np.allclose(proba.sum(axis=1), 1)
    assert np.array_equal(proba, predict(0)[1])
    assert first.n_parameters() > 0 and first.model_[-1].conv_time_spat.conv_time.out_channels == 4


SOURCE = """
from braindecode.models import ShallowFBCSPNet

from benchmark import BraindecodeAdapter

NET = BraindecodeAdapter(ShallowFBCSPNet, name="{name}", tasks=("detection",), n_filters_time=4, n_filters_spat=4,
                         smoke={{"epochs": 1, "max_windows_per_epoch": 128}})
"""


def test_an_entry_point_naming_an_adapter_instance_reaches_the_board(tmp_path, tiny_synthetic):
    from benchmark.report import build_report
    from benchmark.runner import Runner
    from benchmark.store import ResultStore

    source = SOURCE.format(name="bd_plugin_demo")
    for name in installed_plugin(tmp_path, "bd_plugin_demo_mod", source, "bd_plugin_demo", "NET"):
        cfg = run_config(tmp_path, tiny_synthetic, method=name, task="detection", protocol="loso", threads=1)
        rec = Runner(cfg).run()
        assert rec.status == "complete" and rec.provenance["n_params"] > 0
        with ResultStore(cfg.store_path) as store:
            index = build_report(store, tmp_path / "report")
        board = next((index.parent / "leaderboards").glob("*.html")).read_text()
        assert f'data-run="{rec.run_id}"' in board


def test_an_entry_point_naming_a_network_class_is_refused_with_the_fix(tmp_path):
    source = "from braindecode.models import ShallowFBCSPNet\n"
    for name in installed_plugin(tmp_path, "bdcls_plugin_demo_mod", source, "bdcls_plugin_demo", "ShallowFBCSPNet"):
        with pytest.raises(UnknownNameError, match="BraindecodeAdapter\\(ModelClass, name=...\\)") as err:
            REGISTRY.get(name)
        assert "\n" not in str(err.value)
