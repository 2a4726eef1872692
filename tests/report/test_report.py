"""Tests of the static HTML report (no browser): content, escaping, statistics, links."""

from __future__ import annotations

import html
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from benchmark import metrics as M
from benchmark.errors import BenchmarkError
from benchmark.metrics import summarize
from benchmark.report import build_report
from benchmark.report.leaderboard import task_params_label
from benchmark.stats import holm, paired_tests
from benchmark.store import FoldResult, ResultStore, RunRecord

EVIL_METHOD = "<script>alert(1)</script>"
EVIL_PATIENT = "<b>p1</b>"
PATIENTS = [EVIL_PATIENT, "chb02", "chb03", "chb04", "chb05", "chb10"]
PARAMS = {"sop_minutes": 10, "sph_minutes": 0, "interictal_gap_hours": 3, "seed": 0}
TRACEBACK = 'Traceback (most recent call last):\n  File "fit.py", line 3\nRuntimeError: CUDA out of <memory>'


def _per_patient(
    rng: np.random.Generator,
    level: float,
    metrics=("sensitivity", "specificity", "fpr", "accuracy", "balanced_accuracy", "roc_auc"),
) -> pd.DataFrame:
    base = np.clip(level + rng.normal(0, 0.05, size=(len(PATIENTS), len(metrics))), 0, 1)
    df = pd.DataFrame(base, index=pd.Index(PATIENTS, name="patient"), columns=list(metrics))
    if "fpr" in df:
        df["fpr"] = 1 - df["specificity"]
    return df


def _add(store: ResultStore, rec: RunRecord, per_patient: pd.DataFrame, folds=()) -> None:
    store.create_run(rec)
    for fold in folds:
        store.save_fold(rec.run_id, fold)
    store.save_patient_metrics(rec.run_id, per_patient)
    store.save_summary(rec.run_id, summarize(per_patient, n_boot=200))


def make_store(path: Path) -> ResultStore:
    """A store with a strong synthetic run, two baselines, a reported set and another SOP group.

    Shared with ``test_report_browser.py``.
    """
    rng = np.random.default_rng(7)
    store = ResultStore(path)
    common = dict(dataset="chbmit", task="prediction", protocol="loocv", task_params=PARAMS)
    strong = _per_patient(rng, 0.85)
    strong.loc["chb05", "roc_auc"] = np.nan  # an undefined metric for one patient
    _add(
        store,
        RunRecord(
            "run-strong",
            "run",
            EVIL_METHOD,
            **common,
            synthetic=False,
            budget="smoke",
            status="partial",
            seed=0,
            split_hash="splithash123",
            index_hash="indexhash456",
            created_at="2025-01-01T00:00:00+00:00",
            provenance={
                "versions": {"torch": "2.13.0"},
                "git_commit": "abc123",
                "weights_source": "random init",
                "pretrained": "ResNet-18, ImageNet",  # its paper starts from pretrained weights
                "n_params": 12345,
                "hardware": "2 CPU cores",
            },
            leakage={"ok": True, "checked_folds": 6, "violations": []},
            exclusions=[
                {"scope": "patient", "patient": "chb24", "recording": None, "reason": "no clock times <in summary>"}
            ],
        ),
        strong,
        folds=[
            FoldResult(
                "fold-00",
                EVIL_PATIENT,
                "ok",
                metrics={"sensitivity": 0.9, "accuracy": 0.88},
                n_train=100,
                n_test=20,
                fit_seconds=1.5,
                predict_seconds=0.2,
            ),
            FoldResult(
                "fold-01",
                "chb02",
                "failed",
                error="RuntimeError: CUDA out of <memory>\nmore detail",
                traceback=TRACEBACK,
                n_train=100,
                n_test=0,
            ),
        ],
    )
    _add(
        store,
        RunRecord(
            "run-chance",
            "run",
            "chance",
            **common,
            synthetic=False,
            budget="smoke",
            status="complete",
            created_at="2025-01-02T00:00:00+00:00",
            provenance={"weights_source": "random init", "is_baseline": True},
        ),
        _per_patient(rng, 0.5),
    )
    _add(
        store,
        RunRecord(
            "run-logreg",
            "run",
            "bandpower_logreg",
            **common,
            synthetic=False,
            budget="smoke",
            status="complete",
            created_at="2025-01-03T00:00:00+00:00",
            leakage={"ok": False, "checked_folds": 6, "overlapping_folds": ["fold-03"], "protocol_leaky": True},
        ),
        _per_patient(rng, 0.7),
    )
    # The paper states fewer task parameters and metrics than a run records.
    reported = _per_patient(rng, 0.8, metrics=("sensitivity", "specificity", "fpr", "accuracy"))
    _add(
        store,
        RunRecord(
            "reported-lee",
            "reported",
            "ResNet-LSTM",
            dataset="chbmit",
            task="prediction",
            protocol="loocv",
            task_params={"sop_minutes": 10, "sph_minutes": 0, "interictal_gap_hours": 3},
            status="reported",
            display_name="Lee2024 Table 2 (SOP 10)",
            citation="Lee D et al. Sci Rep 2024",
            source="https://doi.org/10.1038/s41598-023-43328-y",
            created_at="2025-01-04T00:00:00+00:00",
        ),
        reported,
    )
    _add(
        store,
        RunRecord(
            "run-sop30",
            "run",
            "eegnet",
            dataset="chbmit",
            task="prediction",
            protocol="loocv",
            task_params={**PARAMS, "sop_minutes": 30},
            budget="smoke",
            status="complete",
            synthetic=True,
            created_at="2025-01-05T00:00:00+00:00",
        ),
        _per_patient(rng, 0.6),
    )
    return store


SEIZURE_TYPES = ("background", "FNSZ", "GNSZ", "TCSZ")
EFFICIENCY = {
    "window_shape": [19, 256],
    "n_params_total": 1234,
    "n_params_eeg_encoder": 1000,
    "flops_per_window": 5.0e6,
    "model_size_mb": 0.5,
    "inference_ms_per_window": 0.7,
}
VIDEO_LEVEL = {
    "classes": ["ES", "PNES"],
    "confusion": [[7, 2], [1, 5]],
    "aggregation": "mean",
    "n_videos": 15,
    "metrics": {"video_accuracy": 0.8, "video_balanced_accuracy": 0.8016, "video_f1": 0.7692},
}


def add_reference_sets(store: ResultStore, rng: np.random.Generator) -> None:
    """Two synthetic chbmit-synthetic runs, and reported sets on the real chbmit at SOP 10 and 30."""
    synth_params = {"sop_minutes": 10.0, "sph_minutes": 0.0, "interictal_gap_hours": 4.0, "seed": 0}
    for run_id, method, level in (("syn-a", "resnet_lstm_supcon", 0.7), ("syn-b", "chance", 0.5)):
        _add(
            store,
            RunRecord(
                run_id,
                "run",
                method,
                dataset="chbmit-synthetic",
                task="prediction",
                protocol="loocv",
                task_params=synth_params,
                synthetic=True,
                status="complete",
            ),
            _per_patient(rng, level),
        )
    for sop in (10, 30):
        _add(
            store,
            RunRecord(
                f"rep-{sop}",
                "reported",
                "ResNet-LSTM",
                dataset="chbmit",
                task="prediction",
                protocol="loocv",
                task_params={"sop_minutes": sop, "sph_minutes": 0, "interictal_gap_hours": 3},
                status="reported",
                display_name=f"Lee2024 Table 3 (SOP {sop})",
                citation="Lee D et al. Sci Rep 2024",
            ),
            _per_patient(rng, 0.9, metrics=("sensitivity", "accuracy")),
        )


def add_protocol_runs(store: ResultStore, rng: np.random.Generator) -> dict[str, float]:
    """One method under kfold5-random and kfold5 (with measured model cost), and a paper's
    dataset-level figures; returns each protocol's stored mean balanced accuracy."""
    levels = {"kfold5-random": 0.95, "kfold5": 0.70}
    for protocol, level in levels.items():
        per = _per_patient(rng, level, metrics=("accuracy", "balanced_accuracy"))
        _add(
            store,
            RunRecord(
                f"t-{protocol}",
                "run",
                "distilclip_eeg_teacher",
                dataset="tusz-synthetic",
                task="seizure-type",
                protocol=protocol,
                task_params={"seed": 0},
                synthetic=True,
                status="complete",
                provenance={"efficiency": EFFICIENCY},
            ),
            per,
        )
    fig = summarize(pd.DataFrame({"accuracy": [0.9775]}, index=pd.Index(["all"], name="patient")))
    store.create_run(
        RunRecord(
            "paper-fig",
            "reported",
            "DistilCLIP-EEG teacher",
            dataset="tusz-synthetic",
            task="seizure-type",
            protocol="kfold5-random",
            task_params={},
            status="reported",
            display_name="Wang2025 teacher (figures)",
            provenance={"level": "dataset", "role": "proposed"},
        )
    )
    store.save_summary("paper-fig", fig)
    return {p: float(store.summary(f"t-{p}").loc["balanced_accuracy", "mean"]) for p in levels}


def add_scored_run(
    store: ResultStore,
    rng: np.random.Generator,
    run_id: str,
    classes=SEIZURE_TYPES,
    provenance: dict | None = None,
    n_windows: int = 30,
) -> None:
    """A synthetic run with window scores, per-patient metrics and pooled metrics computed from them
    as the harness does (multi-class when ``classes`` has more than two names)."""
    k = len(classes)
    store.create_run(
        RunRecord(
            run_id,
            "run",
            "eegnet",
            dataset="tusz-synthetic",
            task="seizure-type" if k > 2 else "detection",
            protocol="loso",
            synthetic=True,
            status="running",
        )
    )
    for i, patient in enumerate(("p1", "p2", "p3")):
        y = rng.integers(0, k, n_windows)
        logits = rng.normal(0, 1, (n_windows, k))
        logits[np.arange(n_windows), y] += 1.2
        proba = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
        scores = pd.DataFrame(
            {
                "patient": patient,
                "recording": "r1",
                "start": np.arange(n_windows) * 4.0,
                "end": np.arange(n_windows) * 4.0 + 4.0,
                "label": y,
            }
        )
        if k > 2:
            scores["pred"], scores["score"], scores["probs"] = proba.argmax(1), proba.max(1), list(proba)
            fold_metrics = M.multiclass_metrics(y, proba, classes)
        else:
            scores["pred"], scores["score"] = (proba[:, 1] >= 0.5).astype(int), proba[:, 1]
            fold_metrics = M.binary_metrics(y, proba[:, 1])
        store.save_fold(run_id, FoldResult(f"fold-{i}", patient, "ok", metrics=fold_metrics, n_test=n_windows), scores)
    scores = store.scores(run_id, probs=k > 2)
    if k > 2:
        proba = np.asarray(scores["probs"].tolist())
        per_patient = M.multiclass_patient_metrics(scores, proba, classes)
        pooled = M.multiclass_metrics(scores["label"].to_numpy(), proba, classes)
    else:
        per_patient = M.patient_metrics(scores)
        pooled = M.binary_metrics(scores["label"].to_numpy(), scores["score"].to_numpy(), pred=scores["pred"])
    store.save_patient_metrics(run_id, per_patient)
    store.save_summary(run_id, summarize(per_patient, n_boot=100))
    store.update_run(
        run_id, status="complete", provenance={"classes": list(classes), "pooled_metrics": pooled, **(provenance or {})}
    )


def make_sections_store(path: Path) -> ResultStore:
    """A store for the newer report sections: references beside a synthetic board, a protocol gap
    with model cost and paper figures, and scored seizure-type, video-level and binary runs.

    Shared with ``test_report_browser.py``.
    """
    rng = np.random.default_rng(11)
    store = ResultStore(path)
    add_reference_sets(store, rng)
    add_protocol_runs(store, rng)
    add_scored_run(store, rng, "st-run")
    add_scored_run(store, rng, "video-run", provenance={"video_level": VIDEO_LEVEL})
    add_scored_run(store, rng, "binary-run", classes=("non-ictal", "ictal"))
    return store


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    # Built once: the tests below only read the report.
    tmp = tmp_path_factory.mktemp("report")
    store = make_store(tmp / "results.db")
    index = build_report(store, tmp / "report", title="test bench")
    yield store, index
    store.close()


def _pages(index: Path, sub: str) -> dict[str, str]:
    return {p.name: p.read_text(encoding="utf-8") for p in sorted((index.parent / sub).glob("*.html"))}


def _leaderboard(index: Path, needle: str) -> str:
    pages = [t for t in _pages(index, "leaderboards").values() if needle in t]
    assert len(pages) == 1, f"expected one leaderboard containing {needle!r}"
    return pages[0]


def _row(page: str, run_id: str) -> str:
    match = re.search(rf'<tr data-run="{re.escape(run_id)}".*?</tr>', page, re.S)
    assert match, f"no row for {run_id}"
    return match.group(0)


def test_writes_index_leaderboards_runs_and_static(report):
    _, index = report
    assert index.name == "index.html" and index.is_file()
    assert len(_pages(index, "runs")) == 5
    # Two SOPs -> two leaderboards; the reported set (fewer params) joins the SOP-10 one.
    assert len(_pages(index, "leaderboards")) == 2
    assert (index.parent / "static" / "report.css").is_file()
    assert (index.parent / "static" / "report.js").is_file()
    text = index.read_text(encoding="utf-8")
    assert "How to read this" in text
    assert "SOP 10 min, SPH 0, gap 3 h" in text and "SOP 30 min, SPH 0, gap 3 h" in text


def test_no_network_and_only_relative_links(report):
    _, index = report
    for page in [index, *index.parent.glob("*/*.html")]:
        text = page.read_text(encoding="utf-8")
        # A cited paper's DOI is a link the reader may follow; the page itself never loads it.
        assert text.count('href="https://doi.org/') == text.count('<a class="doi" href="https://doi.org/')
        for target in re.findall(r'(?:href|src)="([^"]*)"', text):
            if target.startswith("https://doi.org/"):
                continue
            assert not re.match(r"^(https?:)?//", target), f"{page.name} links out to {target}"
            if target.startswith(("#", "data:")):
                continue
            assert (page.parent / target.split("#")[0]).resolve().is_file(), f"{page.name}: broken link {target}"
    # URLs may appear as text (a reported set's source) but never as something the browser loads.
    css = (index.parent / "static" / "report.css").read_text()
    assert "url(" not in css and "@import" not in css


def test_html_in_names_is_escaped(report):
    _, index = report
    texts = [
        index.read_text(encoding="utf-8"),
        *_pages(index, "leaderboards").values(),
        *_pages(index, "runs").values(),
    ]
    assert all(EVIL_METHOD not in t and EVIL_PATIENT not in t for t in texts)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in index.read_text(encoding="utf-8")
    run_page = _pages(index, "runs")["run-strong.html"]
    assert "&lt;b&gt;p1&lt;/b&gt;" in run_page
    assert "no clock times &lt;in summary&gt;" in run_page


def test_synthetic_marked_everywhere(report):
    _, index = report
    assert 'class="badge synthetic"' in index.read_text(encoding="utf-8")
    assert 'class="badge synthetic"' in _row(_leaderboard(index, "run-sop30"), "run-sop30")
    board = _leaderboard(index, "run-strong")
    assert 'class="badge synthetic"' not in _row(board, "run-strong")
    assert 'class="badge synthetic"' not in _row(board, "reported-lee")
    runs = _pages(index, "runs")
    assert 'class="banner synthetic"' in runs["run-sop30.html"]
    assert 'class="banner synthetic"' not in runs["run-strong.html"]


def test_reported_set_beside_runs_with_citation(report):
    _, index = report
    board = _leaderboard(index, "run-strong")
    row = _row(board, "reported-lee")
    assert 'class="badge reported"' in row and "Lee D et al. Sci Rep 2024" in row
    assert "Lee2024 Table 2 (SOP 10)" in row
    # A prediction board ranks by balanced accuracy; the paper's table gets it per patient from its
    # sensitivity and specificity, marked as derived.
    assert 'data-primary="balanced_accuracy"' in board
    assert "derived: (sensitivity + specificity) / 2" in row
    page = _pages(index, "runs")["reported-lee.html"]
    assert "https://doi.org/10.1038/s41598-023-43328-y" in page and "Reported results" in page
    assert page.count('<th scope="row">') >= len(PATIENTS)


def test_failed_fold_error_and_traceback(report):
    _, index = report
    page = _pages(index, "runs")["run-strong.html"]
    failed = re.search(r'<tr class="failed">.*?</tr>', page, re.S).group(0)
    assert "fold-01" in failed
    assert "RuntimeError: CUDA out of &lt;memory&gt;" in failed and "more detail" not in failed
    assert "<details><summary>Traceback</summary><pre>" in failed and "File &#34;fit.py&#34;" in failed
    assert "1 of 2 folds failed" in page


def test_run_page_header_provenance_and_guards(report):
    _, index = report
    page = _pages(index, "runs")["run-strong.html"]
    for text in ("splithash123", "indexhash456", "SOP 10 min, SPH 0, gap 3 h", "abc123", "12,345", "2.13.0"):
        assert text in page
    assert "Random init." in page and 'class="badge danger">random init' in page
    assert 'class="verdict ok"' in page and "6 folds checked" in page
    # A method whose paper loads no pretrained weights starts from random init as it should: no flag.
    chance = _pages(index, "runs")["run-chance.html"]
    assert "Random init." not in chance and 'class="badge danger">random init' not in chance
    assert "random init" in chance  # its weights source is still shown
    leaky = _pages(index, "runs")["run-logreg.html"]
    assert 'class="verdict bad">Violations found (6 folds checked)' in leaky
    assert "fold-03" in leaky and "The protocol itself" in leaky
    # NaN in the per-patient table is shown as NaN, and the mean row skips it.
    assert ">NaN<" in page and '<th scope="row">Mean</th>' in page


def test_p_values_match_paired_tests_with_holm(report):
    store, index = report
    board = _leaderboard(index, "run-strong")
    pm = {r: store.patient_metrics(r)["accuracy"] for r in ("run-strong", "run-chance", "run-logreg")}
    raw = [paired_tests(pm["run-logreg"], pm[ref])["p_value"] for ref in ("run-strong", "run-chance")]
    expected = holm(raw)
    cells = re.findall(
        r'<td class="num pcell[^"]*" data-metric="accuracy" data-sort="([^"]*)"', _row(board, "run-logreg")
    )
    # Columns: vs best (run-strong), then baselines by name: bandpower_logreg (itself), chance.
    assert len(cells) == 3 and cells[1] == ""
    assert [float(cells[0]), float(cells[2])] == pytest.approx(expected)
    assert "(n=6)" in _row(board, "run-logreg")
    # The reported set shares all six patients with the best run.
    assert "(n=6)" in _row(board, "reported-lee")
    assert 'class="tag-best">best' in _row(board, "run-strong")


def test_rows_ranked_by_primary_metric_with_mean_std_and_ci(report):
    store, index = report
    board = _leaderboard(index, "run-strong")
    order = re.findall(r'<tr data-run="([^"]+)"', board)
    means = {r: store.summary(r).loc["accuracy", "mean"] for r in order}
    assert [means[r] for r in order] == sorted(means.values(), reverse=True)
    s = store.summary("run-chance").loc["accuracy"]
    assert f'{s["mean"]:.3f}<span class="pm"> ± {s["std"]:.3f}</span>' in _row(board, "run-chance")
    assert f"95% CI [{s['ci_low']:.3f}, {s['ci_high']:.3f}], n = 6 patients" in _row(board, "run-chance")


def test_rebuild_is_deterministic_and_clears_stale_pages(report, tmp_path):
    store, _ = report
    out = tmp_path / "out"
    build_report(store, out, title="test bench")
    before = {p.relative_to(out): p.read_bytes() for p in sorted(out.rglob("*.html"))}
    (out / "runs" / "gone.html").write_text("stale")
    (out / "keep.txt").write_text("mine")
    build_report(store, out, title="test bench")
    after = {p.relative_to(out): p.read_bytes() for p in sorted(out.rglob("*.html"))}
    assert after == before
    assert (out / "keep.txt").exists()


def test_empty_store_and_bad_out_dir(tmp_path):
    with ResultStore(tmp_path / "empty.db") as store:
        index = build_report(store, tmp_path / "out")
        assert "No results yet" in index.read_text(encoding="utf-8")
        (tmp_path / "afile").write_text("x")
        with pytest.raises(BenchmarkError, match="is a file"):
            build_report(store, tmp_path / "afile")


@pytest.mark.parametrize(
    ("params", "label"),
    [
        ({"sop_minutes": 10, "sph_minutes": 0, "interictal_gap_hours": 4}, "SOP 10 min, SPH 0, gap 4 h"),
        ({"interictal_gap_hours": 0.5, "sop_minutes": 30, "sph_minutes": 5}, "SOP 30 min, SPH 5 min, gap 30 min"),
        ({"seed": 1, "window_s": 4, "label": "derived"}, "seed 1, window 4 s"),
        ({}, ""),
    ],
)
def test_task_params_label(params, label):
    assert task_params_label(params) == label


def test_method_name_unescaped_text_round_trips(report):
    # Escaping must not mangle the visible text: unescaping the page gives the original name back.
    _, index = report
    assert EVIL_METHOD in html.unescape(_pages(index, "runs")["run-strong.html"])


def test_safe_name_keeps_clean_ids_and_separates_odd_ones():
    from benchmark.report.leaderboard import safe_name

    assert safe_name("eegnet-chbmit-1234") == "eegnet-chbmit-1234"
    odd = [safe_name(x) for x in ("a/b", "a_b", "a b", "../x", "<b>")]
    assert len(set(odd)) == len(odd)
    assert all(re.fullmatch(r"[A-Za-z0-9._-]+", n) and not n.startswith(".") for n in odd)


def test_synthetic_board_shows_real_data_reports_as_untested_reference(tmp_path):
    """A chbmit-synthetic board lists the papers' chbmit sets of the same SOP as a separate,
    labelled reference that is neither ranked nor paired with the synthetic runs."""
    with ResultStore(tmp_path / "r.db") as store:
        add_reference_sets(store, np.random.default_rng(3))
        index = build_report(store, tmp_path / "site")
    page = _leaderboard(index, "chbmit-synthetic")
    main_table, _, refs = page.partition('id="references"')
    assert "Reported on real chbmit" in refs and "Not comparable" in refs
    assert 'data-run="rep-10"' in refs and "gap 3 h" in refs
    assert "rep-30" not in page  # another SOP: another question
    assert "rep-10" not in main_table  # not ranked, not a p-value reference
    assert "synthetic" in main_table.lower()
    # The real-data board still holds the reported sets on their own.
    assert len([t for t in _pages(index, "leaderboards").values() if 'data-run="rep-30"' in t]) == 1


def test_video_synthetic_boards_take_references_from_both_private_corpora_by_label_column(tmp_path):
    """video-synthetic stands in for Hou et al.'s (ES vs PNES) and Li et al.'s (TLE vs exTLE)
    corpora: each board lists only the paper whose label column (target) it classifies."""
    rng = np.random.default_rng(5)
    with ResultStore(tmp_path / "r.db") as store:
        for target, protocol in (("label", "loso"), ("focus", "kfold5")):
            _add(
                store,
                RunRecord(
                    f"vid-{target}",
                    "run",
                    "i3d_lstm",
                    dataset="video-synthetic",
                    task="classification",
                    protocol=protocol,
                    task_params={"seed": 0, "target": target, "classes": None},
                    synthetic=True,
                    status="complete",
                ),
                _per_patient(rng, 0.6, metrics=("video_accuracy",)),
            )
        for run_id, dataset, target, protocol in (
            ("hou", "marseille-emu-video-private", "label", "loso"),
            ("li", "taipei-vgh-video-private", "focus", "kfold5"),
        ):
            store.create_run(
                RunRecord(
                    run_id,
                    "reported",
                    run_id,
                    dataset=dataset,
                    task="classification",
                    protocol=protocol,
                    task_params={"target": target},
                    status="reported",
                    display_name=f"{run_id} paper",
                    provenance={"level": "dataset", "role": "proposed"},
                )
            )
            store.save_summary(
                run_id, summarize(pd.DataFrame({"video_accuracy": [0.75]}, index=pd.Index(["all"], name="patient")))
            )
        index = build_report(store, tmp_path / "site")
    boards = {name: text for name, text in _pages(index, "leaderboards").items() if "video-synthetic" in name}
    label = next(t for n, t in boards.items() if "loso" in n)
    focus = next(t for n, t in boards.items() if "kfold5" in n)
    for page, mine, other, corpus in ((label, "hou", "li", "marseille"), (focus, "li", "hou", "taipei")):
        _, _, refs = page.partition('id="references"')
        assert f'data-run="{mine}"' in refs and f"Reported on real {corpus}" in refs
        assert f'data-run="{other}"' not in page


def test_report_command_adds_bundled_reported_sets_once(tmp_path, capsys):
    from benchmark import cli
    from benchmark.reported import bundled_reported

    store_path, out = tmp_path / "r.sqlite", tmp_path / "site"
    assert cli.main(["--store", str(store_path), "report", "--out", str(out)]) == 0
    assert f"added {len(bundled_reported())} reported result sets" in capsys.readouterr().out
    with ResultStore(store_path) as store:
        first = {r.run_id: r.finished_at for r in store.list_runs()}
    assert len(first) == len(bundled_reported())
    assert cli.main(["--store", str(store_path), "report", "--out", str(out)]) == 0
    assert "added" not in capsys.readouterr().out
    with ResultStore(store_path) as store:
        assert {r.run_id: r.finished_at for r in store.list_runs()} == first  # untouched, not re-dated
    ResultStore(tmp_path / "bare.sqlite").close()  # --no-bundled only reads: the store must exist
    assert cli.main(["--store", str(tmp_path / "bare.sqlite"), "report", "--no-bundled", "--out", str(out)]) == 0
    with ResultStore(tmp_path / "bare.sqlite") as store:
        assert store.list_runs() == []


def test_protocol_gap_efficiency_and_dataset_level_figures(tmp_path):
    """kfold5-random beside kfold5 on the index with their gap; measured model cost on the board;
    a paper's dataset-level figures beside it, never ranked or paired."""
    with ResultStore(tmp_path / "r.db") as store:
        gap_means = add_protocol_runs(store, np.random.default_rng(5))
        index = build_report(store, tmp_path / "site")
    text = index.read_text(encoding="utf-8")
    assert "Random vs patient-wise splits" in text
    gap = gap_means["kfold5-random"] - gap_means["kfold5"]
    assert f">{gap:.3f}<" in text  # the gap cell: random minus patient-wise
    board = _leaderboard(index, 'data-run="t-kfold5-random"')
    main, _, rest = board.partition('id="efficiency"')
    assert "paper-fig" not in main and "Figures printed in papers" in rest and 'data-run="paper-fig"' in rest
    assert "1,234" in rest and "5e+06" in rest


# -- per-class results and confusion matrices on run pages -----------------------------------------


@pytest.fixture(scope="module")
def sections(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("sections")
    store = make_sections_store(tmp / "results.db")
    index = build_report(store, tmp / "report")
    yield store, index
    store.close()


def _section(page: str, section_id: str) -> str:
    match = re.search(rf'<section id="{section_id}".*?</section>', page, re.S)
    assert match, f"no section {section_id}"
    return match.group(0)


def _table(page: str, table_id: str) -> str:
    match = re.search(rf'<table[^>]* id="{table_id}".*?</table>', page, re.S)
    assert match, f"no table {table_id}"
    return match.group(0)


def _confusion_counts(table: str) -> list[list[int]]:
    body = table.partition("<tbody>")[2].partition("</tbody>")[0]
    return [
        [int(c) for c in re.findall(r'data-count="(\d+)"', row)] for row in body.split("</tr>") if "data-count" in row
    ]


def test_confusion_counts_come_from_the_store_and_name_unknown_indices(tmp_path):
    from benchmark.report.classes import confusion_from_counts

    labels, preds = [0, 0, 0, 1, 1, 2], [0, 1, 1, 1, 0, 2]
    with ResultStore(tmp_path / "s.sqlite") as store:
        run = store.create_run(RunRecord("cm", "run", "m", "d", "seizure-type", "loso"))
        for fold, rows in (("f0", slice(0, 4)), ("f1", slice(4, 6))):
            scores = pd.DataFrame(
                {
                    "patient": "p",
                    "recording": "r",
                    "start": 0.0,
                    "end": 1.0,
                    "label": labels[rows],
                    "score": 0.5,
                    "pred": preds[rows],
                }
            )
            store.save_fold(run.run_id, FoldResult(fold, "p", "ok"), scores)
        counts = store.label_pred_counts(run.run_id)
        # The SQL count equals a count of the stored rows, across folds.
        stored = store.scores(run.run_id)
        expected = stored.groupby(["label", "pred"]).size().reset_index(name="n")
        pd.testing.assert_frame_equal(counts, expected.astype(int))
    cm = confusion_from_counts(counts, ["a", "b"])
    # Index 2 has no name: it is kept (as "class 2") so the counts still add up.
    assert cm.classes == ("a", "b", "class 2")
    assert cm.counts == ((1, 2, 0), (1, 1, 0), (0, 0, 1))
    assert confusion_from_counts(counts.iloc[:0], ["a", "b"]) is None


def test_seizure_type_run_page_splits_overall_and_per_class_metrics(sections):
    store, index = sections
    page = _pages(index, "runs")["st-run.html"]
    per_patient = _table(page, "per-patient")
    assert "F1 (macro)" in per_patient and "Balanced acc." in per_patient
    assert "FNSZ" not in per_patient and ":" not in "".join(re.findall(r"<th[^>]*>(.*?)</th>", per_patient))
    pooled = store.get_run("st-run").provenance["pooled_metrics"]
    summary = store.summary("st-run")
    per_class = _section(page, "per-class")
    assert 'class="badge synthetic"' in per_class
    assert re.findall(r'<tr data-class="([^"]+)"', per_class) == list(SEIZURE_TYPES)
    labels = store.scores("st-run")["label"].value_counts()
    for k, cls in enumerate(SEIZURE_TYPES):
        row = re.search(rf'<tr data-class="{cls}">.*?</tr>', per_class, re.S).group(0)
        assert re.search(rf'<td class="num" data-sort="{labels[k]}">{labels[k]}</td>', row)
        for metric in ("recall", "precision", "specificity", "f1", "roc_auc"):
            cells = dict(re.findall(rf'data-metric="{metric}" data-source="(\w+)" data-sort="([^"]*)"', row))
            assert float(cells["pooled"]) == pytest.approx(pooled[f"{metric}:{cls}"])
            assert float(cells["mean"]) == pytest.approx(summary.loc[f"{metric}:{cls}", "mean"])
    # The pooled overall metrics close the per-patient table.
    assert f">{pooled['balanced_accuracy']:.3f}<" in per_patient.partition('class="agg pooled"')[2]


def test_confusion_matrix_of_window_scores(sections):
    store, index = sections
    page = _pages(index, "runs")["st-run.html"]
    section = _section(page, "confusion")
    scores = store.scores("st-run")
    expected = pd.crosstab(scores["label"], scores["pred"]).reindex(index=range(4), columns=range(4), fill_value=0)
    assert _confusion_counts(section) == expected.to_numpy().tolist()
    fnsz = expected.loc[1]
    assert f"{100 * fnsz[1] / fnsz.sum():.1f}%" in section
    assert f"{int(np.trace(expected))} of {len(scores)} windows correct" in section
    assert 'class="badge synthetic"' in section


def test_binary_run_gets_a_two_by_two_matrix_and_no_per_class_table(sections):
    store, index = sections
    page = _pages(index, "runs")["binary-run.html"]
    assert 'id="per-class"' not in page
    scores = store.scores("binary-run")
    expected = pd.crosstab(scores["label"], scores["pred"]).reindex(index=[0, 1], columns=[0, 1], fill_value=0)
    table = _table(page, "confusion-table")
    assert _confusion_counts(table) == expected.to_numpy().tolist()
    assert re.findall(r'<tr data-true="([^"]+)"', table) == ["non-ictal", "ictal"]


def test_video_level_results_rendered_from_provenance(sections):
    _, index = sections
    page = _pages(index, "runs")["video-run.html"]
    section = _section(page, "video-level")
    assert "Video-level results" in section and "15 test videos" in section and "mean of its clips" in section
    assert 'class="badge synthetic"' in section
    assert _confusion_counts(_table(section, "video-confusion-table")) == VIDEO_LEVEL["confusion"]
    assert "77.8%" in section and "83.3%" in section  # rows normalised: 7/9 and 5/6
    assert '<td class="num" data-metric="video_f1">0.769</td>' in section
    # Shown in its own section, so not repeated in the provenance list.
    assert "PNES" not in page.partition('id="provenance"')[2]


def test_malformed_video_level_keeps_metrics_and_drops_the_matrix():
    from benchmark.report.classes import video_level

    bad = video_level(
        {"video_level": {"classes": ["ES", "PNES"], "confusion": [[1, 2, 3]], "metrics": {"video_f1": None}}}
    )
    assert bad.confusion is None and np.isnan(bad.metrics["video_f1"]) and bad.n_videos is None
    assert video_level({}) is None and video_level({"video_level": "oops"}) is None


def test_dataset_level_reported_set_shows_printed_per_class_figures():
    from benchmark.report.classes import per_class_table
    from benchmark.report.leaderboard import Stat

    stats = {
        "accuracy": Stat(0.9, np.nan, np.nan, np.nan, 0),
        "recall:FNSZ": Stat(0.8, np.nan, np.nan, np.nan, 0),
        "recall:background": Stat(0.95, np.nan, np.nan, np.nan, 0),
        "f1:FNSZ": Stat(0.7, np.nan, np.nan, np.nan, 0),
    }
    table = per_class_table({"level": "dataset"}, stats, level="dataset")
    assert [s.key for s in table.sources] == ["printed"] and table.metrics == ("recall", "f1")
    assert table.classes == ("FNSZ", "background")  # as the paper's columns name them
    fnsz = table.rows[0]
    assert fnsz.values["printed"] == {"recall": 0.8, "f1": 0.7} and fnsz.support is None
    assert np.isnan(table.rows[1].values["printed"]["f1"])
    assert per_class_table({}, {"accuracy": stats["accuracy"]}) is None
