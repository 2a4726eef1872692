"""Figures of the static report, drawn by matplotlib as SVG text put inline into the pages.

One function per figure; each returns a :class:`Figure`: its SVG and caption, or, when the store does
not hold what it needs, a one-line note saying so (no figure is drawn from invented data). The SVG is
byte-identical for the same data: fixed ``svg.hashsalt`` (matplotlib otherwise names clip paths with
random ids), no date in its metadata, text kept as text (``svg.fonttype = none``) and a fixed seed for
the jitter of strip plots. Result sets on synthetic data carry a SYNTHETIC watermark in the figure.

matplotlib is imported only when a figure is drawn, so listing commands stay instant.

Scale: figures of leaderboards read per-patient metrics only. Figures of window scores read them one
run at a time, bounded: the ROC curve from score counts per bin that SQLite makes
(:meth:`benchmark.store.ResultStore.score_histogram`), timelines and traces one patient at a time
(:meth:`benchmark.store.ResultStore.recording_scores`), down-sampled to a fixed number of points.
"""

from __future__ import annotations

import io
import math
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from benchmark.metrics import LOWER_IS_BETTER
from benchmark.stats import bootstrap_ci, paired_tests

ROC_BINS = 100  # score thresholds of the ROC curve, in steps of 1 / ROC_BINS
TRACE_POINTS = 600  # points per drawn recording: bounds the SVG's size whatever the recording's length
BLOCK_POINTS = 120  # points per drawn pre-ictal or inter-ictal block
MAX_RECORDINGS = 3  # recordings drawn per patient in a detection timeline
MAX_BLOCKS = 12  # blocks of each class drawn per patient in a prediction trace
_COLORS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf")
_RC = {
    "svg.fonttype": "none",
    "font.size": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
}


@dataclass(frozen=True)
class Figure:
    """One figure of a page: ``svg`` and ``caption``, or an empty ``svg`` and a ``note`` saying why."""

    key: str  # HTML id, unique on its page
    title: str
    caption: str = ""
    svg: str = ""
    note: str = ""


def _label(metric: str) -> str:
    from benchmark.report.build import METRIC_LABELS  # imported here: build imports this module

    text = METRIC_LABELS.get(metric, metric.replace("_", " "))
    return text + (" (lower is better)" if metric in LOWER_IS_BETTER else "")


def _fmt_p(p: float) -> str:
    from benchmark.report.build import fmt_p

    return fmt_p(p)


def _render(key: str, size_in: tuple[float, float], draw: Callable, synthetic: bool) -> str:
    """Run ``draw(fig)`` on a new figure and return its SVG element (no XML prologue)."""
    import matplotlib
    from matplotlib.figure import Figure as MplFigure

    rc = {**_RC, "svg.hashsalt": f"seizure-bench-{key}"}
    if "svg.id" in matplotlib.rcParams:
        rc["svg.id"] = key + "-svg"
    with matplotlib.rc_context(rc), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fig = MplFigure(figsize=size_in, layout="constrained")
        draw(fig)
        if synthetic:
            # Sized to the figure so that the whole word shows on narrow figures too.
            size = min(34.0, 5.5 * size_in[0])
            fig.text(0.5, 0.5, "SYNTHETIC DATA", ha="center", va="center", rotation=20, fontsize=size,
                     color="#c0392b", alpha=0.18, zorder=10)  # fmt: skip
        buf = io.StringIO()
        fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None})
    text = buf.getvalue()
    return text[text.index("<svg") :]


def _series(entry, metric: str) -> pd.Series:
    if metric not in entry.patient_metrics.columns:
        return pd.Series(dtype=float)
    return pd.to_numeric(entry.patient_metrics[metric], errors="coerce").dropna()


def _names(entries) -> list[str]:
    """Each entry's name as its board row shows it (:attr:`Entry.label`), told apart when repeated."""
    names = [e.label for e in entries]
    return [n if names.count(n) == 1 else f"{n} [{e.run.run_id}]" for n, e in zip(names, entries)]


def _short(text: str, n: int = 40) -> str:
    """A name from the store, cut to ``n`` characters, its ``$`` escaped so matplotlib never reads it as math."""
    text = str(text)
    text = text if len(text) <= n else text[: n - 1] + "…"
    return text.replace("$", r"\$")


def _hbox(ax, values, y: float, color: str) -> None:
    kw = dict(positions=[y], widths=0.55, showfliers=False, patch_artist=True, manage_ticks=False)
    kw |= dict(boxprops={"facecolor": "none", "edgecolor": color}, medianprops={"color": color})
    try:
        ax.boxplot(values, orientation="horizontal", **kw)
    except TypeError:  # matplotlib < 3.10
        ax.boxplot(values, vert=False, **kw)


# ---------------------------------------------------------------- leaderboard pages


def leaderboard_scores(board) -> Figure:
    """Every method's per-patient scores on the primary metric (box and strip), papers' values as marks."""
    key, title, metric = "fig-scores", "Scores per patient", board.primary
    sets = [(e, _series(e, metric)) for e in board.entries if e.ranked]
    sets = [(e, s) for e, s in sets if len(s)]
    marks = [e for e in (*board.paper_figures, *board.references) if metric in e.stats]
    marks = [e for e in marks if math.isfinite(e.stats[metric].mean)]
    if not metric or not (sets or marks):
        return Figure(key, title, note="no per-patient scores on the primary metric.")
    names = _names([e for e, _ in sets] + marks)
    n = len(names)

    def draw(fig):
        ax = fig.add_subplot()
        rng = np.random.default_rng(0)
        for i, (e, s) in enumerate(sets):
            y, reported = n - 1 - i, e.run.kind == "reported"
            color = "#ff7f0e" if reported else ("#7f7f7f" if e.is_baseline else "#1f77b4")
            _hbox(ax, s.to_numpy(), y, color)
            jitter = rng.uniform(-0.18, 0.18, len(s))
            ax.scatter(s.to_numpy(), y + jitter, s=14, marker="D" if reported else "o", color=color, alpha=0.7)
        for j, e in enumerate(marks):
            ax.scatter([e.stats[metric].mean], [n - 1 - len(sets) - j], s=110, marker="*", color="#ff7f0e")
        ax.set_yticks(range(n), [_short(x) for x in reversed(names)])
        ax.set_xlabel(_label(metric))
        ax.grid(axis="x", alpha=0.3)

    caption = (
        f"{_label(metric)} of each patient (dots) and their spread (box: quartiles and median), one row per "
        "result set; grey: baselines, blue: methods, orange diamonds: a paper's reported per-patient values"
        + (
            ", orange stars: values papers print for the whole dataset (not per patient, not comparable)"
            if marks
            else ""
        )
        + ". The mean in the table hides this spread."
    )
    svg = _render(key, (8, 1.2 + 0.42 * n), draw, board.any_synthetic)
    return Figure(key, title, caption, svg)


def _differences(entry, ref, metric: str) -> np.ndarray:
    """``entry - ref`` on the patients both have, as :func:`benchmark.stats.paired_tests` pairs them."""
    a, b = _series(ref, metric), _series(entry, metric)
    a.index, b.index = a.index.map(str), b.index.map(str)
    patients = paired_tests(a, b)["patients"]
    return (b.loc[patients] - a.loc[patients]).to_numpy(dtype=float)


def _draw_forest(fig, rows: Sequence[tuple[str, np.ndarray, float, int]], xlabel: str) -> None:
    """Rows ``(label, differences, p, n)``: differences as dots, their mean and 95% bootstrap CI, p beside."""
    ax = fig.add_subplot()
    n = len(rows)
    for i, (_, diffs, p, k) in enumerate(rows):
        y = n - 1 - i
        ax.scatter(diffs, np.full(len(diffs), y), s=12, color="#7f7f7f", alpha=0.6, zorder=2)
        mean = float(np.mean(diffs)) if len(diffs) else math.nan
        lo, hi = bootstrap_ci(diffs)
        if math.isfinite(lo):
            ax.plot([lo, hi], [y, y], color="black", linewidth=2, zorder=3)
        ax.scatter([mean], [y], s=40, marker="s", color="black", zorder=4)
        text = f"mean {mean:+.3f}" + (f" [{lo:+.3f}, {hi:+.3f}]" if math.isfinite(lo) else "")
        ax.annotate(f"{text}, p {_fmt_p(p)} (n={k})", (1.01, y), xycoords=("axes fraction", "data"), va="center")
    ax.axvline(0, color="#d62728", linewidth=1, linestyle="--")
    ax.set_yticks(range(n), [_short(r[0], 48) for r in reversed(rows)])
    ax.set_ylim(-0.7, n - 0.3)
    ax.set_xlabel(xlabel)
    ax.grid(axis="x", alpha=0.3)


def paired_comparison(board) -> Figure:
    """Forest plot: each result set minus each baseline, per patient, with the mean, its CI and p."""
    key, title, metric = "fig-paired", "Paired differences against the baselines", board.primary
    by_id = {e.run.run_id: e for e in board.entries}
    rows = []
    for e in board.entries:
        if not e.ranked or e.is_baseline:
            continue
        for ref_id, label in board.baseline_columns:
            c = board.comparisons.get(metric, {}).get(e.run.run_id, {}).get(ref_id)
            diffs = _differences(e, by_id[ref_id], metric) if c is not None else np.array([])
            if len(diffs):
                rows.append((f"{e.label} − {label}", diffs, c.p_holm, c.n))
    if not rows:
        if not board.baselines:
            note = "no baseline on this board."
        elif not any(e.ranked and not e.is_baseline for e in board.entries):
            note = "no result set beside the baselines."
        else:
            note = "no patients shared with a baseline."
        return Figure(key, title, note=note)
    svg = _render(
        key,
        (9, 1.2 + 0.45 * len(rows)),
        lambda fig: _draw_forest(fig, rows, f"Δ {_label(metric)}"),
        board.any_synthetic,
    )
    caption = (
        f"Per-patient difference in {_label(metric)} of each result set minus each baseline (grey dots), "
        "their mean (square) and its 95% bootstrap CI (bar); beside it the Holm-adjusted paired t-test p-value "
        "of the table and the number of shared patients. Right of the dashed line the set scores higher."
    )
    return Figure(key, title, caption, svg)


def _cd_ranks(board, metric: str):
    """Average ranks (1 = best) over the patients every set shares, Friedman p, Nemenyi CD, names."""
    from scipy.stats import friedmanchisquare, rankdata, studentized_range

    sets = [(e, _series(e, metric)) for e in board.entries if e.ranked]
    sets = [(e, s) for e, s in sets if len(s)]
    if len(sets) < 3:
        return None
    table = pd.concat([s for _, s in sets], axis=1, join="inner", keys=range(len(sets))).dropna()
    if len(table) < 2:
        return None
    values = table.to_numpy(dtype=float)
    ranks = rankdata(values if metric in LOWER_IS_BETTER else -values, axis=1).mean(axis=0)
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        p = float(friedmanchisquare(*values.T).pvalue)
    k, n = values.shape[1], values.shape[0]
    cd = float(studentized_range.ppf(0.95, k, np.inf)) / math.sqrt(2) * math.sqrt(k * (k + 1) / (6.0 * n))
    return ranks, p, cd, n, _names([e for e, _ in sets])


def _draw_cd(fig, ranks: np.ndarray, cd: float, names: list[str]) -> None:
    ax = fig.add_subplot()
    k = len(ranks)
    order = np.argsort(ranks, kind="stable")
    span = max(k - 1, 1)
    ax.plot([1, k], [0, 0], color="black", linewidth=1)
    for r in range(1, k + 1):
        ax.plot([r, r], [0, 0.08], color="black", linewidth=1)
        ax.text(r, 0.14, str(r), ha="center", va="bottom")
    ax.plot([1, 1 + cd], [0.5, 0.5], color="black", linewidth=2)
    ax.text(1 + cd / 2, 0.58, f"CD = {cd:.2f}", ha="center", va="bottom")
    half = (k + 1) // 2
    for pos, idx in enumerate(order):
        left = pos < half
        y = -0.35 * (pos + 1 if left else k - pos)
        x_end = 1 - 0.08 * span if left else k + 0.08 * span
        ax.plot([ranks[idx], ranks[idx], x_end], [0, y, y], color="black", linewidth=0.8)
        label = f"{_short(names[idx], 32)} ({ranks[idx]:.2f})"
        ax.text(x_end, y, label, ha="right" if left else "left", va="center")
    cliques = []
    for i in range(k):
        j = max((j for j in range(i, k) if ranks[order[j]] - ranks[order[i]] < cd), default=i)
        if j > i and not any(a <= i and j <= b for a, b in cliques):
            cliques.append((i, j))
    for c, (i, j) in enumerate(cliques):
        y = -0.12 - 0.1 * c
        ax.plot([ranks[order[i]] - 0.03, ranks[order[j]] + 0.03], [y, y], color="#d62728", linewidth=3)
    ax.set_xlim(1 - 0.75 * span, k + 0.75 * span)
    ax.set_ylim(-0.35 * (half + 1), 0.9)
    ax.axis("off")


def critical_difference(board) -> Figure:
    """Critical-difference diagram (Friedman test, Nemenyi post-hoc; Demšar 2006) of the board's sets."""
    key, title, metric = "fig-cd", "Critical-difference diagram", board.primary
    found = _cd_ranks(board, metric) if metric else None
    if found is None:
        return Figure(key, title, note="needs three or more result sets sharing two or more patients.")
    ranks, p, cd, n, names = found
    svg = _render(key, (9, 1.6 + 0.3 * len(names)), lambda fig: _draw_cd(fig, ranks, cd, names), board.any_synthetic)
    caption = (
        f"Average rank of each result set over the {n} patients all of them share (1 = best {_label(metric)}). "
        f"Friedman test p {_fmt_p(p)}; sets joined by a red bar differ by less than the Nemenyi critical "
        f"difference (CD = {cd:.2f} at α = 0.05, Demšar 2006), so their ranks are not told apart."
    )
    return Figure(key, title, caption, svg)


def score_vs_flops(board) -> Figure:
    """Primary score against FLOPs per window for the runs that measured their cost."""
    key, title, metric = "fig-cost", "Score against model cost", board.primary
    points = [
        (e, float(eff["flops_per_window"]), e.stats[metric].mean)
        for e, eff in board.efficiency
        if eff.get("flops_per_window") and metric in e.stats and math.isfinite(e.stats[metric].mean)
    ]
    if not points:
        return Figure(key, title, note="no run on this board measured its FLOPs per window.")
    names = _names([e for e, _, _ in points])

    def draw(fig):
        ax = fig.add_subplot()
        for (e, x, y), name in zip(points, names):
            ax.scatter([x], [y], s=36, color="#7f7f7f" if e.is_baseline else "#1f77b4")
            ax.annotate(_short(name, 28), (x, y), xytext=(4, 4), textcoords="offset points")
        ax.set_xscale("log")
        ax.set_xlabel("FLOPs per window (log scale)")
        ax.set_ylabel(_label(metric))
        ax.grid(alpha=0.3)

    svg = _render(key, (7, 4), draw, board.any_synthetic)
    caption = f"Mean {_label(metric)} over patients against the FLOPs one test window costs (grey: baselines)."
    return Figure(key, title, caption, svg)


def board_figures(board) -> list[Figure]:
    """The figures of a leaderboard page (none for a board without result sets)."""
    if not board.entries:
        return []
    return [leaderboard_scores(board), paired_comparison(board), critical_difference(board), score_vs_flops(board)]


# ---------------------------------------------------------------- run pages


def _roc_points(pos: np.ndarray, neg: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(FPR, TPR) at each bin edge, highest threshold first, from counts per score bin."""
    tpr = np.concatenate([[0.0], np.cumsum(pos[::-1]) / pos.sum()])
    fpr = np.concatenate([[0.0], np.cumsum(neg[::-1]) / neg.sum()])
    return fpr, tpr


def roc_curve(run, hist: pd.DataFrame | None, n_classes: int) -> Figure:
    """ROC curve over every test window pooled (thick) and of each patient (thin lines)."""
    key, title = "fig-roc", "ROC curve"
    if n_classes > 2:
        return Figure(key, title, note="drawn for two-class runs only; see the per-class results.")
    if hist is None or hist.empty or not set(hist["label"]) <= {0, 1}:
        return Figure(key, title, note="no window scores of two classes stored for this run.")
    counts = hist.pivot_table(index=["patient", "bin"], columns="label", values="n", aggfunc="sum", fill_value=0)
    counts = counts.reindex(columns=[0, 1], fill_value=0)
    pooled = counts.groupby(level="bin").sum().reindex(range(ROC_BINS), fill_value=0)
    if not (pooled[0].sum() and pooled[1].sum()):
        return Figure(key, title, note="the test windows hold one class only.")
    curves = []
    for _, c in counts.groupby(level="patient", sort=True):
        c = c.droplevel("patient").reindex(range(ROC_BINS), fill_value=0)
        if c[0].sum() and c[1].sum():
            curves.append(_roc_points(c[1].to_numpy(), c[0].to_numpy()))

    def draw(fig):
        ax = fig.add_subplot()
        for fpr, tpr in curves:
            ax.plot(fpr, tpr, color="#1f77b4", linewidth=0.6, alpha=0.4)
        fpr, tpr = _roc_points(pooled[1].to_numpy(), pooled[0].to_numpy())
        ax.plot(fpr, tpr, color="black", linewidth=2, label="all test windows pooled")
        ax.plot([0, 1], [0, 1], color="#7f7f7f", linestyle="--", linewidth=1, label="chance")
        ax.set_xlabel("False positive rate")
        ax.set_ylabel("True positive rate")
        ax.set_aspect("equal")
        ax.legend(loc="lower right")

    caption = (
        f"ROC curve of the window scores: all test windows pooled (black) and each of the {len(curves)} patients "
        f"with both classes (thin lines); thresholds in steps of 1/{ROC_BINS}."
    )
    return Figure(key, title, caption, _render(key, (4.6, 4.4), draw, run.synthetic))


def confusion_heatmap(run, confusion, window_unit: str) -> Figure:
    """The confusion matrix as a heat map of row shares, with counts in the cells."""
    key, title = "fig-confusion", "Confusion matrix"
    if confusion is None:
        return Figure(key, title, note="no window scores stored for this run.")
    counts = np.asarray(confusion.counts, dtype=float)
    totals = counts.sum(axis=1, keepdims=True)
    share = np.divide(counts, totals, out=np.zeros_like(counts), where=totals > 0)
    names = [_short(c, 18) for c in confusion.classes]
    k = len(names)

    def draw(fig):
        ax = fig.add_subplot()
        mesh = ax.pcolormesh(share, cmap="Blues", vmin=0, vmax=1, edgecolors="white", linewidth=0.5)
        for i in range(k):
            for j in range(k):
                color = "white" if share[i, j] > 0.6 else "black"
                ax.text(j + 0.5, i + 0.5, f"{int(counts[i, j])}\n{share[i, j]:.0%}", ha="center", va="center",
                        color=color, fontsize=8)  # fmt: skip
        ax.set_xticks(np.arange(k) + 0.5, names, rotation=30 if k > 3 else 0, ha="right" if k > 3 else "center")
        ax.set_yticks(np.arange(k) + 0.5, names)
        ax.invert_yaxis()
        ax.set_xlabel("Predicted class")
        ax.set_ylabel("True class")
        fig.colorbar(mesh, ax=ax, label="share of the row")

    caption = (
        f"Test {window_unit} by true class (rows) and predicted class (columns); colour: share of the row, so "
        "the diagonal is each class's recall. Each cell gives the count and its share."
    )
    return Figure(key, title, caption, _render(key, (1.8 + 0.9 * k, 1.2 + 0.8 * k), draw, run.synthetic))


def fold_timings(run, folds) -> Figure:
    """Seconds each fold spent fitting and predicting; folds that resumed an earlier attempt's work
    are hatched (their fit seconds leave that work out)."""
    key, title = "fig-timings", "Time per fold"
    done = [f for f in folds if f.status == "ok"]
    if not done:
        return Figure(key, title, note="no successful fold stored for this run.")
    labels = [_short(f.fold_id, 24) + (" (resumed)" if f.resumed else "") for f in done]
    fit = np.array([f.fit_seconds for f in done], dtype=float)
    predict = np.array([f.predict_seconds for f in done], dtype=float)
    resumed = np.array([bool(f.resumed) for f in done])

    def draw(fig):
        ax = fig.add_subplot()
        y = np.arange(len(done))[::-1]
        ax.barh(y[~resumed], fit[~resumed], color="#1f77b4", label="fit")
        if resumed.any():
            blue = {"color": "#1f77b4", "hatch": "//", "edgecolor": "white", "linewidth": 0}
            ax.barh(y[resumed], fit[resumed], label="fit, resumed (earlier work left out)", **blue)
        ax.barh(y, predict, left=fit, color="#ff7f0e", label="predict")
        ax.set_yticks(y, labels)
        ax.set_xlabel("Seconds")
        ax.legend(loc="lower right")
        ax.grid(axis="x", alpha=0.3)

    caption = "Wall-clock seconds each successful fold spent fitting (blue) and predicting (orange)."
    if resumed.any():
        caption += (
            f" {int(resumed.sum())} fold(s), hatched and marked (resumed), started from files an earlier "
            "attempt (interrupted or failed) left in their work folder (e.g. a pre-trained encoder): their fit seconds "
            "leave out that attempt's work."
        )
    return Figure(key, title, caption, _render(key, (7, 1.2 + 0.28 * len(done)), draw, run.synthetic))


def _downsample(t: np.ndarray, y: np.ndarray, points: int) -> tuple[np.ndarray, np.ndarray]:
    """At most ``points`` points: the first time and the highest score of each bucket (peaks stay visible)."""
    if len(t) <= points:
        return t, y
    edges = np.linspace(0, len(t), points + 1).astype(int)
    return t[edges[:-1]], np.maximum.reduceat(y, edges[:-1])


def _extremes(entry, metric: str) -> list[tuple[str, str, float]]:
    """``(role, patient, value)`` of the worst and the best patient on ``metric``."""
    s = _series(entry, metric).sort_values(kind="stable")
    if s.empty:
        return []
    low, high = (str(s.index[0]), float(s.iloc[0])), (str(s.index[-1]), float(s.iloc[-1]))
    worst, best = (high, low) if metric in LOWER_IS_BETTER else (low, high)
    return [("worst", *worst)] + ([("best", *best)] if best[0] != worst[0] else [])


def _recordings(store, run_id: str, patient: str) -> list[str]:
    """The patient's recordings with window scores, those with seizures first (then by name)."""
    recs = store.recordings_scored(run_id, patient)
    recs = recs[recs["recording"].notna()]
    return [str(r) for r in recs.sort_values("n_positive", ascending=False, kind="stable")["recording"]]


def _timeline(w: pd.DataFrame, post) -> tuple:
    from benchmark.events import windows_to_events

    start, end = w["start"].to_numpy(float), w["end"].to_numpy(float)
    seizures = windows_to_events(start, end, w["label"].to_numpy(float))
    alarms = windows_to_events(start, end, w["score"].to_numpy(float), post)
    t, y = _downsample(start, w["score"].to_numpy(float), TRACE_POINTS)
    return t, y, seizures, alarms


def _post_processing(run):
    from benchmark.events import PostProcessing

    stored = ((run.provenance or {}).get("event_scoring") or {}).get("post_processing") or {}
    try:
        return PostProcessing(**stored)
    except Exception:  # an older or hand-edited record: the default post-processing is what SzCORE assumes
        return PostProcessing()


def _draw_timelines(fig, panels) -> None:
    axes = fig.subplots(len(panels), 1, squeeze=False)[:, 0]
    # Seconds shown in minutes for recordings under two hours, else in hours.
    unit, scale = ("Minutes", 60.0) if max(p[1].max() for p in panels) < 7200 else ("Hours", 3600.0)
    for ax, (title, t, y, seizures, alarms) in zip(axes, panels):
        ax.plot(t / scale, y, color="#1f77b4", linewidth=0.8, label="window probability")
        for i, (s, e) in enumerate(seizures):
            ax.axvspan(s / scale, e / scale, color="#2ca02c", alpha=0.3, label="true seizure" if i == 0 else None)
        for i, (s, e) in enumerate(alarms):
            ax.plot([s / scale, e / scale], [1.08, 1.08], color="#d62728", linewidth=5, solid_capstyle="butt",
                    label="alarm" if i == 0 else None)  # fmt: skip
        ax.set_ylim(-0.02, 1.15)
        ax.set_ylabel("p(seizure)")
        ax.set_title(title, loc="left", fontsize=9)
    axes[-1].set_xlabel(f"{unit} from the recording's start")
    # Outside the axes: inside, the legend would hide alarms drawn along the top.
    handles = {}
    for ax in axes:
        for h, label in zip(*ax.get_legend_handles_labels()):
            handles.setdefault(label, h)
    fig.legend(handles.values(), handles.keys(), loc="outside upper right", ncols=3, fontsize=8, frameon=False)


def detection_timeline(store, entry, metric: str) -> Figure:
    """Per recording of the worst and the best patient: true seizures, alarms and the window probability."""
    key, title, run = "fig-timeline", "Event timeline", entry.run
    post = _post_processing(run)
    panels = []
    for role, patient, value in _extremes(entry, metric):
        for rec in _recordings(store, run.run_id, patient)[:MAX_RECORDINGS]:
            # One recording's windows at a time, so a run of millions of windows never sits in memory.
            w = store.recording_scores(run.run_id, patient, rec)
            head = f"{role} patient {_short(patient, 24)} ({_label(metric)} {value:.3f}), recording {_short(rec, 32)}"
            panels.append((head, *_timeline(w, post)))
    if not panels:
        return Figure(key, title, note="no window scores stored for this run's patients.")
    caption = (
        f"The worst and the best patient on {_label(metric)}: for up to {MAX_RECORDINGS} of their recordings "
        "(those with seizures first), the spans of windows labelled ictal (green), the alarms the run's "
        "post-processing makes of the window scores (red bars) and each window's seizure probability "
        f"(at most {TRACE_POINTS} points per recording, each the highest of its stretch)."
    )
    return Figure(
        key,
        title,
        caption,
        _render(key, (9, 0.4 + 1.7 * len(panels)), lambda f: _draw_timelines(f, panels), run.synthetic),
    )


def _blocks(w: pd.DataFrame) -> list[tuple[int, np.ndarray, np.ndarray]]:
    """``(label, minutes before the block's end, probability)`` of each stretch of consecutive windows of
    one class in a recording (windows sorted by start), down-sampled to :data:`BLOCK_POINTS`; a window is
    placed at its end, the last one at 0."""
    if w.empty:
        return []
    start, end, label = w["start"].to_numpy(float), w["end"].to_numpy(float), w["label"].to_numpy(int)
    gap = 2 * float(np.median(end - start))
    cut = np.flatnonzero((np.diff(label) != 0) | (start[1:] - end[:-1] > gap)) + 1
    score = w["score"].to_numpy(float)
    return [
        (int(label[idx[0]]), *_downsample((end[idx] - end[idx[-1]]) / 60.0, score[idx], BLOCK_POINTS))
        for idx in np.split(np.arange(len(w)), cut)
    ]


def _patient_blocks(store, run_id: str, patient: str) -> list[tuple[int, np.ndarray, np.ndarray]]:
    """Up to :data:`MAX_BLOCKS` pre-ictal and inter-ictal blocks of a patient, in time order, read one
    recording at a time (see :func:`detection_timeline`)."""
    pre, inter = [], []
    for rec in sorted(_recordings(store, run_id, patient)):
        for block in _blocks(store.recording_scores(run_id, patient, rec)):
            (pre if block[0] == 1 else inter).append(block)
        if len(pre) >= MAX_BLOCKS and len(inter) >= MAX_BLOCKS:
            break
    return pre[:MAX_BLOCKS] + inter[:MAX_BLOCKS]


def _draw_traces(fig, panels) -> None:
    axes = fig.subplots(1, len(panels), squeeze=False, sharey=True)[0]
    for ax, (head, blocks) in zip(axes, panels):
        for label, x, y in blocks:
            ax.plot(x, y, color="#d62728" if label == 1 else "#1f77b4", linewidth=0.8, alpha=0.7)
        ax.plot([], [], color="#d62728", label="pre-ictal block")
        ax.plot([], [], color="#1f77b4", label="inter-ictal block")
        ax.set_title(head, loc="left", fontsize=9)
        ax.set_xlabel("Minutes before the block's end")
        ax.set_ylim(-0.02, 1.02)
    axes[0].set_ylabel("p(pre-ictal)")
    axes[0].legend(loc="upper left", fontsize=8)


def prediction_traces(store, entry, metric: str) -> Figure:
    """The probability through each pre-ictal and inter-ictal block of the worst and the best patient."""
    key, title, run = "fig-trace", "Probability through each block", entry.run
    panels = []
    for role, patient, value in _extremes(entry, metric):
        kept = _patient_blocks(store, run.run_id, patient)
        if kept:
            panels.append((f"{role} patient {_short(patient, 24)} ({_label(metric)} {value:.3f})", kept))
    if not panels:
        return Figure(key, title, note="no window scores stored for this run's patients.")
    caption = (
        f"The worst and the best patient on {_label(metric)}: the predicted pre-ictal probability through each "
        f"pre-ictal (red) and inter-ictal (blue) block of consecutive test windows (up to {MAX_BLOCKS} of each, "
        "in time order), against the minutes left to the block's end (a pre-ictal block ends where the seizure "
        "prediction horizon before the onset begins). A useful predictor keeps blue low and lifts red."
    )
    return Figure(
        key,
        title,
        caption,
        _render(key, (4.5 * len(panels) + 0.5, 3.6), lambda f: _draw_traces(f, panels), run.synthetic),
    )


def run_figures(store, entry, *, histogram, confusion, folds, classes, window_unit: str, metric: str) -> list[Figure]:
    """The figures of a run page; a reported result set (no windows, no folds) has none."""
    run = entry.run
    if run.kind != "run":
        return []
    figures = [
        roc_curve(run, histogram, len(classes)),
        confusion_heatmap(run, confusion, window_unit),
        fold_timings(run, folds),
    ]
    metric = metric if metric in entry.patient_metrics.columns else next(iter(entry.patient_metrics.columns), "")
    if metric and "event_scoring" in (run.provenance or {}):
        figures.append(detection_timeline(store, entry, metric))
    elif metric and "preictal" in classes:
        figures.append(prediction_traces(store, entry, metric))
    return figures


# ---------------------------------------------------------------- index and paper pages


def protocol_gap(gap, i: int) -> Figure:
    """Bars of each method's score under the random protocol and under the patient-wise ones."""
    key = f"fig-gap-{i}"
    title = f"Random vs patient-wise splits: {gap.dataset} · {gap.task}" + (
        f" · {gap.params_label}" if gap.params_label else ""
    )
    methods = [m for m, _, _ in gap.rows]
    width = 0.8 / len(gap.protocols)

    def draw(fig):
        ax = fig.add_subplot()
        for j, p in enumerate(gap.protocols):
            x, y, err = [], [], [[], []]
            for i_m, (_, cells, _) in enumerate(gap.rows):
                if p in cells and math.isfinite(cells[p][0].mean):
                    s = cells[p][0]
                    x.append(i_m + (j - (len(gap.protocols) - 1) / 2) * width)
                    y.append(s.mean)
                    ok = math.isfinite(s.ci_low) and math.isfinite(s.ci_high)
                    err[0].append(s.mean - s.ci_low if ok else 0.0)
                    err[1].append(s.ci_high - s.mean if ok else 0.0)
            ax.bar(x, y, width, yerr=err, capsize=2, color=_COLORS[j % len(_COLORS)], label=p)
        ax.set_xticks(range(len(methods)), [_short(m, 24) for m in methods], rotation=20 if len(methods) > 3 else 0)
        ax.set_ylabel(_label(gap.metric))
        ax.legend(fontsize=8)
        ax.grid(axis="y", alpha=0.3)

    caption = (
        f"Mean {_label(gap.metric)} over patients of each method under {gap.random_protocol} (windows of one "
        f"recording on both sides of the split) and under the patient-wise protocols, with 95% CIs. The difference "
        "is how much a leaky split flatters a method."
    )
    return Figure(key, title, caption, _render(key, (max(5.0, 1.5 + 1.3 * len(methods)), 3.8), draw, gap.synthetic))


def index_figures(gaps) -> list[Figure]:
    return [protocol_gap(g, i) for i, g in enumerate(gaps)]


def paper_comparison(view) -> Figure:
    """Forest plot of one paper comparison: B − A per patient for each grid row, ours and the paper's."""
    key, metric = f"fig-paper-{view.table.key}", view.table.test_metric
    title = view.table.title
    rows, synthetic = [], False
    for group in view.groups:
        for row in group.rows:
            if row.a.entry is not None and row.b.entry is not None and row.testable:
                diffs = _differences(row.b.entry, row.a.entry, metric)
                rows.append((f"{group.title}: {row.label}", diffs, row.p_value, int(row.test["n"])))
                synthetic = synthetic or group.synthetic
    if not rows:
        return Figure(key, title, note="needs per-patient results of both methods in a row.")
    svg = _render(
        key, (9, 1.2 + 0.45 * len(rows)), lambda fig: _draw_forest(fig, rows, f"Δ {_label(metric)} (B − A)"), synthetic
    )
    caption = (
        f"Per-patient difference in {_label(metric)} of {view.label_b} minus {view.label_a} for each row of the "
        "tables above (grey dots), their mean (square) and 95% bootstrap CI (bar), with the paired t-test p-value "
        "(not corrected, as in the paper) and the number of shared patients."
    )
    return Figure(key, title, caption, svg)


def paper_figures(paper) -> list[Figure]:
    return [paper_comparison(view) for view in paper.tables]
