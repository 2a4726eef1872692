"""The conformance suite catches broken adapters, and its guards and fake data behave."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from fakes import make_windowset

from benchmark.adapters import MethodAdapter, MethodMeta
from benchmark.conformance import (
    LabelAccessError,
    LabelGuardedWindowSet,
    check_adapter,
    format_results,
    label_like_columns,
    passed,
)
from benchmark.errors import UnknownNameError


def meta(name: str, representation: str = "bandpower", **kw) -> MethodMeta:
    fields = dict(
        name=name,
        modality="eeg",
        tasks=("detection",),
        representation=representation,
        budgets={"smoke": {}, "paper": {}},
        citation="test adapter",
    )
    fields.update(kw)
    return MethodMeta(**fields)


class Prior(MethodAdapter):
    """A correct adapter (class prior) that the broken ones below derive from."""

    meta = meta("test_prior")

    def fit(self, train, valid, context):
        self.prior = np.bincount(train.y, minlength=train.n_classes) / len(train.y)

    def predict_proba(self, test):
        return np.tile(self.prior, (len(test), 1))


class WrongShape(Prior):
    meta = meta("test_wrong_shape")

    def predict_proba(self, test):
        return super().predict_proba(test)[:, 1]


class PeeksAtLabels(Prior):
    meta = meta("test_peeks")

    def predict_proba(self, test):
        y = test.y  # forbidden
        return super().predict_proba(test) if y is None else np.eye(2)[y]


class QuietPeek(Prior):
    """Reads the labels but swallows the error: still caught by the access log."""

    meta = meta("test_quiet_peek")

    def predict_proba(self, test):
        try:
            _ = test.subset([0]).y
        except Exception:
            pass
        return super().predict_proba(test)


class Unnormalised(Prior):
    meta = meta("test_unnormalised")

    def predict_proba(self, test):
        return super().predict_proba(test) * 2


class NaNs(Prior):
    meta = meta("test_nans")

    def predict_proba(self, test):
        p = super().predict_proba(test)
        p[0] = np.nan
        return p


class Unseeded(Prior):
    meta = meta("test_unseeded")

    def predict_proba(self, test):
        a = np.random.default_rng().uniform(size=len(test))  # ignores context.seed
        return np.column_stack([a, 1 - a])


class MutatesTrain(Prior):
    meta = meta("test_mutates", representation="raw")

    def fit(self, train, valid, context):
        train.sources[0][:] *= 0.5  # in-place scaling of the shared cache
        super().fit(train, valid, context)


class BreaksOnOneWindow(Prior):
    meta = meta("test_one_window")

    def predict_proba(self, test):
        return np.squeeze(super().predict_proba(test))


class FitFails(Prior):
    meta = meta("test_fit_fails")

    def fit(self, train, valid, context):
        raise RuntimeError("boom")


class NoCitation(Prior):
    meta = meta("test_no_citation", citation="")


class SetInBudget(Prior):
    meta = meta("test_set_budget", budgets={"smoke": {"layers": {1, 2}}, "paper": {}})


def by_name(results):
    return {r.name: r for r in results}


def failed(results) -> set[str]:
    return {r.name for r in results if not r.ok}


def test_a_correct_adapter_passes_every_check():
    results = check_adapter(Prior)
    assert passed(results), format_results(results)
    assert {"meta", "fit", "output_shape", "no_label_access", "deterministic", "single_window"} <= set(by_name(results))


@pytest.mark.parametrize(
    "cls, expected",
    [
        (WrongShape, {"output_shape", "finite", "unit_interval", "rows_sum_to_one", "single_window"}),
        (PeeksAtLabels, {"predict_proba", "no_label_access", "single_window", "deterministic"}),
        (QuietPeek, {"no_label_access"}),
        (Unnormalised, {"unit_interval", "rows_sum_to_one", "single_window"}),
        (NaNs, {"finite", "single_window"}),
        (Unseeded, {"deterministic"}),
        (MutatesTrain, {"data_not_mutated"}),
        (BreaksOnOneWindow, {"single_window"}),
        (NoCitation, {"meta"}),
        (SetInBudget, {"config_json", "params_json"}),
    ],
)
def test_broken_adapter_fails_exactly_the_relevant_checks(cls, expected):
    results = check_adapter(cls)
    assert failed(results) == expected, format_results(results)


def test_wrong_shape_is_reported_with_the_shape():
    detail = by_name(check_adapter(WrongShape))["output_shape"].detail
    assert "(24,)" in detail and "(24, 2)" in detail


def test_label_peek_names_the_offending_line():
    detail = by_name(check_adapter(PeeksAtLabels))["no_label_access"].detail
    assert Path(__file__).name in detail and "predict_proba" in detail


def test_failed_fit_skips_the_dependent_checks():
    results = check_adapter(FitFails)
    assert "RuntimeError: boom" in by_name(results)["fit"].detail
    assert failed(results) == {r.name for r in results} - {"meta", "config_json"}
    assert all("not run" in r.detail for r in results if r.name not in {"meta", "config_json", "fit"})


def test_check_adapter_resolves_registered_names_and_rejects_unknown_ones():
    assert passed(check_adapter("chance"))
    with pytest.raises(UnknownNameError, match="Did you mean 'chance'"):
        check_adapter("chanse")


def test_format_results_marks_failures_and_synthetic_data():
    text = format_results(check_adapter(Unnormalised))
    assert "FAIL  rows_sum_to_one" in text and "PASS  output_shape" in text and "synthetic" in text


def test_guarded_window_set_allows_windowset_internals_but_not_callers():
    ws = LabelGuardedWindowSet.wrap(make_windowset(10))
    batches = list(ws.iter_batches(4))
    assert [len(x) for x, _ in batches] == [4, 4, 2] and all(y is None for _, y in batches)
    assert "LabelGuardedWindowSet" in repr(ws) and ws.label_reads == []
    sub = ws.subset([1, 2]).without_labels()
    assert isinstance(sub, LabelGuardedWindowSet)
    with pytest.raises(LabelAccessError):
        sub.y
    assert len(ws.label_reads) == 1  # the access log is shared with subsets
    with pytest.raises(ValueError):
        LabelGuardedWindowSet(ws.sources, ws.refs, ws.meta, np.zeros(10), ws.classes)


def test_label_like_columns():
    meta = pd.DataFrame(columns=["patient", "start", "end", "unit", "label", "seconds_to_onset", "is_ictal"])
    assert label_like_columns(meta) == ["label", "seconds_to_onset", "is_ictal"]
    assert label_like_columns(make_windowset(4).meta) == []


# --- fake data -----------------------------------------------------------------------------------


def test_fake_windowset_is_deterministic_and_labelled_as_synthetic():
    a, b = make_windowset(20, seed=3), make_windowset(20, seed=3)
    np.testing.assert_array_equal(a.load(), b.load())
    np.testing.assert_array_equal(a.y, b.y)
    assert not np.array_equal(a.load(), make_windowset(20, seed=4).load())
    assert a.info["synthetic"] is True
    assert set(np.unique(a.y)) == {0, 1}
    assert list(a.meta.columns) == ["patient", "recording", "start", "end", "unit"]
    assert make_windowset(5, labels=False).y is None


@pytest.mark.parametrize(
    "representation, shape", [("raw", (4, 256)), ("bandpower", (4, 5)), ("spectrogram", (4, 5, 60))]
)
def test_fake_windowset_representations(representation, shape):
    ws = make_windowset(6, representation=representation)
    assert ws.window_shape == shape and ws.info["representation"] == representation
    assert not ws.sources[0].flags.writeable  # like the read-only window cache


def test_fake_windowset_memmap_and_class_signal(tmp_path):
    ws = make_windowset(64, representation="bandpower", directory=tmp_path)
    assert isinstance(ws.sources[0], np.memmap) and (tmp_path / "fake_bandpower_0.npy").exists()
    theta = ws.load()[:, :, 1].mean(axis=1)
    assert theta[ws.y == 1].mean() > theta[ws.y == 0].mean() + 0.3  # class 1 carries the rhythm
    noise = make_windowset(64, representation="bandpower", learnable=False)
    flat = noise.load()[:, :, 1].mean(axis=1)
    assert abs(flat[noise.y == 1].mean() - flat[noise.y == 0].mean()) < 0.3
