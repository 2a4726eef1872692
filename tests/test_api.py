"""The Python API (benchmark.api): the README's example runs and gives the numbers the CLI stores for
the same run; methods as classes and instances; one-line errors; ``import benchmark`` stays light.

Runs are on a tiny SYNTHETIC dataset; store, splits and window cache live under ``tmp_path``.
"""

from __future__ import annotations

import functools
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import benchmark
from benchmark import api, cli
from benchmark.adapters import REGISTRY, MethodAdapter, MethodMeta
from benchmark.errors import DataError, StoreError, UnknownNameError
from benchmark.store import ResultStore

README = Path(__file__).resolve().parents[1] / "README.md"
RUN = ["--method", "bandpower_logreg", "--dataset", "chbmit-synthetic", "--task", "detection", "--protocol", "loso"]


def readme_api_example() -> str:
    """The ```python block of the README section "## Python API"."""
    section = re.search(r"^## Python API\n(.*?)(?=^## |\Z)", README.read_text(), re.MULTILINE | re.DOTALL)
    assert section, "README.md has no '## Python API' section"
    block = re.search(r"^```python\n(.*?)^```", section.group(1), re.MULTILINE | re.DOTALL)
    assert block, "the 'Python API' section has no ```python block"
    return block.group(1)


@pytest.fixture
def places(tmp_path, monkeypatch, tiny_synthetic):
    """The command's defaults pointed under tmp_path, and the dataset functions at the tiny data."""
    monkeypatch.setenv("SEIZURE_BENCH_STORE", str(tmp_path / "api.sqlite"))
    monkeypatch.setenv("SEIZURE_BENCH_SPLITS", str(tmp_path / "splits"))
    monkeypatch.setenv("SEIZURE_BENCH_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(api, "evaluate", functools.partial(api.evaluate, data_dir=tiny_synthetic, progress=False))
    monkeypatch.setattr(api, "load_index", functools.partial(api.load_index, data_dir=tiny_synthetic))
    return tmp_path


def test_readme_example_gives_the_numbers_the_cli_stores_for_that_run(places, tiny_synthetic, capsys):
    namespace: dict = {}
    exec(compile(readme_api_example(), f"{README}:Python API", "exec"), namespace)
    results, runs, recordings = namespace["results"], namespace["runs"], namespace["recordings"]

    # The same run through the command, into a store of its own: computed again, not read back.
    cli_store = places / "cli.sqlite"
    assert cli.main(["run", *RUN, "--data-dir", str(tiny_synthetic), "--store", str(cli_store), "--no-progress"]) == 0
    store = ResultStore(cli_store)
    (run,) = store.list_runs()
    assert set(results["run_id"]) == {run.run_id}
    stored = store.patient_metrics(run.run_id)
    got = results.set_index("patient")[list(stored.columns)]
    pd.testing.assert_frame_equal(got, stored, check_names=False)
    assert len(results) == len(stored) > 0
    assert results["synthetic"].all() and (results["method"] == "bandpower_logreg").all()
    assert (results[["dataset", "task", "protocol"]] == ["chbmit-synthetic", "detection", "loso"]).all().all()
    # load_results reads the API's store: the same rows.
    pd.testing.assert_frame_equal(runs.reset_index(drop=True), results.reset_index(drop=True))
    assert recordings["synthetic"].all() and set(results["patient"]) <= set(recordings["patient"])


class ConstantPrior(MethodAdapter):
    """Predicts each window's class with the training prior, shrunk toward 0.5 by ``shrink``."""

    meta = MethodMeta(
        name="api_constant_prior",
        modality="eeg",
        tasks=("detection",),
        representation="bandpower",
        budgets={"smoke": {"shrink": 0.0}, "paper": {"shrink": 0.0}},
    )

    def fit(self, train, valid, context):
        self.p = float(np.mean(train.y == 1)) * (1 - self.params["shrink"]) + 0.5 * self.params["shrink"]

    def predict_proba(self, test):
        return np.tile([1 - self.p, self.p], (len(test), 1))


@pytest.fixture
def own_method():
    yield ConstantPrior
    REGISTRY._methods.pop(ConstantPrior.meta.name, None)
    REGISTRY._origin.pop(ConstantPrior.meta.name, None)


def test_evaluate_takes_an_adapter_class_and_an_instance(places, own_method):
    by_class = benchmark.evaluate(own_method, "chbmit-synthetic", task="detection", protocol="loso")
    assert (by_class["method"] == "api_constant_prior").all() and len(by_class)
    assert REGISTRY.get("api_constant_prior") is own_method
    # An instance at the budget's settings is the same run; another setting is another run.
    same = benchmark.evaluate(own_method.from_budget("smoke"), "chbmit-synthetic", task="detection", protocol="loso")
    assert set(same["run_id"]) == set(by_class["run_id"])
    other = benchmark.evaluate(
        own_method.from_budget("smoke", {"shrink": 0.5}), "chbmit-synthetic", task="detection", protocol="loso"
    )
    assert set(other["run_id"]).isdisjoint(by_class["run_id"])
    rec = ResultStore(places / "api.sqlite").get_run(other["run_id"].iloc[0])
    assert rec.method_config["shrink"] == 0.5


def test_evaluate_and_check_adapter_take_a_wrapped_scikit_learn_estimator(places):
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from benchmark.conformance import _resolve

    def wrapped(c):
        pipe = make_pipeline(StandardScaler(), LogisticRegression(C=c, max_iter=200))
        return benchmark.SklearnAdapter(pipe, representation="bandpower", name="api_wrapped_logreg")

    try:
        first = benchmark.evaluate(wrapped(1.0), "chbmit-synthetic", task="detection", protocol="loso")
        assert (first["method"] == "api_wrapped_logreg").all() and first["roc_auc"].notna().any()
        # The same name given again takes the new estimator's place (its settings are the run's).
        again = benchmark.evaluate(wrapped(1.0), "chbmit-synthetic", task="detection", protocol="loso")
        assert again["roc_auc"].tolist() == first["roc_auc"].tolist()
        assert _resolve(wrapped(1.0)).meta.name == "api_wrapped_logreg"
    finally:
        REGISTRY._methods.pop("api_wrapped_logreg", None)
        REGISTRY._origin.pop("api_wrapped_logreg", None)


def test_evaluate_refuses_an_unknown_option_in_one_line_before_running(places):
    with pytest.raises(UnknownNameError, match=r"unknown option 'interictal_gapp'.*'interictal_gap'") as e:
        benchmark.evaluate("bandpower_logreg", "chbmit-synthetic", interictal_gapp=3)
    assert "\n" not in str(e.value)
    with pytest.raises(UnknownNameError, match="unknown method 'no_such_method'"):
        benchmark.evaluate("no_such_method", "chbmit-synthetic")
    assert not (places / "api.sqlite").exists()


def test_load_results_and_compare_never_create_a_store(tmp_path):
    missing = tmp_path / "none.sqlite"
    with pytest.raises(StoreError, match="no results store at"):
        benchmark.load_results(missing)
    with pytest.raises(StoreError, match="no results store at"):
        benchmark.compare("a", "b", metric="accuracy", store=missing)
    assert not missing.exists()


def test_compare_gives_the_commands_numbers_as_a_dataframe(tmp_path):
    from benchmark.reported import import_bundled

    path = tmp_path / "r.sqlite"
    import_bundled(ResultStore(path))
    one = benchmark.compare("Lee2024 Table 2 (SOP 10)", "Lee2024 Table 3 (SOP 10)", metric="accuracy", store=path)
    assert len(one) == 1 and one.loc[0, "p_value"] == pytest.approx(0.009, abs=5e-4)  # Table 6 of Lee et al.
    many = benchmark.compare(
        "Lee2024 Table 2 (SOP 10)",
        "Lee2024 Table 3 (SOP 10)",
        "Lee2024 Table 3 (SOP 10)",
        metric="accuracy",
        store=path,
    )
    assert list(many["b"]) == ["Lee2024 Table 3 (SOP 10)"] * 2 and (many["p_holm"] >= many["p_value"]).all()
    with pytest.raises(DataError, match="unknown metric"):
        benchmark.compare("Lee2024 Table 2 (SOP 10)", "Lee2024 Table 3 (SOP 10)", metric="acc", store=path)
    runs = benchmark.load_results(path)
    assert set(runs["kind"]) == {"reported"} and "Lee2024 Table 2 (SOP 10)" in set(runs["method"])


def test_load_index_has_one_row_per_recording(tiny_synthetic):
    from benchmark.datasets import load_dataset

    index = load_dataset("chbmit-synthetic", tiny_synthetic)
    table = benchmark.load_index("chbmit-synthetic", tiny_synthetic)
    assert len(table) == sum(len(p.recordings) for p in index.patients)
    assert table["n_seizures"].sum() == index.n_seizures > 0
    assert set(table["patient"]) == set(index.patient_ids) and table["synthetic"].all()
    assert (table["duration"] > 0).all() and (table["seizure_seconds"] <= table["duration"]).all()


def test_import_benchmark_stays_light_and_compare_is_the_api_function():
    code = (
        "import sys, benchmark\n"
        "assert 'pandas' not in sys.modules, 'import benchmark loaded pandas'\n"
        "assert {'evaluate', 'load_results', 'compare', 'load_index'} <= set(dir(benchmark))\n"
        "assert {'evaluate', 'load_results', 'compare', 'load_index'} <= set(benchmark.__all__)\n"
        "from benchmark.compare import compare_many\n"  # the submodule of the same name loads first
        "assert callable(benchmark.compare) and benchmark.compare.__module__ == 'benchmark.api'\n"
        "assert benchmark.evaluate.__module__ == 'benchmark.api'\n"
        "try:\n    benchmark.no_such_thing\nexcept AttributeError:\n    pass\nelse:\n    raise SystemExit(1)\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)
