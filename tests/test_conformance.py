"""The conformance suite catches broken adapters, and its guards and fake data behave."""

from __future__ import annotations

import contextlib
import ctypes
import glob
import mmap
import os
import shutil
import site
import socket
import sqlite3
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from fakes import make_windowset

from benchmark.adapters import MethodAdapter, MethodMeta
from benchmark.conformance import (
    WATCH_CHECKS,
    Access,
    CheckResult,
    LabelAccessError,
    LabelGuardedWindowSet,
    check_adapter,
    format_results,
    label_like_columns,
    passed,
    reported,
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


# -- item 3: check-adapter flags a method that reaches outside its window arrays ----------------------
def _escaping(name: str, escape) -> type[MethodAdapter]:
    """A class-prior adapter that calls ``escape()`` while it fits (as a hostile plug-in would)."""

    class Escaping(Prior):
        meta = meta(name)

        def fit(self, train, valid, context):
            escape()
            super().fit(train, valid, context)

    return Escaping


def _flagged(cls, check: str) -> str:
    """The detail of ``check``, asserting that it is the only watch check that failed."""
    results = check_adapter(cls)
    failed_watch = {r.name for r in results if not r.ok} & set(WATCH_CHECKS)
    assert failed_watch == {check}, format_results(results)
    assert passed([r for r in results if r.name not in WATCH_CHECKS]), format_results(results)
    return by_name(results)[check].detail


def test_item03_check_adapter_flags_subprocess():
    detail = _flagged(
        _escaping("test_subprocess", lambda: subprocess.run(["cat", os.devnull], check=True)), "no_process"
    )
    assert f"started a process: cat {os.devnull} (subprocess.Popen)" in detail


def test_item03_check_adapter_flags_os_system():
    detail = _flagged(_escaping("test_os_system", lambda: os.system("true")), "no_process")
    assert "ran a shell command: true (os.system)" in detail


def test_item03_check_adapter_flags_sqlite3_connect(tmp_path):
    store = tmp_path / "results.sqlite"
    sqlite3.connect(store).close()

    def read_the_store():
        with contextlib.closing(sqlite3.connect(store)) as db:
            db.execute("select 1").fetchall()

    detail = _flagged(_escaping("test_sqlite", read_the_store), "no_database")
    assert f"connected to sqlite database {store} (sqlite3.connect)" in detail


def test_item03_check_adapter_flags_ctypes():
    # The program's own symbols include the C library's open(), read() and system().
    detail = _flagged(_escaping("test_ctypes", lambda: ctypes.CDLL(None).getpid()), "no_foreign_code")
    assert "loaded foreign code: the program's own symbols (ctypes.dlopen)" in detail
    assert "looked up foreign function getpid" in detail


def test_item03_check_adapter_flags_socket():
    def bind():
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))

    detail = _flagged(_escaping("test_socket", bind), "no_network")
    assert "bound a socket to 127.0.0.1:0 (socket.bind)" in detail


def test_item03_check_adapter_flags_listdir_outside_roots(tmp_path):
    (tmp_path / "chb01").mkdir()
    (tmp_path / "chb01" / "chb01-summary.txt").touch()
    detail = _flagged(_escaping("test_listdir", lambda: os.listdir(tmp_path)), "no_directory_listing")
    assert f"listed directory {tmp_path} (os.listdir)" in detail
    # A glob lists every folder it walks; the check names the pattern and each folder.
    detail = _flagged(
        _escaping("test_glob", lambda: glob.glob(str(tmp_path / "*" / "*-summary.txt"))), "no_directory_listing"
    )
    assert f"in {tmp_path} (glob.glob/2)" in detail and f"listed directory {tmp_path / 'chb01'}" in detail


def test_item03_check_adapter_allows_listing_and_opening_its_work_folder():
    class UsesWorkDir(Prior):
        meta = meta("test_work_dir")

        def fit(self, train, valid, context):
            (context.work_dir / "w.npy").write_bytes(b"x")
            os.listdir(context.work_dir)
            db = sqlite3.connect(context.work_dir / "log.sqlite")
            db.close()
            sqlite3.connect(":memory:").close()
            super().fit(train, valid, context)

    results = check_adapter(UsesWorkDir)
    assert passed(results), format_results(results)


def test_item03_check_adapter_finds_nothing_in_a_clean_in_tree_adapter():
    # scikit-learn here; the torch baselines and methods are checked by their own conformance tests.
    results = by_name(check_adapter("bandpower_logreg"))
    assert [results[c] for c in WATCH_CHECKS] == [CheckResult(c, True, "") for c in WATCH_CHECKS]


def test_item03_check_adapter_flags_copying_and_mapping_a_file_outside_roots(tmp_path):
    answers = tmp_path / "chb01-summary.txt"
    answers.write_text("Seizure Start Time: 2996 seconds\n")

    def copy_and_map():
        with open(answers, "rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ):
            pass
        shutil.copyfile(answers, tmp_path / "copy.txt")

    detail = _flagged(_escaping("test_copy_map", copy_and_map), "no_file_access")
    for line in (
        f"opened file {answers} (open)",
        f"mapped file {answers} (mmap.__new__)",
        f"copied file {answers} (shutil.copyfile)",
    ):
        assert line in detail


def test_item03_what_a_library_does_while_imported_is_allowed_but_not_the_methods_own_imports():
    import platform

    # An installed plug-in lives beside the libraries; its own top-level code is still watched.
    own = Path(site.getsitepackages()[0]) / "hostile_plugin_pkg"
    uname = dict(check="no_process", event="subprocess.Popen", text="started a process: uname -p")
    library = [Access(**uname, importing=platform.__file__), Access(**uname, importing=np.__file__)]
    mine = [
        Access(**uname, importing=str(own / "__init__.py")),
        Access(
            check="no_directory_listing",
            event="os.listdir",
            text="listed directory /",
            path="/",
            importing=str(own / "evil.py"),
        ),
    ]
    assert reported(library, roots=[], own=own) == {c: [] for c in WATCH_CHECKS}
    found = reported(library + mine, roots=[], own=own)
    assert found["no_process"] == ["started a process: uname -p (subprocess.Popen)"]
    assert found["no_directory_listing"] == ["listed directory / (os.listdir)"]
    assert reported([Access(**uname)], roots=[], own=None)["no_process"]  # not while importing: reported


def test_each_check_runs_on_its_own_on_a_trial():
    from benchmark.conformance import (
        check_deterministic,
        check_fit,
        check_no_label_access,
        check_outputs,
        check_predict_proba,
        synthetic_windows,
        trial,
    )

    # Without check_fit first: the adapter is fitted on the first check that needs it.
    with trial(Unseeded, synthetic_windows(Unseeded)) as t:
        assert not check_deterministic(t).ok
        assert check_fit(t).ok and check_predict_proba(t).ok
    with trial(PeeksAtLabels, synthetic_windows(PeeksAtLabels)) as t:
        assert not check_no_label_access(t).ok
    with trial(WrongShape, synthetic_windows(WrongShape)) as t:
        assert [r.name for r in check_outputs(t) if not r.ok] == [
            "output_shape",
            "finite",
            "unit_interval",
            "rows_sum_to_one",
        ]
    with trial(FitFails, synthetic_windows(FitFails)) as t:
        assert check_predict_proba(t) == CheckResult("predict_proba", False, "not run: fit failed")
        assert check_fit(t) == CheckResult("fit", False, "RuntimeError: boom")
