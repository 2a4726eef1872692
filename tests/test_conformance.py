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
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from fakes import make_windowset

from benchmark import cli
from benchmark.adapters import MethodAdapter, MethodMeta
from benchmark.conformance import (
    DATA_SHAPES,
    DEFAULT_TIME_LIMIT_S,
    WATCH_CHECKS,
    Access,
    CheckResult,
    LabelAccessError,
    LabelGuardedWindowSet,
    all_checks,
    check_adapter,
    check_config_json,
    check_fit,
    check_meta,
    check_name,
    format_results,
    label_like_columns,
    passed,
    reported,
    run_check,
    synthetic_windows,
    trial,
)
from benchmark.datasets.chbmit import CHBMIT_CHANNELS
from benchmark.errors import BenchmarkError, UnknownNameError


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
        (PeeksAtLabels, {"predict_proba", "no_label_access", "single_window", "deterministic", "windows_independent"}),
        (QuietPeek, {"no_label_access"}),
        (Unnormalised, {"unit_interval", "rows_sum_to_one", "single_window"}),
        (NaNs, {"finite", "single_window"}),
        (Unseeded, {"deterministic", "windows_independent"}),
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


def test_libraries_counting_cores_or_reading_package_metadata_are_not_flagged(tmp_path):
    # joblib/loky runs lscpu to count cores, and scikit-learn's dataframe support reads installed
    # packages' entry points: both happen inside a plain scikit-learn fit.
    dist = tmp_path / "some_pkg-1.0.dist-info"
    dist.mkdir()
    (dist / "entry_points.txt").write_text("[x]\n")
    lscpu = shutil.which("lscpu") or shutil.which("nproc")

    def library_work():
        (dist / "entry_points.txt").read_text()
        if lscpu:
            subprocess.run([lscpu], capture_output=True, check=False)

    results = check_adapter(_escaping("test_library_work", library_work))
    assert passed(results), format_results(results)


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


# -- check-adapter: tasks, data shapes, threads, a time limit per check, each check alone ----------------
class NegativeParameters(Prior):
    meta = meta("test_negative_parameters")

    def n_parameters(self):
        return -1


class SeizureTypes(Prior):
    meta = meta("test_seizure_types", tasks=("detection", "seizure-type"))


class AssumesTwoClasses(SeizureTypes):
    """Hard-codes a binary output: right on the default labels, wrong on multi-class ones."""

    meta = meta("test_two_classes", tasks=("detection", "seizure-type"))

    def predict_proba(self, test):
        return np.tile([0.5, 0.5], (len(test), 1))


class AssumesTinyWindows(Prior):
    """Hard-codes 4 channels of 256 samples: right on the tiny set, wrong on CHB-MIT-shaped windows."""

    meta = meta("test_tiny_windows", representation="raw")

    def fit(self, train, valid, context):
        train.load().reshape(len(train), 4 * 256)
        super().fit(train, valid, context)


class Slow(Prior):
    meta = meta("test_slow")

    def fit(self, train, valid, context):
        time.sleep(30)


class SlowAndStubborn(Prior):
    """Swallows every exception, the time-out's included: it still fails once the check returns."""

    meta = meta("test_slow_stubborn")

    def fit(self, train, valid, context):
        try:
            time.sleep(30)
        except BaseException:
            time.sleep(1.5)
        super().fit(train, valid, context)


class ThreadSpy(Prior):
    meta = meta("test_thread_spy")
    seen: list[int] = []

    def fit(self, train, valid, context):
        import torch

        ThreadSpy.seen.append(torch.get_num_threads())
        super().fit(train, valid, context)


def _bad_for_watch(check: str, tmp: Path) -> type[MethodAdapter]:
    (tmp / "answers.txt").write_text("Seizure Start Time: 2996 seconds\n")

    def read_the_store():
        with contextlib.closing(sqlite3.connect(tmp / "results.sqlite")) as db:
            db.execute("select 1").fetchall()

    def bind():
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))

    escape = {
        "no_file_access": lambda: (tmp / "answers.txt").read_text(),
        "no_directory_listing": lambda: os.listdir(tmp),
        "no_process": lambda: os.system("true"),
        "no_foreign_code": lambda: ctypes.CDLL(None).getpid(),
        "no_network": bind,
        "no_database": read_the_store,
    }[check]
    return _escaping(f"test_alone_{check}", escape)


class Transductive(Prior):
    """Scores each window against the whole test set's mean: its output depends on the other windows."""

    meta = meta("test_transductive")

    def predict_proba(self, test):
        x = test.load().reshape(len(test), -1).mean(axis=1)
        p = 1 / (1 + np.exp(-(x - x.mean()) / (x.std() + 1e-9)))
        return np.stack([1 - p, p], axis=1)


# Each check function and an adapter that breaks exactly its rule (None: one of the watch checks).
_BAD_FOR = {
    "check_meta": NoCitation,
    "check_config_json": SetInBudget,
    "check_fit": FitFails,
    "check_predict_proba": PeeksAtLabels,
    "check_outputs": WrongShape,
    "check_no_label_access": QuietPeek,
    "check_single_window": BreaksOnOneWindow,
    "check_data_not_mutated": MutatesTrain,
    "check_deterministic": Unseeded,
    "check_windows_independent": Transductive,
    "check_params_json": SetInBudget,
    "check_n_parameters": NegativeParameters,
    **{f"check_{c}": None for c in WATCH_CHECKS},
}


def test_all_checks_lists_every_check_in_report_order():
    names = [check_name(c) for c in all_checks()]
    assert names == [
        r.name for r in check_adapter(Prior) if r.name not in {"finite", "unit_interval", "rows_sum_to_one"}
    ]
    assert [c.__name__ for c in all_checks()] == list(_BAD_FOR)


@pytest.mark.parametrize("check", all_checks(), ids=lambda c: c.__name__)
def test_each_check_alone_flags_its_bad_adapter_and_passes_a_good_one(check, tmp_path):
    bad = _BAD_FOR[check.__name__] or _bad_for_watch(check_name(check), tmp_path)
    with trial(Prior, synthetic_windows(Prior)) as t:
        good = run_check(check, t)
    assert good and all(r.ok for r in good), good
    with trial(bad, synthetic_windows(bad)) as t:
        results = run_check(check, t)
    assert check_name(check) in failed(results), results


def test_class_checks_take_the_class_or_a_trial():
    with trial(NoCitation, synthetic_windows(NoCitation)) as t:
        assert check_meta(t) == check_meta(NoCitation) == CheckResult("meta", False, "citation is empty")
    assert not check_config_json(Prior, overrides={"bad": float("nan")}).ok
    assert check_config_json(Prior).ok


def test_task_multiclass_labels_every_class_and_catches_a_binary_only_adapter():
    train, valid, test = synthetic_windows(SeizureTypes, task="seizure-type")
    assert train.classes == ("background", "CPSZ", "FNSZ", "GNSZ")
    for ws in (train, valid, test):
        assert np.bincount(ws.y, minlength=4).min() == len(ws) // 4  # every class, in equal shares
        assert ws.info["task"] == "seizure-type" and ws.info["synthetic"] is True
    report = check_adapter(SeizureTypes, task="seizure-type")
    assert passed(report), format_results(report)
    assert "(24, 4)" in by_name(report)["output_shape"].detail
    assert passed(check_adapter(AssumesTwoClasses))
    assert {"output_shape", "single_window"} <= failed(check_adapter(AssumesTwoClasses, task="seizure-type"))
    # A task with fixed classes labels with its own names.
    assert synthetic_windows(Prior, task="detection")[0].classes == ("non-ictal", "ictal")


def test_chbmit_shaped_data_has_18_bipolar_channels_at_256_hz_in_10_s_windows():
    train, _, test = synthetic_windows(AssumesTinyWindows, data="chbmit")
    assert train.window_shape == test.window_shape == (18, 2560)
    assert train.info["ch_names"] == list(CHBMIT_CHANNELS) and train.info["ch_names"][0] == "FP1-F7"
    assert train.info["sfreq"] == 256.0 and train.info["window_s"] == 10.0
    assert (train.meta["end"] - train.meta["start"]).eq(10.0).all()
    assert synthetic_windows(Prior, data="chbmit")[0].window_shape == (18, 5)  # bandpower of the same windows
    assert passed(check_adapter(AssumesTinyWindows))
    results = check_adapter(AssumesTinyWindows, data="chbmit")
    assert "fit" in failed(results) and "cannot reshape" in by_name(results)["fit"].detail


def test_time_limit_fails_a_slow_check_in_one_line_and_skips_what_depends_on_it():
    t0 = time.perf_counter()
    results = check_adapter(Slow, time_limit=0.5)
    assert time.perf_counter() - t0 < 15  # stopped, not waited for
    fit = by_name(results)["fit"]
    assert fit == CheckResult("fit", False, "ran past the time limit of 0.5 s per check (raise it with --time-limit)")
    assert by_name(results)["predict_proba"].detail == "not run: fit failed"
    assert {"meta", "config_json"} <= {r.name for r in results if r.ok}
    # An adapter that swallows the interruption still fails once the check returns.
    assert by_name(check_adapter(SlowAndStubborn, time_limit=1.0))["fit"].detail.startswith("ran past the time limit")
    assert passed(check_adapter(Prior, time_limit=60))


def test_a_method_using_the_other_test_windows_fails_windows_independent():
    results = check_adapter(Transductive)
    assert not by_name(results)["windows_independent"].ok, format_results(results)
    assert "alone vs with the others" in by_name(results)["windows_independent"].detail
    assert by_name(check_adapter(Prior))["windows_independent"].ok


def test_a_check_that_swallows_its_time_out_ends_the_process_in_one_line():
    import sys

    code = """
import time
from benchmark import conformance

conformance.HARD_GRACE_S = 1.0

def stubborn(_):
    while True:
        try:
            time.sleep(0.05)
        except BaseException:
            pass

conformance.run_check(stubborn, None, time_limit=0.3)
"""
    t0 = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 124 and time.perf_counter() - t0 < 30
    (line,) = done.stderr.strip().splitlines()
    assert "stubborn still ran 1 s after its time limit of 0.3 s" in line and "the adapter fails" in line


def test_run_check_restores_the_alarm_handler_and_limits_checks_outside_the_main_thread():
    import signal
    import threading

    before = signal.getsignal(signal.SIGALRM)
    with trial(Slow, synthetic_windows(Slow)) as t:
        assert run_check(check_fit, t, 0.3)[0].detail.startswith("ran past the time limit of 0.3 s")
    assert signal.getsignal(signal.SIGALRM) is before and signal.getitimer(signal.ITIMER_REAL)[0] == 0
    out = []

    class HalfSecond(Prior):
        meta = meta("test_half_second")

        def fit(self, train, valid, context):
            time.sleep(0.5)

    def in_thread():  # no alarm outside the main thread: the check is timed once it returns
        with trial(HalfSecond, synthetic_windows(HalfSecond)) as t:
            out.extend(run_check(check_fit, t, 0.2))

    worker = threading.Thread(target=in_thread)
    worker.start()
    worker.join()
    assert [r.name for r in out] == ["fit"] and not out[0].ok and "0.2 s" in out[0].detail


def test_threads_sets_torch_threads_while_checking_then_restores_them():
    import torch

    before = torch.get_num_threads()
    ThreadSpy.seen.clear()
    assert passed(check_adapter(ThreadSpy, threads=1))
    assert ThreadSpy.seen == [1, 1] and torch.get_num_threads() == before  # both fits of the determinism check


def test_report_names_the_task_and_the_data_shape():
    report = check_adapter(SeizureTypes, task="seizure-type", data="chbmit")
    assert "task seizure-type, 4 classes (background, CPSZ, FNSZ, GNSZ)" in report.setup
    assert "data chbmit (CHB-MIT's 18 bipolar channels at 256 Hz, 10-s windows)" in report.setup
    assert "SYNTHETIC" in report.setup and "bandpower" in report.setup
    assert format_results(report).splitlines()[0] == f"checked on: {report.setup}"
    default = check_adapter(Prior).setup
    assert "no task (generic labels), 2 classes (negative, positive)" in default and "data tiny" in default


@pytest.mark.parametrize(
    "kwargs, words",
    [
        (dict(task="prediction"), "does not declare task 'prediction' (it declares detection); check it with --task"),
        (dict(task="detecton"), "Did you mean 'detection'?"),
        (dict(data="chbmt"), "Did you mean 'chbmit'?"),
        (dict(threads=0), "--threads must be a whole number of at least 1, got 0."),
        (dict(time_limit=0), "--time-limit must be a positive, finite number of seconds, got 0."),
    ],
)
def test_bad_suite_arguments_fail_in_one_line(kwargs, words):
    with pytest.raises(BenchmarkError) as err:
        check_adapter(Prior, **kwargs)
    assert words in str(err.value) and "\n" not in str(err.value)


def test_video_methods_are_refused_eeg_data_shapes():
    with pytest.raises(BenchmarkError, match="is EEG; a video method is checked on synthetic clips"):
        check_adapter(meta_cls("test_video_prior", representation="video", modality="video"), data="chbmit")


def meta_cls(name: str, **kw) -> type[MethodAdapter]:
    class Cls(Prior):
        meta = meta(name, **kw)

    return Cls


@pytest.fixture
def registered():
    from benchmark.adapters import REGISTRY

    REGISTRY.names()
    for cls in (SeizureTypes, Slow):
        REGISTRY.add(cls)
    yield
    for cls in (SeizureTypes, Slow):
        REGISTRY._methods.pop(cls.meta.name, None)
        REGISTRY._origin.pop(cls.meta.name, None)


def test_check_adapter_command_says_what_it_tested_and_applies_its_options(registered, capsys):
    argv = ["check-adapter", "test_seizure_types", "--task", "seizure-type", "--data", "chbmit", "--threads", "1"]
    assert cli.main(argv) == 0
    first, *_, last = capsys.readouterr().out.strip().splitlines()
    assert first.startswith("checked on: task seizure-type, 4 classes") and "data chbmit" in first
    assert last == "21 passed, 0 failed"
    assert cli.main(["check-adapter", "test_slow", "--time-limit", "0.5"]) == 1
    out = capsys.readouterr().out
    assert "FAIL  fit  (ran past the time limit of 0.5 s per check (raise it with --time-limit))" in out


def test_check_adapter_command_choices_and_defaults_are_the_suites():
    parser = cli.build_parser()
    sub = next(a for a in parser._actions if a.dest == "command").choices["check-adapter"]
    actions = {a.dest: a for a in sub._actions}
    assert tuple(actions["data"].choices) == tuple(DATA_SHAPES) and actions["data"].default == "tiny"
    assert f"default {DEFAULT_TIME_LIMIT_S:g})" in actions["time_limit"].help
    assert actions["task"].default is None and actions["task"].choices
    assert all(actions[d].help for d in ("task", "data", "threads", "time_limit"))


def test_fake_windowset_with_more_classes_covers_each_with_its_own_rhythm():
    classes = ("background", "A", "B", "C")
    ws = make_windowset(80, representation="bandpower", classes=classes)
    assert np.bincount(ws.y).tolist() == [20, 20, 20, 20]
    power = ws.load().mean(axis=1)  # (windows, bands)
    theta, alpha = power[:, 1], power[:, 2]  # class A: 5-7 Hz, class B: 9-11 Hz
    assert theta[ws.y == 1].mean() > theta[ws.y == 0].mean() + 0.3
    assert alpha[ws.y == 2].mean() > alpha[ws.y == 0].mean() + 0.3
    # Two classes keep the numbers they always had.
    binary = make_windowset(20, seed=3)
    assert np.bincount(binary.y).tolist() == [15, 5]
