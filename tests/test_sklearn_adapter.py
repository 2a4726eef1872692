"""SklearnAdapter: any scikit-learn classifier or Pipeline as a method, in process or as an entry point."""

from __future__ import annotations

import logging

import numpy as np
import pytest
from _plugins import installed_plugin
from fakes import run_config

import benchmark
from benchmark.adapters import REGISTRY, FitContext, adapter_class, meta_from_dict, register
from benchmark.errors import BenchmarkError, UnknownNameError
from benchmark.fake_data import make_windowset
from benchmark.sklearn_adapter import SklearnAdapter


def _pipeline(C: float = 1.0):
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    return make_pipeline(StandardScaler(), LogisticRegression(C=C, max_iter=200))


def test_top_level_names_are_the_adapters():
    from benchmark.braindecode_adapter import BraindecodeAdapter

    assert benchmark.SklearnAdapter is SklearnAdapter and benchmark.BraindecodeAdapter is BraindecodeAdapter
    assert {"SklearnAdapter", "BraindecodeAdapter"} <= set(dir(benchmark)) and "SklearnAdapter" in benchmark.__all__


def test_meta_is_complete_and_says_what_it_is():
    adapter = SklearnAdapter(_pipeline(), representation="bandpower")
    meta = adapter.meta
    assert meta.name == "standardscaler_logisticregression" and meta.representation == "bandpower"
    assert meta.modality == "eeg" and meta.tasks == ("prediction", "detection", "seizure-type")
    assert not meta.is_baseline and meta.pretrained == ""
    assert meta.citation == "scikit-learn Pipeline (Pedregosa et al., JMLR 2011); not a published method"
    assert "not a published method" in meta.description and "Pipeline" in meta.description
    # Its hyper-parameters are the estimator's scalar parameters, by their set_params names.
    assert meta.budgets["paper"]["logisticregression__C"] == 1.0 and "steps" not in meta.budgets["paper"]
    assert meta_from_dict(meta.to_dict(), "x") == meta  # what a sandboxed probe reports reads back the same
    # Any change of the estimator gives another version, hence other run ids.
    assert SklearnAdapter(_pipeline(0.5), representation="bandpower").meta.version != meta.version
    assert SklearnAdapter(_pipeline(), representation="bandpower").meta.version == meta.version
    smoke = SklearnAdapter(_pipeline(), representation="raw", name="x", smoke={"logisticregression__max_iter": 5})
    assert smoke.meta.budgets["smoke"]["logisticregression__max_iter"] == 5
    assert smoke.meta.budgets["paper"]["logisticregression__max_iter"] == 200


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"estimator": "svc"}, "has no predict_proba"),
        ({"representation": "video"}, "representation must be one of"),
        ({"smoke": {"C": 1}}, "smoke sets 'C', which is not a parameter"),
        ({"estimator": object()}, "not a scikit-learn estimator"),
    ],
)
def test_refusals_are_one_line(kwargs, match):
    from sklearn.svm import SVC

    estimator = {"svc": SVC()}.get(kwargs.get("estimator"), kwargs.get("estimator", _pipeline()))
    args = {"representation": "bandpower", **{k: v for k, v in kwargs.items() if k != "estimator"}}
    with pytest.raises(BenchmarkError, match=match) as err:
        SklearnAdapter(estimator, **args)
    assert "\n" not in str(err.value)


def test_fit_predict_takes_the_harness_seed_and_overrides():
    from sklearn.ensemble import RandomForestClassifier

    train = make_windowset(n=80, representation="bandpower", seed=1)
    test = make_windowset(n=30, representation="bandpower", seed=2, labels=False)
    cls = adapter_class(SklearnAdapter(RandomForestClassifier(n_estimators=5), representation="bandpower"), "t")

    def fit(seed: int, **overrides):
        adapter = cls.from_budget("smoke", overrides)
        adapter.fit(train, None, FitContext(seed=seed))
        return adapter

    first, again, other = fit(0), fit(0), fit(1)
    assert first.model_.random_state == 0 and other.model_.random_state == 1
    proba = first.predict_proba(test)
    assert proba.shape == (30, 2) and np.allclose(proba.sum(axis=1), 1)
    assert np.array_equal(proba, again.predict_proba(test))
    assert fit(0, n_estimators=3).model_.n_estimators == 3
    with pytest.raises(UnknownNameError, match="no hyper-parameter 'n_trees'"):
        cls.from_budget("smoke", {"n_trees": 3})


def test_register_takes_an_instance_and_keeps_it_unchanged_per_budget():
    adapter = SklearnAdapter(_pipeline(), representation="bandpower", name="sk_registered_demo")
    try:
        cls = register(adapter)
        assert REGISTRY.get("sk_registered_demo") is cls and cls.meta is adapter.meta
        made = cls.from_budget("paper", {"logisticregression__C": 3.0})
        assert isinstance(made, cls) and made.params["logisticregression__C"] == 3.0
        assert adapter.params["logisticregression__C"] == 1.0 and made.estimator is not adapter.estimator
    finally:
        REGISTRY._methods.pop("sk_registered_demo", None)
        REGISTRY._origin.pop("sk_registered_demo", None)


FACTORY = """
from sklearn.ensemble import GradientBoostingClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from benchmark import SklearnAdapter


def make():
    pipeline = make_pipeline(StandardScaler(), GradientBoostingClassifier(n_estimators=10, max_depth=2))
    return SklearnAdapter(pipeline, representation="bandpower", name="{name}", tasks=("detection",))


BARE = make_pipeline(StandardScaler(), GradientBoostingClassifier())
"""


def test_a_pipeline_factory_entry_point_reaches_the_board_without_a_random_init_flag(tmp_path, tiny_synthetic, caplog):
    from benchmark.report import build_report
    from benchmark.runner import Runner
    from benchmark.store import ResultStore

    source = FACTORY.format(name="gb_plugin_demo")
    for name in installed_plugin(tmp_path, "gb_plugin_demo_mod", source, "gb_plugin_demo", "make"):
        cfg = run_config(tmp_path, tiny_synthetic, method=name, task="detection", protocol="loso", threads=1)
        with caplog.at_level(logging.WARNING, logger="benchmark.runner"):
            rec = Runner(cfg).run()
        assert rec.status == "complete" and rec.provenance["pretrained"] == ""
        assert rec.provenance["weights_source"] == "random init"  # what MethodAdapter.weights_source says
        assert not any("randomly initialised" in r.getMessage() for r in caplog.records)
        assert rec.provenance["code"]["package"] == "gb_plugin_demo_mod"
        with ResultStore(cfg.store_path) as store:
            index = build_report(store, tmp_path / "report")
        board = next((index.parent / "leaderboards").glob("*.html")).read_text()
        assert f'data-run="{rec.run_id}"' in board
        page = (index.parent / "runs" / f"{rec.run_id}.html").read_text()
        assert "Random init." not in page and 'class="badge danger">random init' not in page


def test_an_entry_point_naming_a_bare_pipeline_is_refused_in_one_line_with_the_fix(tmp_path):
    source = FACTORY.format(name="bare_plugin_demo")
    for name in installed_plugin(tmp_path, "bare_plugin_demo_mod", source, "bare_plugin_demo", "BARE"):
        with pytest.raises(UnknownNameError) as err:
            REGISTRY.get(name)
        msg = str(err.value)
        assert "\n" not in msg and "names a sklearn.pipeline.Pipeline, not a MethodAdapter" in msg
        assert "benchmark.SklearnAdapter(estimator, representation=" in msg


def test_an_entry_point_function_returning_something_else_is_refused(tmp_path):
    source = "def make():\n    return 42\n"
    for name in installed_plugin(tmp_path, "odd_plugin_demo_mod", source, "odd_plugin_demo", "make"):
        with pytest.raises(UnknownNameError, match="is a function returning a builtins.int, not a MethodAdapter"):
            REGISTRY.get(name)


PRETRAINED = """
import numpy as np

from benchmark.adapters import MethodAdapter, MethodMeta


class NeedsWeights(MethodAdapter):
    meta = MethodMeta(name="{name}", modality="eeg", tasks=("detection",), representation="bandpower",
                      budgets={{"smoke": {{}}, "paper": {{}}}}, citation="test",
                      pretrained="ResNet-18, ImageNet"{extra})

    def fit(self, train, valid, context):
        pass

    def predict_proba(self, test):
        return np.full((len(test), 2), 0.5)
"""


# A plug-in calling itself a baseline is still flagged, and is not made a baseline (only the suite's own are).
@pytest.mark.parametrize("extra", ["", ", is_baseline=True"], ids=["method", "self-declared baseline"])
def test_a_method_declaring_pretrained_weights_run_without_them_is_still_flagged(
    tmp_path, tiny_synthetic, caplog, capsys, extra
):
    from benchmark.cli import main
    from benchmark.report import build_report
    from benchmark.report.leaderboard import is_baseline
    from benchmark.runner import Runner
    from benchmark.store import ResultStore

    source = PRETRAINED.format(name="needs_weights_demo", extra=extra)
    for name in installed_plugin(tmp_path, "needs_weights_demo_mod", source, "needs_weights_demo", "NeedsWeights"):
        cfg = run_config(tmp_path, tiny_synthetic, method=name, task="detection", protocol="loso", threads=1)
        with caplog.at_level(logging.WARNING, logger="benchmark.runner"):
            rec = Runner(cfg).run()
        assert rec.provenance["pretrained"] == "ResNet-18, ImageNet"
        warned = [r.getMessage() for r in caplog.records if "randomly initialised" in r.getMessage()]
        assert len(warned) == 1 and "where the paper starts from ResNet-18, ImageNet" in warned[0]
        with ResultStore(cfg.store_path) as store:
            index = build_report(store, tmp_path / "report")
        page = (index.parent / "runs" / f"{rec.run_id}.html").read_text()
        assert "Random init." in page and 'class="badge danger">random init' in page
        assert rec.provenance["is_baseline"] is False and not is_baseline(rec)
        assert main(["list", "methods"]) == 0
        (row,) = [line for line in capsys.readouterr().out.splitlines() if line.startswith(name)]
        assert row.split()[1] == "method"


def test_runs_stored_before_pretrained_was_recorded_take_it_from_the_declared_meta():
    from benchmark.adapters import pretrained_of, warns_random_init

    assert pretrained_of("pv_contrastive_timesformer", {}) == "TimeSformer, Kinetics-400"
    assert pretrained_of("resnet_lstm_supcon", {}) == ""  # pre-trained in the run itself, from random init
    assert pretrained_of("pv_contrastive_timesformer", {"pretrained": ""}) == ""  # the record wins
    assert pretrained_of("no_such_method_demo", None) == ""
    assert warns_random_init(
        "TimeSformer, Kinetics-400", "random init (backbone_weights=random; not the paper's setting)"
    )
    assert not warns_random_init("", "random init") and not warns_random_init("X", "file a.pt sha256 0123abcd")
