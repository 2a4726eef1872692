"""Integrity of the leaderboards: what a board ranks by, what it may rank together, which runs it
ranks at all, whether the baselines are on it, and whether each run's adapter was isolated."""

from __future__ import annotations

import re
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from benchmark import metrics as M
from benchmark.metrics import summarize
from benchmark.report import build_report
from benchmark.store import ResultStore, RunRecord

PATIENTS = ["chb01", "chb02", "chb03", "chb04", "chb05"]
PARAMS = {"sop_minutes": 10.0, "sph_minutes": 0.0, "interictal_gap_hours": 4.0, "seed": 0}
COMMAND = (
    "seizure-bench run --method resnet_lstm_supcon --dataset chbmit --data-dir /data/chbmit "
    "--task prediction --protocol loocv --seed 0 --threads 1"
)


def _scores(rng: np.random.Generator, score_of) -> pd.DataFrame:
    """Window scores of every patient: 60 inter-ictal then 40 pre-ictal windows."""
    rows = []
    for patient in PATIENTS:
        y = np.r_[np.zeros(60, int), np.ones(40, int)]
        s = score_of(y, rng)
        rows.append(pd.DataFrame({"patient": patient, "label": y, "score": s, "pred": (s >= 0.5).astype(int)}))
    return pd.concat(rows, ignore_index=True)


def _add(store: ResultStore, run_id: str, method: str, per_patient: pd.DataFrame, **kw) -> None:
    fields = dict(
        dataset="chbmit",
        task="prediction",
        protocol="loocv",
        task_params=PARAMS,
        status="complete",
        budget="smoke",
        seed=0,
        created_at=f"2026-01-01T00:00:0{len(store.list_runs())}+00:00",
    )
    fields.update(kw)
    store.create_run(RunRecord(run_id, fields.pop("kind", "run"), method, **fields))
    store.save_patient_metrics(run_id, per_patient)
    store.save_summary(run_id, summarize(per_patient, n_boot=50))


def _chance_and_method(store: ResultStore) -> None:
    rng = np.random.default_rng(0)
    # The chance baseline predicts the training prior for every window; with one more pre-ictal
    # than inter-ictal training window that is "pre-ictal" everywhere: sensitivity 1.
    chance = M.patient_metrics(_scores(rng, lambda y, r: np.full(y.size, 0.52)))
    method = M.patient_metrics(
        _scores(rng, lambda y, r: np.clip(0.5 + 0.3 * (y - 0.5) + r.normal(0, 0.2, y.size), 0, 1))
    )
    assert (chance["sensitivity"] == 1).all() and (chance["balanced_accuracy"] == 0.5).all()
    assert method["sensitivity"].mean() < 1 and method["balanced_accuracy"].mean() > 0.6
    _add(store, "run-chance", "chance", chance, provenance={"is_baseline": True, "command": COMMAND})
    _add(store, "run-method", "resnet_lstm_supcon", method, provenance={"command": COMMAND, "isolation": "isolated"})
    # A paper that prints only sensitivity and FPR per patient, as prediction papers often do.
    _add(
        store,
        "rep-sens",
        "Paper",
        pd.DataFrame({"sensitivity": [0.9] * 5, "fpr": [0.1] * 5}, index=pd.Index(PATIENTS, name="patient")),
        kind="reported",
        status="reported",
        display_name="Paper 2020",
        task_params={"sop_minutes": 10},
        budget="",
    )


def _pages(index: Path, sub: str) -> dict[str, str]:
    return {p.name: p.read_text(encoding="utf-8") for p in sorted((index.parent / sub).glob("*.html"))}


def _board(index: Path, needle: str) -> str:
    pages = [t for t in _pages(index, "leaderboards").values() if needle in t]
    assert len(pages) == 1
    return pages[0]


def _order(board: str) -> list[str]:
    table = board.split('id="leaderboard"', 1)[1].split("</table>", 1)[0]
    return re.findall(r'<tr data-run="([^"]+)"', table)


def _row(board: str, run_id: str) -> str:
    return re.search(rf'<tr data-run="{re.escape(run_id)}".*?</tr>', board, re.S).group(0)


# -- item 15: a board ranks by a metric chance cannot top -------------------------------------------


def test_item15_chance_is_not_first_on_a_prediction_board(tmp_path):
    with ResultStore(tmp_path / "r.db") as store:
        _chance_and_method(store)
        index = build_report(store, tmp_path / "site")
    board = _board(index, 'data-run="run-chance"')
    assert _order(board)[0] == "run-method"
    assert 'data-primary="balanced_accuracy"' in board
    best = '<td class="num pcell" data-metric="balanced_accuracy" data-sort=""><span class="tag-best">best'
    assert best in _row(board, "run-method") and best not in _row(board, "run-chance")


@pytest.mark.parametrize("task", ["classification", "detection", "prediction", "seizure-type"])
def test_item15_every_ranking_metric_gives_a_constant_predictor_no_skill(task):
    from benchmark.report.leaderboard import ranking_metric
    from benchmark.tasks import get_task

    rule = get_task(task).metadata.ranking_metrics
    assert not {"sensitivity", "accuracy", "video_accuracy", "specificity"} & set(rule)
    assert ranking_metric(task, ["sensitivity", "accuracy", "video_accuracy", *rule]) == rule[0]


def test_item15_video_board_ranks_by_class_balanced_accuracy_not_video_accuracy(tmp_path):
    """Five patients show only ES (positive), two only PNES: always answering ES gets video accuracy
    5/7 = 0.71 per patient on average and beat a method with skill; it cannot on the ranking metric."""
    idx = pd.Index([f"p{i}" for i in range(7)], name="patient")
    es = [True] * 5 + [False] * 2
    constant = pd.DataFrame(
        {
            "video_accuracy": [1.0 if e else 0.0 for e in es],
            "video_sensitivity": [1.0 if e else np.nan for e in es],
            "video_specificity": [np.nan if e else 0.0 for e in es],
        },
        index=idx,
    )
    skilled = pd.DataFrame(
        {
            "video_accuracy": [0.65 if e else 0.7 for e in es],
            "video_sensitivity": [0.65 if e else np.nan for e in es],
            "video_specificity": [np.nan if e else 0.7 for e in es],
        },
        index=idx,
    )
    assert constant["video_accuracy"].mean() > skilled["video_accuracy"].mean()
    with ResultStore(tmp_path / "r.db") as store:
        common = dict(
            dataset="video-synthetic",
            task="classification",
            synthetic=True,
            task_params={"seed": 0, "target": "label", "classes": None},
        )
        _add(store, "v-const", "i3d_lstm", constant, protocol="loso", provenance={"is_baseline": True}, **common)
        _add(store, "v-skill", "video_ssl_transformer", skilled, protocol="loso", **common)
        index = build_report(store, tmp_path / "site")
    board = _board(index, 'data-run="v-const"')
    assert 'data-primary="video_class_balanced_accuracy"' in board
    assert _order(board) == ["v-skill", "v-const"]


def test_item15_board_without_baselines_names_them_and_the_command(tmp_path):
    rng = np.random.default_rng(1)
    with ResultStore(tmp_path / "r.db") as store:
        method = M.patient_metrics(_scores(rng, lambda y, r: np.clip(0.3 + 0.4 * y + r.normal(0, 0.1, y.size), 0, 1)))
        _add(store, "alone", "resnet_lstm_supcon", method, provenance={"command": COMMAND})
        _add(store, "with-chance", "resnet_lstm_supcon", method, task_params={**PARAMS, "sop_minutes": 30.0})
        chance = M.patient_metrics(_scores(rng, lambda y, r: np.full(y.size, 0.52)))
        _add(
            store,
            "chance-30",
            "chance",
            chance,
            task_params={**PARAMS, "sop_minutes": 30.0},
            provenance={"is_baseline": True},
        )
        index = build_report(store, tmp_path / "site")
    board = _board(index, 'data-run="alone"')
    hint = re.search(r'<p class="banner info hint"[^>]*id="missing-baselines">.*?</p>', board, re.S).group(0)
    for name in ("chance", "bandpower_logreg", "bandpower_rf", "eegnet", "shallow_convnet"):
        assert name in hint
    assert "i3d_lstm" not in hint  # a video baseline cannot run on EEG
    assert f"<code>{COMMAND} --with-baselines</code>" in hint
    # On a board with chance, chance is no longer named as missing.
    other = _board(index, 'data-run="chance-30"')
    missing = re.search(r'id="missing-baselines">.*?</p>', other, re.S).group(0)
    assert "bandpower_logreg" in missing and "chance," not in missing and "chance." not in missing
    # Without a stored command the hint builds one from the board's settings.
    assert (
        "seizure-bench run --method bandpower_logreg --dataset chbmit --task prediction --protocol loocv "
        "--data-dir DIR --interictal-gap 4 --seed 0 --sop 30 --sph 0 --with-baselines"
    ) in missing


def test_item15_run_with_baselines_runs_the_task_baselines_with_the_same_settings(tmp_path, monkeypatch):
    from benchmark import cli, runner

    seen = []

    class FakeRunner:
        def __init__(self, cfg):
            self.cfg = cfg

        def run(self):
            seen.append(self.cfg)
            return SimpleNamespace(status="complete")

    monkeypatch.setattr(runner, "Runner", FakeRunner)
    monkeypatch.setattr(cli, "_print_run_summary", lambda store, rec: None)
    rc = cli.main(
        [
            "--store",
            str(tmp_path / "r.db"),
            "run",
            "--method",
            "eegnet",
            "--dataset",
            "chbmit-synthetic",
            "--task",
            "detection",
            "--protocol",
            "loso",
            "--seed",
            "3",
            "--set",
            "epochs=1",
            "--with-baselines",
        ]
    )
    assert rc == 0
    assert [c.method for c in seen] == ["eegnet", "bandpower_logreg", "bandpower_rf", "chance", "shallow_convnet"]
    assert {(c.dataset, c.task, c.protocol, c.seed, c.budget) for c in seen} == {
        ("chbmit-synthetic", "detection", "loso", 3, "smoke")
    }
    assert seen[0].method_overrides == {"epochs": 1} and all(c.method_overrides == {} for c in seen[1:])


def _run_with_baselines(tmp_path, monkeypatch, value):
    from benchmark import cli, runner

    seen = []

    class FakeRunner:
        def __init__(self, cfg):
            self.cfg = cfg

        def run(self):
            seen.append(self.cfg.method)
            return SimpleNamespace(status="complete")

    monkeypatch.setattr(runner, "Runner", FakeRunner)
    monkeypatch.setattr(cli, "_print_run_summary", lambda store, rec: None)
    argv = ["--store", str(tmp_path / "r.db"), "run", "--method", "resnet_lstm_supcon", "--dataset"]
    argv += ["chbmit-synthetic", "--task", "prediction", "--protocol", "loocv", "--with-baselines", value]
    return cli.main(argv), seen


def test_item15_with_baselines_names_a_subset_case_insensitively(tmp_path, monkeypatch):
    rc, seen = _run_with_baselines(tmp_path, monkeypatch, "Chance, bandpower_logreg,chance")
    assert rc == 0
    assert seen == ["resnet_lstm_supcon", "chance", "bandpower_logreg"]


def test_item15_an_unknown_baseline_is_refused_before_the_method_trains(tmp_path, monkeypatch, capsys):
    rc, seen = _run_with_baselines(tmp_path, monkeypatch, "chance,eegnett")
    assert rc != 0 and seen == []
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert "eegnett is not a baseline of the prediction task" in err[0] and "bandpower_logreg" in err[0]


# -- item 16 on boards: one rule decides what is ranked together ------------------------------------


def test_item16_synthetic_and_real_runs_of_one_dataset_name_are_never_on_one_board(tmp_path):
    rng = np.random.default_rng(2)
    with ResultStore(tmp_path / "r.db") as store:
        per = M.patient_metrics(_scores(rng, lambda y, r: np.clip(0.3 + 0.4 * y + r.normal(0, 0.1, y.size), 0, 1)))
        _add(store, "real", "eegnet", per, dataset="edf-folder")
        _add(store, "synth", "eegnet", per, dataset="edf-folder", synthetic=True)
        index = build_report(store, tmp_path / "site")
    boards = [t for t in _pages(index, "leaderboards").values() if "edf-folder" in t]
    assert len(boards) == 2
    assert all(('data-run="real"' in b) != ('data-run="synth"' in b) for b in boards)


# -- failed runs and isolation --------------------------------------------------------------------


def test_item15_failed_run_is_listed_but_not_ranked(tmp_path):
    rng = np.random.default_rng(3)
    with ResultStore(tmp_path / "r.db") as store:
        _chance_and_method(store)
        # Stale per-patient metrics better than everyone's, on a run in which no fold succeeded.
        perfect = M.patient_metrics(_scores(rng, lambda y, r: y.astype(float)))
        _add(store, "run-failed", "eegnet", perfect, status="failed")
        index = build_report(store, tmp_path / "site")
    board = _board(index, 'data-run="run-failed"')
    assert _order(board)[-1] == "run-failed" and _order(board)[0] == "run-method"
    row = _row(board, "run-failed")
    assert "not ranked" in row and "tag-best" not in row and "(n=" not in row
    # Nor is it a reference of anyone's tests.
    assert 'data-run="run-failed"' not in board.split("<tbody>", 1)[0]


def test_isolation_shown_on_board_rows_and_run_pages(tmp_path):
    rng = np.random.default_rng(4)
    with ResultStore(tmp_path / "r.db") as store:
        per = M.patient_metrics(_scores(rng, lambda y, r: np.clip(0.3 + 0.4 * y + r.normal(0, 0.1, y.size), 0, 1)))
        _add(store, "iso", "eegnet", per, provenance={"isolation": "isolated"})
        _add(store, "tru", "bandpower_rf", per, provenance={"isolation": "trusted"})
        _add(store, "old", "bandpower_logreg", per, provenance={})
        _add(store, "odd", "chance", per, provenance={"isolation": ["not", "a", "word"]})
        index = build_report(store, tmp_path / "site")
    board = _board(index, 'data-run="iso"')
    assert '<button type="button">Isolation</button>' in board
    assert 'data-isolation="isolated"' in _row(board, "iso")
    trusted = _row(board, "tru")
    assert 'class="badge danger trusted" data-isolation="trusted"' in trusted
    assert "could read files outside its window arrays" in trusted
    assert 'data-isolation="unknown"' in _row(board, "old") and "unknown (trusted)" in _row(board, "old")
    assert 'data-isolation="unknown"' in _row(board, "odd")
    assert "could have read files outside its window arrays" in board  # the legend
    runs = _pages(index, "runs")
    assert 'id="isolation"><span class="badge isolated" data-isolation="isolated"' in runs["iso.html"]
    assert 'data-isolation="trusted"' in runs["tru.html"]


def test_isolation_and_hint_visible_in_a_browser(tmp_path):
    chromium = Path("/usr/bin/chromium")
    if not chromium.exists():
        pytest.skip("chromium not installed")
    playwright = pytest.importorskip("playwright.sync_api")
    with ResultStore(tmp_path / "r.db") as store:
        _chance_and_method(store)
        index = build_report(store, tmp_path / "site")
    path = next(p for p in (index.parent / "leaderboards").glob("*.html") if 'data-run="run-chance"' in p.read_text())
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(chromium), args=["--no-sandbox", "--disable-gpu"], headless=True
        )
        page = browser.new_page()
        page.goto(path.as_uri())
        hint = page.locator("#missing-baselines")
        assert hint.is_visible() and "bandpower_logreg" in hint.inner_text()
        assert "chance," not in hint.inner_text()
        badge = page.locator('#leaderboard tr[data-run="run-chance"] [data-isolation="unknown"]')
        assert badge.is_visible() and "outside its window arrays" in badge.get_attribute("title")
        first = page.locator("#leaderboard tbody tr").first.get_attribute("data-run")
        assert first == "run-method"
        browser.close()


# -- the "best" mark, synthetic banners and isolation on the index ------------------------------------


def test_item15_best_mark_never_goes_to_a_baseline(tmp_path):
    from benchmark.report.build import _entry
    from benchmark.report.leaderboard import build_leaderboards

    with ResultStore(tmp_path / "r.db") as store:
        _chance_and_method(store)  # chance has sensitivity 1, above the method's
        index = build_report(store, tmp_path / "site")
        boards = build_leaderboards([_entry(store, r) for r in store.list_runs()])
    board = next(b for b in boards if any(e.run.run_id == "run-chance" for e in b.entries))
    assert board.best["sensitivity"] == "rep-sens"  # the paper's 0.9: the best non-baseline
    assert board.best["balanced_accuracy"] == "run-method" and "run-chance" not in board.best.values()
    # The method is still tested against chance, and chance against the best method.
    assert "run-chance" in board.comparisons["sensitivity"]["run-method"]
    assert "best" in board.comparisons["sensitivity"]["run-chance"]
    page = _board(index, 'data-run="run-chance"')
    chance = _row(page, "run-chance")
    assert " best" not in re.sub(r'class="badge baseline"', "", chance) and "tag-best" not in chance
    sens = re.search(r'<td class="num([^"]*)" data-sort="[^"]*" title="[^"]*">1\.000', chance)
    assert sens and "best" not in sens.group(1)


def test_item15_a_board_of_baselines_only_marks_no_best(tmp_path):
    from benchmark.report.build import _entry
    from benchmark.report.leaderboard import build_leaderboards

    rng = np.random.default_rng(5)
    with ResultStore(tmp_path / "r.db") as store:
        chance = M.patient_metrics(_scores(rng, lambda y, r: np.full(y.size, 0.52)))
        _add(store, "run-chance", "chance", chance, provenance={"is_baseline": True})
        boards = build_leaderboards([_entry(store, r) for r in store.list_runs()])
    assert boards[0].best == {}


@pytest.mark.parametrize(
    "task, phrase, wrong",
    [
        ("detection", "seizure detection on real EEG", "prediction"),
        ("seizure-type", "seizure-type classification", "prediction"),
        ("prediction", "seizure prediction on real EEG", "detection"),
    ],
)
def test_item15_synthetic_banner_names_the_boards_own_task(tmp_path, task, phrase, wrong):
    rng = np.random.default_rng(6)
    per = M.patient_metrics(_scores(rng, lambda y, r: np.clip(0.3 + 0.4 * y + r.normal(0, 0.1, y.size), 0, 1)))
    with ResultStore(tmp_path / "r.db") as store:
        _add(store, "synth", "eegnet", per, dataset="chbmit-synthetic", task=task, synthetic=True, task_params={})
        index = build_report(store, tmp_path / "site")
    for page in (_board(index, 'data-run="synth"'), _pages(index, "runs")["synth.html"]):
        banner = re.search(r'<p class="banner synthetic".*?</p>', page, re.S).group(0)
        assert phrase in banner and wrong not in banner


def test_item03_index_lists_each_runs_isolation(tmp_path):
    rng = np.random.default_rng(7)
    per = M.patient_metrics(_scores(rng, lambda y, r: np.clip(0.3 + 0.4 * y + r.normal(0, 0.1, y.size), 0, 1)))
    with ResultStore(tmp_path / "r.db") as store:
        _add(store, "iso", "eegnet", per, provenance={"isolation": "isolated"})
        _add(store, "tru", "bandpower_rf", per, provenance={"isolation": "trusted"})
        index = build_report(store, tmp_path / "site")
    table = index.read_text(encoding="utf-8").split('id="runs"', 1)[1].split("</table>", 1)[0]
    assert '<button type="button">Isolation</button>' in table
    rows = {
        m.group(1): m.group(0) for m in re.finditer(r'<tr>\s*<td><a href="runs/([^".]+)\.html".*?</tr>', table, re.S)
    }
    assert 'data-isolation="isolated"' in rows["iso"] and 'data-isolation="trusted"' in rows["tru"]
