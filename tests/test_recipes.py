"""Reproduction recipes: the lee2024 grid, ``seizure-bench reproduce`` and the paper-grid page.

Runs use quick stand-ins for the three ResNet methods (the class prior and a band-power logistic
regression, registered under test-only names and swapped into the recipe with
:meth:`Recipe.substitute`) on the tiny SYNTHETIC dataset, so the whole grid runs in seconds.
"""

from __future__ import annotations

import html
import re
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from baselines.bandpower import BandPowerLogReg
from baselines.chance import ChanceAdapter
from benchmark import cli
from benchmark import recipes as recipes_mod
from benchmark import runner as runner_mod
from benchmark.adapters import REGISTRY
from benchmark.errors import BenchmarkError, UnknownNameError
from benchmark.metrics import summarize
from benchmark.recipes import RECIPES, get_recipe
from benchmark.report import build_report
from benchmark.reported import bundled_reported, import_bundled
from benchmark.stats import paired_tests
from benchmark.store import ResultStore, RunRecord
from benchmark.windows import DEFAULT_WINDOWS

LEE = get_recipe("lee2024")
METHODS = ("resnet_lstm", "resnet_supcon", "resnet_lstm_supcon")
STAND_INS = {m: f"test_recipe_{m}" for m in METHODS}
# The paper's Table 6 (CHB-MIT): paired t-test of Table 3 against Table 2 on accuracy.
TABLE6_P = {10: "0.009", 15: "0.024", 30: "0.002"}


# -- the recipe ----------------------------------------------------------------------------------
def test_lee2024_grid_is_three_methods_by_three_sops_loocv():
    cells = LEE.cells("chbmit")
    assert len(cells) == 9
    assert [(c.row, c.method) for c in cells] == [(s, m) for s in (10, 15, 30) for m in METHODS]
    for c in cells:
        assert (c.dataset, c.task, c.protocol, c.window_s) == ("chbmit", "prediction", "loocv", 10.0)
        assert dict(c.task_params) == {"sop_minutes": c.row, "sph_minutes": 0, "interictal_gap_hours": 3}
    assert [c.method for c in LEE.cells("chbmit", methods=["resnet_lstm_supcon"], rows=[15.0])] == ["resnet_lstm_supcon"]


def test_bundled_tables_match_the_grid_parameters():
    # Each reported set the recipe names exists once per SOP and states exactly the grid's
    # parameters, so it joins the leaderboard of our runs of the same cell.
    bundled = bundled_reported()
    for method, per_dataset in LEE.reported_tables.items():
        assert method in LEE.methods
        for dataset, table in per_dataset.items():
            for sop in LEE.rows:
                hits = [d for d in bundled if d["dataset"] == dataset and d["table"] == table
                        and d["task_params"] == LEE.task_params(sop)]
                assert len(hits) == 1, (method, dataset, table, sop)
                assert (hits[0]["task"], hits[0]["protocol"]) == (LEE.task, LEE.protocol)


def test_run_command_of_a_cell_gives_the_cells_run(tmp_path):
    # `seizure-bench run` with the printed command builds the same settings, hence the same run id.
    cell = LEE.cells("chbmit-synthetic", rows=[30])[2]
    args = cli.build_parser().parse_args(cell.run_command("paper", 3, tmp_path).split()[1:])
    cfg = cell.run_config(budget="paper", seed=3, data_dir=tmp_path)
    assert (args.method, args.dataset, args.task, args.protocol, args.budget, args.seed, args.data_dir) == (
        cfg.method, cfg.dataset, cfg.task, cfg.protocol, cfg.budget, cfg.seed, cfg.data_dir)
    assert cli._task_params(args) == cfg.task_params == {"sop_minutes": 30, "sph_minutes": 0, "interictal_gap_hours": 3}
    assert (cli._window(args) or DEFAULT_WINDOWS["prediction"]) == cfg.window


def test_unknown_names_are_one_line_errors_with_a_suggestion():
    with pytest.raises(UnknownNameError, match="unknown recipe 'lee2023'. Did you mean 'lee2024'"):
        get_recipe("lee2023")
    with pytest.raises(UnknownNameError, match="Did you mean 'resnet_lstm_supcon'"):
        LEE.cells("chbmit", methods=["resnet_lstmsupcon"])
    with pytest.raises(BenchmarkError, match="SOP 20 min is not in recipe 'lee2024'"):
        LEE.cells("chbmit", rows=[20])
    with pytest.raises(UnknownNameError, match="Did you mean 'chbmit'"):
        LEE.cells("chbmt")


def test_cli_unknown_recipe(tmp_path, capsys):
    assert cli.main(["--store", str(tmp_path / "r.sqlite"), "reproduce", "lee2023", "--dataset", "chbmit"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["seizure-bench: error: unknown recipe 'lee2023'. Did you mean 'lee2024'? Known recipes: lee2024."]
    assert not (tmp_path / "r.sqlite").exists()


def test_cli_dry_run_prints_the_plan_and_writes_nothing(tmp_path, capsys):
    store = tmp_path / "r.sqlite"
    rc = cli.main(["--store", str(store), "reproduce", "lee2024", "--dataset", "chbmit", "--budget", "paper", "--dry-run"])
    assert rc == 0
    lines = [l for l in capsys.readouterr().out.splitlines() if l.lstrip().startswith("[")]
    assert len(lines) == 9
    for line, cell in zip(lines, LEE.cells("chbmit")):
        assert cell.method in line and cell.row_label in line and line.endswith(cell.run_command("paper"))
    assert not store.exists()


# -- running the grid ----------------------------------------------------------------------------
def _stand_in(base, name):
    return type(f"StandIn_{name}", (base,), {"meta": replace(base.meta, name=name, is_baseline=False)})


@pytest.fixture
def stand_ins(monkeypatch):
    """The recipe with quick stand-ins registered for this test only."""
    REGISTRY.names()  # load the built-in methods first, so the patch below is undone cleanly
    bases = {"resnet_lstm": ChanceAdapter, "resnet_supcon": ChanceAdapter, "resnet_lstm_supcon": BandPowerLogReg}
    for method, name in STAND_INS.items():
        monkeypatch.setitem(REGISTRY._methods, name, _stand_in(bases[method], name))
        monkeypatch.setitem(REGISTRY._origin, name, "test")
    recipe = LEE.substitute(STAND_INS)
    monkeypatch.setattr(recipes_mod, "get_recipe", lambda name: recipe if name == "lee2024" else get_recipe(name))
    return recipe


def _tbody(page: str, table_key: str, title: str) -> str:
    table = re.search(rf'<table class="paper-grid" id="grid-{table_key}">(.*?)</table>', page, re.S).group(1)
    bodies = [b for b in re.findall(r"<tbody.*?</tbody>", table, re.S) if title in b]
    assert len(bodies) == 1, f"expected one row group '{title}' in table {table_key}"
    return bodies[0]


def _rows(tbody: str) -> dict[str, str]:
    rows = re.findall(r'<tr>\s*<th scope="row">(.*?)</th>(.*?)</tr>', tbody, re.S)
    return {re.sub(r"<[^>]+>", "", label): cells for label, cells in rows}


def _p_cell(cells: str) -> str:
    match = re.search(r'<td class="num pvalue[^"]*"[^>]*>(.*?)</td>', cells, re.S)
    return html.unescape(re.sub(r"<[^>]+>", "", match.group(1))).strip() if match else ""


def test_reproduce_runs_the_grid_resumes_and_the_report_lays_it_out(tmp_path, tiny_synthetic, stand_ins, capsys, monkeypatch):
    store_path = tmp_path / "r.sqlite"
    argv = ["--store", str(store_path), "reproduce", "lee2024", "--dataset", "chbmit-synthetic",
            "--data-dir", str(tiny_synthetic), "--splits-dir", str(tmp_path / "splits"),
            "--cache-dir", str(tmp_path / "cache"), "--no-progress"]  # fmt: skip
    # The tiny dataset only has lead seizures for SOP 10: the six other cells fail, the rest goes on.
    assert cli.main(argv) == 3
    out = capsys.readouterr().out
    lines = [l for l in out.splitlines() if l.lstrip().startswith("[")]
    assert len(lines) == 9
    assert all(" complete " in l and "[SYNTHETIC DATA]" in l for l in lines[:3])
    assert all(" failed " in l and "has no folds" in l for l in lines[3:])
    assert "3 of 9 run(s) complete; loaded 12 reported result sets" in out
    store = ResultStore(store_path)
    runs = {r.method: r for r in store.list_runs(kind="run")}
    assert set(runs) == set(STAND_INS.values())
    assert all(r.status == "complete" and r.synthetic and r.task_params["interictal_gap_hours"] == 3 for r in runs.values())

    # Running the same command again trains nothing: every stored run is found finished.
    def no_training(job):
        raise AssertionError(f"fold {job.fold_id} trained again")

    monkeypatch.setattr(runner_mod, "run_fold", no_training)
    assert cli.main(argv) == 3
    assert {r.run_id for r in store.list_runs(kind="run")} == {r.run_id for r in runs.values()}
    capsys.readouterr()

    index = build_report(store, tmp_path / "site", recipes=[stand_ins])
    assert 'href="papers/lee2024.html"' in index.read_text(encoding="utf-8")
    page = (index.parent / "papers" / "lee2024.html").read_text(encoding="utf-8")
    assert 'class="banner synthetic"' in page

    # Ours: p of the paired t-test on accuracy, B (stand-in resnet_lstm_supcon) against A.
    acc = {m: store.patient_metrics(runs[STAND_INS[m]].run_id)["accuracy"] for m in METHODS}
    for key, a in (("pretraining", "resnet_lstm"), ("lstm", "resnet_supcon")):
        ours = _tbody(page, key, "Ours · chbmit-synthetic · budget smoke")
        assert '<span class="badge synthetic"' in ours
        rows = _rows(ours)
        expected = paired_tests(acc[a], acc["resnet_lstm_supcon"])
        assert expected["n"] == 2 and np.isfinite(expected["p_value"])
        p = expected["p_value"]
        assert _p_cell(rows["SOP 10 min"]) == f"{'<0.001' if p < 0.001 else f'{p:.3f}'} (n=2)"
        # Means as percentages, B with the difference to A, as in the paper's tables.
        mean_b = acc["resnet_lstm_supcon"].mean() * 100
        assert f"{mean_b:.2f}</a>" in rows["SOP 10 min"] or f"{mean_b:.2f}" in rows["SOP 10 min"]
        # Cells that failed show the command that would fill them.
        for sop in (15, 30):
            assert "not run: <code>" in rows[f"SOP {sop} min"]
            assert html.escape(stand_ins.command("chbmit-synthetic", "smoke", [STAND_INS[a]], [sop])) in rows[f"SOP {sop} min"]
            assert _p_cell(rows[f"SOP {sop} min"]) == ""

    # The paper: Table 3 against Table 2 recomputed from the bundled per-patient tables gives
    # the p-values printed in Table 6 (chb11 has no SOP-30 row, hence 23 patients).
    paper = _tbody(page, "pretraining", "Paper · CHB-MIT")
    rows = _rows(paper)
    for sop, n in ((10, 24), (15, 24), (30, 23)):
        assert _p_cell(rows[f"SOP {sop} min"]) == f"{TABLE6_P[sop]} (n={n})"
        assert f'<td class="num printed-p">{TABLE6_P[sop]}</td>' in rows[f"SOP {sop} min"]
    assert "equal those printed in Table 6" in paper
    assert "differ from those printed in Table 7" in _tbody(page, "pretraining", "Paper · SNUH")
    # Table 8 gives the pre-trained ResNet only as averages: shown, marked, and not tested.
    lstm_paper = _rows(_tbody(page, "lstm", "Paper · CHB-MIT"))
    assert "88.94" in lstm_paper["SOP 10 min"] and "(printed average)" in lstm_paper["SOP 10 min"]
    assert _p_cell(lstm_paper["SOP 10 min"]) == ""


# -- the page from a hand-made store -------------------------------------------------------------
def _add_run(store, run_id, method, *, accuracy, created, status="complete", gap=3, budget="smoke", dataset="chbmit"):
    patients = [f"chb{i:02d}" for i in range(1, 7)]
    acc = np.asarray(accuracy, dtype=float)
    per_patient = pd.DataFrame(
        {"sensitivity": acc, "specificity": acc, "accuracy": acc, "fpr": 1 - acc},
        index=pd.Index(patients, name="patient"),
    )
    params = {"sop_minutes": 10, "sph_minutes": 0, "interictal_gap_hours": gap, "min_preictal_fraction": 0.5,
              "seed": 0, "window_s": 10.0, "stride_s": 10.0, "label": "x"}
    store.create_run(RunRecord(run_id, "run", method, dataset, "prediction", "loocv", task_params=params,
                               status=status, budget=budget, created_at=created, seed=0))
    store.save_patient_metrics(run_id, per_patient)
    store.save_summary(run_id, summarize(per_patient, n_boot=50))


def test_page_picks_the_complete_newest_run_per_cell_and_ignores_other_settings(tmp_path):
    store = ResultStore(tmp_path / "r.sqlite")
    base = [0.70, 0.72, 0.75, 0.80, 0.66, 0.71]
    better = [0.80, 0.85, 0.79, 0.90, 0.70, 0.83]
    _add_run(store, "a-old", "resnet_lstm", accuracy=np.array(base) - 0.1, created="2025-01-01")
    _add_run(store, "a-new", "resnet_lstm", accuracy=base, created="2025-01-02")
    _add_run(store, "a-partial", "resnet_lstm", accuracy=np.array(base) + 0.2, created="2025-01-03", status="partial")
    _add_run(store, "b", "resnet_lstm_supcon", accuracy=better, created="2025-01-02")
    _add_run(store, "b-gap4", "resnet_lstm_supcon", accuracy=np.zeros(6), created="2025-01-04", gap=4)
    _add_run(store, "b-paper", "resnet_lstm_supcon", accuracy=better, created="2025-01-05", budget="paper")
    index = build_report(store, tmp_path / "site")  # default recipes, no reported sets imported
    page = (index.parent / "papers" / "lee2024.html").read_text(encoding="utf-8")
    assert "not in this results store" in page and "Paper · CHB-MIT" not in page
    assert 'class="banner synthetic"' not in page
    rows = _rows(_tbody(page, "pretraining", "Ours · chbmit · budget smoke"))
    expected = paired_tests(pd.Series(base, index=[f"chb{i:02d}" for i in range(1, 7)]),
                            pd.Series(better, index=[f"chb{i:02d}" for i in range(1, 7)]))
    assert _p_cell(rows["SOP 10 min"]) == f"{expected['p_value']:.3f} (n=6)"
    assert "runs/a-new.html" in rows["SOP 10 min"] and "a-partial" not in rows["SOP 10 min"]
    delta = (np.mean(better) - np.mean(base)) * 100
    assert f"(+{delta:.2f})" in rows["SOP 10 min"]
    assert "b-gap4" not in page
    # The paper budget is its own row group; its A cell is missing and says how to fill it.
    paper_rows = _rows(_tbody(page, "pretraining", "Ours · chbmit · budget paper"))
    cmd = LEE.command("chbmit", "paper", ["resnet_lstm"], [10])
    assert f"not run: <code>{html.escape(cmd)}</code>" in paper_rows["SOP 10 min"]

    # Rebuilding from the same store gives byte-identical pages.
    again = build_report(store, tmp_path / "site2")
    assert (again.parent / "papers" / "lee2024.html").read_bytes() == page.encode("utf-8")
    # A store without anything of the grid gets no page and no link.
    empty = build_report(ResultStore(tmp_path / "empty.sqlite"), tmp_path / "site3")
    assert not (empty.parent / "papers").exists() and "papers/" not in empty.read_text(encoding="utf-8")


def test_reported_sets_alone_make_the_page(tmp_path):
    store = ResultStore(tmp_path / "r.sqlite")
    import_bundled(store)
    index = build_report(store, tmp_path / "site")
    page = (index.parent / "papers" / "lee2024.html").read_text(encoding="utf-8")
    assert "None of our runs matches this grid yet" in page
    assert [_p_cell(c) for c in _rows(_tbody(page, "pretraining", "Paper · CHB-MIT")).values()] == [
        "0.009 (n=24)", "0.024 (n=24)", "0.002 (n=23)"]
    assert set(RECIPES) == {"lee2024"}
