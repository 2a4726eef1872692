"""Figures of the static report (no browser): each one drawn with a caption where the store holds its
data, a note where it does not, the synthetic watermark, and byte-identical pages for the same store."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from benchmark import metrics as M
from benchmark.metrics import summarize
from benchmark.report import build_report
from benchmark.report.figures import _blocks, _downsample, _draw_timelines, _roc_points
from benchmark.reported import import_bundled
from benchmark.store import FoldResult, ResultStore, RunRecord

# The fixtures of the other report tests, loaded by path (with or without a tests/__init__.py).
_spec = importlib.util.spec_from_file_location("_report_fixtures", Path(__file__).with_name("test_report.py"))
_fixtures = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_fixtures)

DETECTION_METHODS = {"chance": 0.0, "bandpower_logreg": 0.3, "resnet_lstm_supcon": 0.5}
DETECTION_PATIENTS = ("p01", "p02", "p03", "p04", "p05")
POST = {"threshold": 0.5, "smooth_windows": 1, "min_duration_s": 0.0, "merge_gap_s": 0.0}
EFFICIENCY = {"window_shape": [18, 2560], "n_params_total": 3000, "flops_per_window": 2.0e6}


def _detection_windows(rng: np.random.Generator, patient: str, skill: float) -> pd.DataFrame:
    """Two recordings of 4-s windows, a seizure in the first; scores that see it as well as ``skill``."""
    parts = []
    for rec, seizure in (("r1", (100, 120)), ("r2", None)):
        n = 300
        label = np.zeros(n, dtype=int)
        if seizure:
            label[seizure[0] : seizure[1]] = 1
        score = np.clip(0.25 + skill * label + rng.normal(0, 0.15, n), 0, 1)
        start = np.arange(n) * 4.0
        parts.append(
            pd.DataFrame(
                {"patient": patient, "recording": rec, "start": start, "end": start + 4.0, "label": label}
            ).assign(score=score, pred=(score >= 0.5).astype(int))
        )
    return pd.concat(parts, ignore_index=True)


def _scored_run(store: ResultStore, rec: RunRecord, windows: dict[str, pd.DataFrame]) -> None:
    """``rec`` with one fold per patient, its window scores, per-patient metrics and summary."""
    store.create_run(rec)
    for i, (patient, w) in enumerate(windows.items()):
        fold = FoldResult(f"fold-{i:02d}", patient, "ok", n_test=len(w), fit_seconds=2.0 + i, predict_seconds=0.5)
        store.save_fold(rec.run_id, fold, w)
    per = M.patient_metrics(store.scores(rec.run_id))
    store.save_patient_metrics(rec.run_id, per)
    store.save_summary(rec.run_id, summarize(per, n_boot=100))
    store.update_run(rec.run_id, status="complete")


def _prediction_windows(rng: np.random.Generator, patient: str) -> pd.DataFrame:
    """Inter-ictal and pre-ictal blocks of 5-s windows with gaps between them."""
    parts = []
    for rec, blocks in (("s1", ((0, 0, 60), (1, 900, 40))), ("s2", ((0, 0, 50), (0, 2000, 50), (1, 4000, 40)))):
        for label, t0, n in blocks:
            start = t0 + np.arange(n) * 5.0
            score = np.clip(0.3 + 0.3 * label + rng.normal(0, 0.1, n), 0, 1)
            parts.append(
                pd.DataFrame({"patient": patient, "recording": rec, "start": start, "end": start + 5.0}).assign(
                    label=label, score=score, pred=(score >= 0.5).astype(int)
                )
            )
    return pd.concat(parts, ignore_index=True)


def make_figures_store(path: Path) -> ResultStore:
    """A detection board of three scored runs (two baselines, one with model cost), a scored
    prediction run, the protocol-gap runs and the bundled reported sets (a paper page).

    Shared with ``test_report_browser.py``.
    """
    rng = np.random.default_rng(3)
    store = ResultStore(path)
    for method, skill in DETECTION_METHODS.items():
        windows = {p: _detection_windows(rng, p, skill) for p in DETECTION_PATIENTS}
        provenance = {"event_scoring": {"post_processing": POST}, "classes": ["non-ictal", "ictal"]}
        if method == "resnet_lstm_supcon":
            provenance["efficiency"] = EFFICIENCY
        rec = RunRecord(f"det-{method}", "run", method, "chbmit-synthetic", "detection", "loso", synthetic=True,
                        seed=0, budget="smoke", provenance=provenance)  # fmt: skip
        _scored_run(store, rec, windows)
    rec = RunRecord("pred-run", "run", "eegnet", "chbmit-synthetic", "prediction", "loocv", synthetic=True,
                    task_params=_fixtures.PARAMS, provenance={"classes": ["interictal", "preictal"]})  # fmt: skip
    _scored_run(store, rec, {p: _prediction_windows(rng, p) for p in ("p01", "p02", "p03")})
    _fixtures.add_protocol_runs(store, rng)
    import_bundled(store, paper="lee2024")
    return store


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("figures")
    store = make_figures_store(tmp / "results.sqlite")
    index = build_report(store, tmp / "report")
    yield store, index
    store.close()


def _figures(page: str) -> dict[str, str]:
    """``{figure id: its caption text}`` of the drawn figures of a page."""
    found = re.findall(
        r'<figure class="plot" id="([^"]+)">\s*<svg.*?</svg>\s*<figcaption>(.*?)</figcaption>', page, re.S
    )
    return {key: re.sub(r"<[^>]+>", "", caption) for key, caption in found}


def _svg(page: str, key: str) -> str:
    """The SVG of figure ``key`` of a page."""
    (svg,) = re.findall(rf'<figure class="plot" id="{key}">\s*(<svg.*?</svg>)', page, re.S)
    return svg


def _notes(page: str) -> dict[str, str]:
    return dict(re.findall(r'data-figure="([^"]+)">([^<]*)</p>', page))


def _page(index: Path, sub: str, needle: str) -> str:
    (text,) = [t for p in sorted((index.parent / sub).glob("*.html")) if needle in (t := p.read_text())]
    return text


def test_leaderboard_has_scores_paired_differences_cd_diagram_and_cost(site):
    _, index = site
    page = _page(index, "leaderboards", 'data-run="det-resnet_lstm_supcon"')
    figs = _figures(page)
    assert set(figs) == {"fig-scores", "fig-paired", "fig-cd", "fig-cost"}
    assert all(len(c) > 40 for c in figs.values())
    assert "Friedman" in figs["fig-cd"] and "Nemenyi" in figs["fig-cd"]
    assert "p-value" in figs["fig-paired"]
    # The forest plot names each method-minus-baseline pair and writes its p-value beside it.
    forest = re.search(r'id="fig-paired">(.*?)</figure>', page, re.S).group(1)
    assert "resnet_lstm_supcon − chance" in forest and "resnet_lstm_supcon − bandpower_logreg" in forest
    assert re.search(r"p (&lt;0\.001|\d\.\d{3}) \(n=5\)", forest)


def test_run_pages_have_roc_confusion_timings_and_timeline_or_trace(site):
    _, index = site
    runs = index.parent / "runs"
    detection = (runs / "det-resnet_lstm_supcon.html").read_text()
    assert set(_figures(detection)) == {"fig-roc", "fig-confusion", "fig-timings", "fig-timeline"}
    timeline = re.search(r'id="fig-timeline">(.*?)</figure>', detection, re.S).group(1)
    assert "worst patient" in timeline and "best patient" in timeline and "recording r1" in timeline
    prediction = (runs / "pred-run.html").read_text()
    assert set(_figures(prediction)) == {"fig-roc", "fig-confusion", "fig-timings", "fig-trace"}
    assert "pre-ictal" in _figures(prediction)["fig-trace"]


def test_figures_without_data_are_left_out_with_a_note(site):
    _, index = site
    # The protocol-gap runs store per-patient metrics only: no window scores, no folds.
    page = (index.parent / "runs" / "t-kfold5.html").read_text()
    assert _figures(page) == {}
    notes = _notes(page)
    assert set(notes) == {"fig-roc", "fig-confusion", "fig-timings"}
    assert all("not drawn" in n for n in notes.values())
    # A reported set has no run figures at all, and a board without baselines says so.
    reported = [
        t
        for q in sorted((index.parent / "runs").glob("*.html"))
        if "<strong>Reported results.</strong>" in (t := q.read_text())
    ]
    assert reported and not any('class="figures"' in t for t in reported)
    board = _page(index, "leaderboards", 'data-run="t-kfold5"')
    assert "no baseline on this board" in _notes(board)["fig-paired"]
    assert "FLOPs" in _figures(board)["fig-cost"]


def test_index_and_paper_pages_have_their_figures(site):
    _, index = site
    assert set(_figures(index.read_text())) == {"fig-gap-0"}
    (paper,) = (index.parent / "papers").glob("*.html")
    figs = _figures(paper.read_text())
    assert figs and all(k.startswith("fig-paper-") for k in figs)


def test_synthetic_runs_carry_the_label_inside_their_figures(site):
    _, index = site
    detection = (index.parent / "runs" / "det-resnet_lstm_supcon.html").read_text()
    for key in ("fig-roc", "fig-timeline"):
        svg = re.search(rf'id="{key}">(.*?)</figure>', detection, re.S).group(1)
        assert "SYNTHETIC" in svg
    # Real-data pages have no watermark: the bundled reported sets of the paper.
    (paper,) = (index.parent / "papers").glob("*.html")
    assert "SYNTHETIC DATA" not in paper.read_text()


def test_figures_escape_names_and_need_no_network(tmp_path):
    store = _fixtures.make_store(tmp_path / "results.db")
    index = build_report(store, tmp_path / "report")
    store.close()
    board = _page(index, "leaderboards", 'data-run="run-strong"')
    svg = re.search(r'id="fig-scores">(.*?)</figure>', board, re.S).group(1)
    assert "&lt;script&gt;" in svg and "<script" not in svg
    assert not re.search(r'(href|src)="https?:', svg)


def test_same_store_gives_byte_identical_pages(site, tmp_path):
    store, index = site
    again = build_report(store, tmp_path / "again")
    for page in sorted(index.parent.rglob("*.html")):
        assert (again.parent / page.relative_to(index.parent)).read_bytes() == page.read_bytes(), page.name


def test_roc_points_and_downsampling_keep_what_they_must():
    # Two bins: negatives all low, positives all high -> a perfect curve through (0, 1).
    fpr, tpr = _roc_points(np.array([0, 3]), np.array([5, 0]))
    assert fpr.tolist() == [0.0, 0.0, 1.0] and tpr.tolist() == [0.0, 1.0, 1.0]
    t = np.arange(10_000, dtype=float)
    y = np.zeros_like(t)
    y[5_003] = 0.9  # a one-window peak survives down-sampling
    ts, ys = _downsample(t, y, 100)
    assert len(ts) == 100 and ys.max() == 0.9


def test_prediction_blocks_are_drawn_in_minutes_before_their_end():
    # Ten pre-ictal windows of 10 s every 10 s, an hour's gap, then five inter-ictal ones.
    start = np.concatenate([np.arange(0, 100, 10.0), 3700 + np.arange(0, 50, 10.0)])
    w = pd.DataFrame({"start": start, "end": start + 10, "label": [1] * 10 + [0] * 5, "score": np.linspace(0, 1, 15)})
    (pre, x_pre, _), (inter, x_inter, _) = _blocks(w)
    assert (pre, inter) == (1, 0)
    assert x_pre[0] == pytest.approx(-1.5) and x_pre[-1] == 0.0  # 90 s before the last window's end
    assert x_inter[0] == pytest.approx(-40 / 60) and x_inter[-1] == 0.0


def test_timeline_legend_sits_outside_the_axes_where_alarms_are_drawn():
    from matplotlib.figure import Figure

    fig = Figure(layout="constrained")
    t = np.arange(0, 600, 10.0)
    _draw_timelines(fig, [("rec", t, np.full(len(t), 0.9), [(100, 200)], [(0, 600)])])
    (ax,) = fig.axes
    assert ax.get_legend() is None and len(fig.legends) == 1
    assert [x.get_text() for x in fig.legends[0].get_texts()] == ["window probability", "true seizure", "alarm"]


def test_store_reads_of_the_figures_match_the_window_scores(site):
    store, _ = site
    scores = store.scores("det-resnet_lstm_supcon")
    hist = store.score_histogram("det-resnet_lstm_supcon", bins=10)
    # Summed over patients and bins, the histogram is the confusion matrix's counts.
    counts = hist.groupby(["label", "pred"], as_index=False)["n"].sum()
    pd.testing.assert_frame_equal(counts, store.label_pred_counts("det-resnet_lstm_supcon"))
    expected_bins = np.minimum((scores["score"] * 10).astype(int), 9)
    assert hist.groupby("bin")["n"].sum().to_dict() == expected_bins.value_counts().sort_index().to_dict()
    recs = store.recordings_scored("det-resnet_lstm_supcon", "p02")
    assert recs.to_dict("list") == {"recording": ["r1", "r2"], "n": [300, 300], "n_positive": [20, 0]}
    one = store.recording_scores("det-resnet_lstm_supcon", "p02", "r1")
    mine = scores[(scores["patient"] == "p02") & (scores["recording"] == "r1")]
    np.testing.assert_array_equal(one["score"].to_numpy(), mine.sort_values("start")["score"].to_numpy())


def test_folds_resumed_from_an_earlier_attempt_are_marked_where_their_seconds_are_shown(tmp_path):
    store = ResultStore(tmp_path / "r.sqlite")
    rng = np.random.default_rng(0)
    for run_id, resumed in (("with-resumed", {"p02"}), ("none-resumed", set())):
        rec = RunRecord(run_id, "run", "chance", "chbmit", "detection", "loso", synthetic=True)
        store.create_run(rec)
        for i, patient in enumerate(("p01", "p02")):
            w = _detection_windows(rng, patient, 0.3)
            fold = FoldResult(
                f"fold-{patient}", patient, "ok", n_test=len(w), fit_seconds=2.0 + i, resumed=patient in resumed
            )
            store.save_fold(run_id, fold, w)
        store.save_patient_metrics(run_id, M.patient_metrics(store.scores(run_id)))
        store.update_run(run_id, status="complete")
    index = build_report(store, tmp_path / "report", title="test bench")
    pages = {p.stem: p.read_text() for p in (index.parent / "runs").glob("*.html")}
    (marked,) = [t for t in pages.values() if "fold-p01" in t and "with-resumed" in t]
    (plain,) = [t for t in pages.values() if "fold-p01" in t and "none-resumed" in t]
    assert "1 fold(s), hatched and marked (resumed)" in _figures(marked)["fig-timings"]
    assert 'id="resumed-note"' in marked and 'id="resumed-note"' not in plain
    row = {f: r for f, r in re.findall(r"<code>(fold-p0\d)</code>(.*?)</tr>", marked, re.S)}
    assert "(resumed)" in row["fold-p02"] and "(resumed)" not in row["fold-p01"]
    assert "(resumed)" not in plain and "hatched" not in _figures(plain)["fig-timings"]
    # The hatch itself: matplotlib draws it as an SVG pattern that the resumed fold's bar fills with.
    svg = {name: _svg(page, "fig-timings") for name, page in (("marked", marked), ("plain", plain))}
    assert "<pattern" in svg["marked"] and "url(#h" in svg["marked"] and "<pattern" not in svg["plain"]
