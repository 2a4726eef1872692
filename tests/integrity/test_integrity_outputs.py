"""Item 4: outputs that are not probabilities fail their fold with one line, as check-adapter fails them."""

from __future__ import annotations

import numpy as np
import pytest
from fakes import run_config

from benchmark.adapters import REGISTRY, MethodAdapter, MethodMeta
from benchmark.conformance import check_adapter
from benchmark.probabilities import check_probabilities, output_checks, probability_problem
from benchmark.runner import Runner
from benchmark.store import ResultStore

OUTPUT_CHECKS = {"output_shape", "finite", "unit_interval", "rows_sum_to_one"}


def _meta(name):
    return MethodMeta(
        name=name,
        modality="eeg",
        tasks=("prediction", "detection"),
        representation="bandpower",
        budgets={"smoke": {}, "paper": {}},
        citation="test",
    )


class DecisionScores(MethodAdapter):
    """Returns an SVM-like margin for each class: what issue item 4 saw ranked."""

    meta = _meta("decision_scores_item04")

    def fit(self, train, valid, context):
        pass

    def predict_proba(self, test):
        x = test.load().reshape(len(test), -1).mean(axis=1)
        return np.column_stack([-x, x]) * 3.0


class RowsDoNotSum(MethodAdapter):
    meta = _meta("rows_do_not_sum_item04")

    def fit(self, train, valid, context):
        pass

    def predict_proba(self, test):
        return np.tile([0.7, 0.7], (len(test), 1))


@pytest.fixture
def registered():
    REGISTRY.names()
    for cls in (DecisionScores, RowsDoNotSum):
        REGISTRY.add(cls)
    yield
    for cls in (DecisionScores, RowsDoNotSum):
        REGISTRY._methods.pop(cls.meta.name, None)
        REGISTRY._origin.pop(cls.meta.name, None)


@pytest.mark.parametrize(
    "proba, words",
    [
        (np.array([[2.0, -1.0], [0.5, 0.5]]), "outside [0, 1]"),
        (np.array([[0.7, 0.7], [0.5, 0.5]]), "do not sum to 1"),
        (np.array([[np.nan, 1.0], [0.5, 0.5]]), "not finite"),
        (np.array([0.5, 0.5]), "shape (windows, classes)"),
        ([[0.5, 0.5], [0.5, 0.5]], "numpy array"),
    ],
)
def test_item04_output_rule_names_what_is_wrong_in_one_line(proba, words):
    problem = probability_problem(proba, 2, 2)
    assert problem is not None and words in problem and "\n" not in problem
    with pytest.raises(ValueError, match="predict_proba"):
        check_probabilities(proba, 2, 2)


def test_item04_valid_probabilities_pass_within_tolerance():
    proba = np.array([[0.25, 0.75], [1.0 + 5e-7, -5e-7], [0.5, 0.5 + 5e-5]], dtype=np.float32)
    assert probability_problem(proba, 3, 2) is None
    assert check_probabilities(proba, 3, 2).dtype == np.float64


@pytest.mark.parametrize("cls, words", [(DecisionScores, "outside [0, 1]"), (RowsDoNotSum, "do not sum to 1")])
def test_item04_run_fails_fold_on_non_probability_output(tmp_path, tiny_synthetic, registered, cls, words):
    cfg = run_config(tmp_path, tiny_synthetic, method=cls.meta.name, isolation="none", threads=1)
    rec = Runner(cfg).run()
    store = ResultStore(cfg.store_path)
    folds = store.folds(rec.run_id)
    assert folds and all(f.status == "failed" for f in folds)
    assert all(words in f.error and "\n" not in f.error for f in folds)
    assert rec.status != "complete" and len(store.scores(rec.run_id)) == 0  # nothing of it is scored


def test_item04_run_and_check_adapter_apply_the_same_rule(registered):
    for cls in (DecisionScores, RowsDoNotSum):
        results = {r.name: r for r in check_adapter(cls)}
        failed = {n for n in OUTPUT_CHECKS if not results[n].ok}
        assert failed and failed <= {"unit_interval", "rows_sum_to_one"}
    for proba in (np.array([[0.2, 0.8]]), np.array([[3.0, -2.0]]), np.array([[0.6, 0.6]])):
        checks = output_checks(proba, 1, 2)
        assert (probability_problem(proba, 1, 2) is None) == all(c.ok for c in checks)
