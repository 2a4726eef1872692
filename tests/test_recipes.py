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
from benchmark.windows import default_window

LEE = get_recipe("lee2024")
METHODS = ("resnet_lstm", "resnet_supcon", "resnet_lstm_supcon")
STAND_INS = {m: f"test_recipe_{m}" for m in METHODS}
# The paper's Table 6 (CHB-MIT): paired t-test of Table 3 against Table 2 on accuracy.
TABLE6_P = {10: "0.009", 15: "0.024", 30: "0.002"}


# -- the recipe ----------------------------------------------------------------------------------
def test_lee2024_grid_is_three_methods_by_three_sops_loocv():
    cells = LEE.cells("chbmit")
    assert len(cells) == 9
    assert [(c.row, c.method) for c in cells] == [(f"sop{s}", m) for s in (10, 15, 30) for m in METHODS]
    for c in cells:
        assert (c.dataset, c.task, c.protocol, c.window_s, c.budget) == ("chbmit", "prediction", "loocv", 10.0, "paper")
        sop = float(c.row[3:])
        assert dict(c.task_params) == {"sop_minutes": sop, "sph_minutes": 0, "interictal_gap_hours": 3}
    assert [c.method for c in LEE.cells("chbmit", methods=["resnet_lstm_supcon"], rows=["sop15"])] == [
        "resnet_lstm_supcon"
    ]


def test_bundled_tables_match_the_grid_parameters():
    # Each reported set the recipe names exists once per SOP and states exactly the grid's
    # parameters, so it joins the leaderboard of our runs of the same cell.
    bundled = bundled_reported()
    for method, per_dataset in LEE.reported_tables.items():
        assert method in LEE.methods
        for dataset, table in per_dataset.items():
            for sop in (r.key for r in LEE.rows):
                hits = [
                    d
                    for d in bundled
                    if d["dataset"] == dataset
                    and d["table"] == table
                    and d["task_params"] == LEE.task_params(sop, dataset)
                ]
                assert len(hits) == 1, (method, dataset, table, sop)
                assert (hits[0]["task"], hits[0]["protocol"]) == (LEE.task, LEE.protocol)


def test_run_command_of_a_cell_gives_the_cells_run(tmp_path):
    # `seizure-bench run` with the printed command builds the same settings, hence the same run id.
    cell = LEE.cells("chbmit-synthetic", rows=["sop30"])[2]
    args = cli.build_parser().parse_args(cell.run_command(3, tmp_path).split()[1:])
    cfg = cell.run_config(seed=3, data_dir=tmp_path)
    assert (args.method, args.dataset, args.task, args.protocol, args.budget, args.seed, args.data_dir) == (
        cfg.method,
        cfg.dataset,
        cfg.task,
        cfg.protocol,
        cfg.budget,
        cfg.seed,
        cfg.data_dir,
    )
    assert cli._task_params(args) == cfg.task_params == {"sop_minutes": 30, "sph_minutes": 0, "interictal_gap_hours": 3}
    assert (cli._window(args) or default_window("prediction")) == cfg.window


def test_unknown_names_are_one_line_errors_with_a_suggestion():
    with pytest.raises(UnknownNameError, match="unknown recipe 'lee2023'. Did you mean 'lee2024'"):
        get_recipe("lee2023")
    with pytest.raises(UnknownNameError, match="Did you mean 'resnet_lstm_supcon'"):
        LEE.cells("chbmit", methods=["resnet_lstmsupcon"])
    with pytest.raises(BenchmarkError, match="row 'sop20' is not in recipe 'lee2024'"):
        LEE.cells("chbmit", rows=["sop20"])
    with pytest.raises(BenchmarkError, match="SOP 20 is not in recipe 'lee2024'; its grid has 10, 15, 30"):
        LEE.rows_with("sop_minutes", [20])
    with pytest.raises(UnknownNameError, match="Did you mean 'chbmit'"):
        LEE.cells("chbmt")


def test_cli_unknown_recipe(tmp_path, capsys):
    assert cli.main(["--store", str(tmp_path / "r.sqlite"), "reproduce", "lee2023", "--dataset", "chbmit"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [
        f"seizure-bench: error: unknown recipe 'lee2023'. Did you mean 'lee2024'? Known recipes: {', '.join(RECIPES)}."
    ]
    assert not (tmp_path / "r.sqlite").exists()


def test_cli_dry_run_prints_the_plan_and_writes_nothing(tmp_path, capsys):
    store = tmp_path / "r.sqlite"
    rc = cli.main(
        ["--store", str(store), "reproduce", "lee2024", "--dataset", "chbmit", "--budget", "paper", "--dry-run"]
    )
    assert rc == 0
    lines = [line for line in capsys.readouterr().out.splitlines() if line.lstrip().startswith("[")]
    assert len(lines) == 9
    for line, cell in zip(lines, LEE.cells("chbmit")):
        assert cell.method in line and cell.row_label in line and line.endswith(cell.run_command())
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


def test_reproduce_runs_the_grid_resumes_and_the_report_lays_it_out(
    tmp_path, tiny_synthetic, stand_ins, capsys, monkeypatch
):
    store_path = tmp_path / "r.sqlite"
    argv = [
        "--store",
        str(store_path),
        "reproduce",
        "lee2024",
        "--dataset",
        "chbmit-synthetic",
        "--data-dir",
        str(tiny_synthetic),
        "--splits-dir",
        str(tmp_path / "splits"),
        "--cache-dir",
        str(tmp_path / "cache"),
        "--no-progress",
    ]
    # The tiny dataset only has lead seizures for SOP 10: the six other cells fail, the rest goes on.
    assert cli.main(argv) == 3
    out = capsys.readouterr().out
    lines = [line for line in out.splitlines() if line.lstrip().startswith("[")]
    assert len(lines) == 9
    assert all(" complete " in line and "[SYNTHETIC DATA]" in line for line in lines[:3])
    assert all(" failed " in line and "has no folds" in line for line in lines[3:])
    assert "3 of 9 run(s) complete; loaded 12 reported result sets" in out
    store = ResultStore(store_path)
    runs = {r.method: r for r in store.list_runs(kind="run")}
    assert set(runs) == set(STAND_INS.values())
    assert all(
        r.status == "complete" and r.synthetic and r.task_params["interictal_gap_hours"] == 3 for r in runs.values()
    )

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
            assert (
                html.escape(stand_ins.command("chbmit-synthetic", "smoke", [STAND_INS[a]], [f"sop{sop}"]))
                in rows[f"SOP {sop} min"]
            )
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
def _add_run(
    store, run_id, method, *, accuracy, created, status="complete", gap=3, budget="smoke", dataset="chbmit", stride=None
):
    patients = [f"chb{i:02d}" for i in range(1, 7)]
    acc = np.asarray(accuracy, dtype=float)
    per_patient = pd.DataFrame(
        {"sensitivity": acc, "specificity": acc, "accuracy": acc, "fpr": 1 - acc},
        index=pd.Index(patients, name="patient"),
    )
    params = {
        "sop_minutes": 10,
        "sph_minutes": 0,
        "interictal_gap_hours": gap,
        "min_preictal_fraction": 0.5,
        "seed": 0,
        "window_s": 10.0,
        "stride_s": stride or (1.0 if budget == "paper" else 10.0),
        "label": "x",
    }
    store.create_run(
        RunRecord(
            run_id,
            "run",
            method,
            dataset,
            "prediction",
            "loocv",
            task_params=params,
            status=status,
            budget=budget,
            created_at=created,
            seed=0,
        )
    )
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
    # A paper-budget run with non-overlapping windows is not the paper's experiment (1-s stride).
    _add_run(
        store,
        "b-paper-stride10",
        "resnet_lstm_supcon",
        accuracy=better,
        created="2025-01-06",
        budget="paper",
        stride=10.0,
    )
    index = build_report(store, tmp_path / "site")  # default recipes, no reported sets imported
    page = (index.parent / "papers" / "lee2024.html").read_text(encoding="utf-8")
    assert "not in this results store" in page and "Paper · CHB-MIT" not in page
    assert 'class="banner synthetic"' not in page
    rows = _rows(_tbody(page, "pretraining", "Ours · chbmit · budget smoke"))
    expected = paired_tests(
        pd.Series(base, index=[f"chb{i:02d}" for i in range(1, 7)]),
        pd.Series(better, index=[f"chb{i:02d}" for i in range(1, 7)]),
    )
    assert _p_cell(rows["SOP 10 min"]) == f"{expected['p_value']:.3f} (n=6)"
    assert "runs/a-new.html" in rows["SOP 10 min"] and "a-partial" not in rows["SOP 10 min"]
    delta = (np.mean(better) - np.mean(base)) * 100
    assert f"(+{delta:.2f})" in rows["SOP 10 min"]
    assert "b-gap4" not in page and "b-paper-stride10" not in page
    # The paper budget is its own row group; its A cell is missing and says how to fill it.
    paper_rows = _rows(_tbody(page, "pretraining", "Ours · chbmit · budget paper"))
    cmd = LEE.command("chbmit", "paper", ["resnet_lstm"], ["sop10"])
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
        "0.009 (n=24)",
        "0.024 (n=24)",
        "0.002 (n=23)",
    ]


# -- issue 13: windows per budget, overrides, rows over datasets, settings tables ------------------
from benchmark.recipes import GridRow, Recipe, Settings, check_setting, resolve_settings  # noqa: E402
from benchmark.runner import RunConfig  # noqa: E402
from benchmark.windows import WindowParams  # noqa: E402


def test_item01_lee2024_paper_cells_slide_every_second_and_smoke_says_it_is_coarser():
    paper = LEE.cells("chbmit", budget="paper")
    assert {(c.window.window_s, c.window.stride_s) for c in paper} == {(10.0, 1.0)}
    assert all("--window 10 --stride 1" in c.run_command() and not c.notes for c in paper)
    smoke = LEE.cells("chbmit-synthetic", budget="smoke")
    assert {(c.window.window_s, c.window.stride_s) for c in smoke} == {(10.0, 10.0)}
    assert all("coarser than the paper's 1-s stride" in c.notes[0] for c in smoke)
    assert "every 1 s" in LEE.description and "every 10 s" in LEE.description


def test_item01_smoke_cells_keep_the_settings_of_earlier_versions():
    # The smoke cells' run-id settings are unchanged: default windows, the paper's task parameters,
    # no overrides (so they stay what `seizure-bench run` with those options gives).
    for cell in LEE.cells("chbmit-synthetic", budget="smoke"):
        cfg = cell.run_config()
        assert (cfg.window, cfg.method_overrides, cfg.budget) == (WindowParams(10.0, 10.0), {}, "smoke")
        assert cfg.task_params == {"sop_minutes": float(cell.row[3:]), "sph_minutes": 0.0, "interictal_gap_hours": 3.0}
        assert "--window" not in cell.run_command() and "--set" not in cell.run_command()


def _run_id(cfg):
    from benchmark.datasets import load_dataset

    runner = runner_mod.Runner(cfg)
    index = load_dataset(cfg.dataset, cfg.data_dir)
    spec, _ = runner.load_split(index)
    return runner.run_id(index, spec)


def test_item01_printed_run_command_gives_the_cells_run_id_with_windows_and_overrides(tmp_path, tiny_synthetic):
    ablation = GridRow(
        "sop10-nodrop",
        "SOP 10 min, no dropout",
        Settings(task_params={"sop_minutes": 10}, overrides={"resnet_lstm_supcon": {"dropout": 0.0}}),
    )
    recipe = replace(LEE, rows=LEE.rows + (ablation,))
    cells = recipe.cells(
        "chbmit-synthetic", methods=["resnet_lstm_supcon"], rows=["sop10", "sop10-nodrop"]
    ) + recipe.cells("chbmit-synthetic", methods=["resnet_lstm_supcon"], rows=["sop10"], budget="smoke")
    assert "--set dropout=0.0" in cells[1].run_command() and "--set" not in cells[0].run_command()
    where = dict(splits_dir=tmp_path / "splits", cache_dir=tmp_path / "cache", store_path=tmp_path / "r.sqlite")
    ids = set()
    for cell in cells:
        args = cli.build_parser().parse_args(cell.run_command(0, tiny_synthetic).split()[1:])
        typed = RunConfig(
            method=args.method,
            dataset=args.dataset,
            task=args.task,
            protocol=args.protocol,
            budget=args.budget,
            seed=args.seed,
            data_dir=args.data_dir,
            task_params=cli._task_params(args),
            window=cli._window(args),
            method_overrides=cli._overrides(args.set),
            **where,
        )
        run_id = _run_id(cell.run_config(data_dir=tiny_synthetic, **where))
        assert run_id == _run_id(typed), cell.label
        ids.add(run_id)
    assert len(ids) == 3  # paper, paper ablation and smoke are three experiments


def _demo_recipe() -> Recipe:
    """Rows over datasets with a per-dataset ictal stride, an ablation row, a coarser smoke budget."""
    return Recipe(
        name="demo",
        title="Demo",
        citation="Demo et al.",
        description="demo",
        methods=("bandpower_logreg", "chance"),
        method_labels={},
        task="detection",
        protocol="kfold5",
        tables=(),
        rows=(
            GridRow("chbmit", "CHB-MIT", dataset="chbmit"),
            GridRow("tusz", "TUSZ", dataset="tusz"),
            GridRow(
                "tusz-c01",
                "TUSZ, C 0.1",
                dataset="tusz",
                methods=("bandpower_logreg",),
                settings=Settings(overrides={"bandpower_logreg": {"C": 0.1}}),
            ),
        ),
        paper_datasets={"chbmit": "CHB-MIT", "tusz": "TUSZ"},
        window_s=1.0,
        row_header="Dataset",
        dataset_settings={"chbmit": Settings(ictal_stride_s=0.5), "tusz": Settings(ictal_stride_s=0.25)},
        budgets={"smoke": Settings(ictal_stride_s=1.0, note="no ictal oversampling")},
        deviations={"window.ictal_stride_s@tusz": "the harness cannot do it (demo)"},
    )


def test_item01_rows_over_datasets_per_dataset_settings_and_ablation_overrides():
    demo = _demo_recipe()
    cells = demo.cells(None)
    assert [(c.row, c.method, c.dataset) for c in cells] == [
        ("chbmit", "bandpower_logreg", "chbmit"),
        ("chbmit", "chance", "chbmit"),
        ("tusz", "bandpower_logreg", "tusz"),
        ("tusz", "chance", "tusz"),
        ("tusz-c01", "bandpower_logreg", "tusz"),
    ]
    assert [c.window.ictal_stride_s for c in cells] == [0.5, 0.5, 0.25, 0.25, 0.25]
    assert cells[-1].overrides == {"C": 0.1} and "--set C=0.1" in cells[-1].run_command()
    assert "--ictal-stride 0.25" in cells[2].run_command()
    # A synthetic dataset selects the rows (and takes the settings) of the dataset it stands in for.
    synthetic = demo.cells("tusz-synthetic")
    assert {c.row for c in synthetic} == {"tusz", "tusz-c01"} and {c.dataset for c in synthetic} == {"tusz-synthetic"}
    assert {c.window.ictal_stride_s for c in synthetic} == {0.25}
    assert {c.window.ictal_stride_s for c in demo.cells(None, budget="smoke")} == {1.0}
    with pytest.raises(BenchmarkError, match="no row of recipe 'demo' runs on 'siena'"):
        demo.cells("siena")
    with pytest.raises(BenchmarkError, match="needs --dataset"):
        LEE.cells(None)
    with pytest.raises(BenchmarkError, match="do not vary --sop"):
        demo.rows_with("sop_minutes", [10])
    resolved = resolve_settings(demo)
    assert resolved["window.ictal_stride_s"] == (0.5, 0.25)
    assert (resolved["window.ictal_stride_s@chbmit"], resolved["window.ictal_stride_s@tusz"]) == (0.5, 0.25)
    assert resolved["method.bandpower_logreg.C"] == (1.0, 0.1) and resolved["method.bandpower_logreg.C#tusz-c01"] == 0.1


def test_item01_report_page_matches_ablation_runs_by_their_overrides():
    demo = _demo_recipe()
    base = RunRecord(
        "x",
        "run",
        "bandpower_logreg",
        "tusz",
        "detection",
        "kfold5",
        budget="paper",
        task_params={"seed": 0, "window_s": 1.0, "stride_s": 1.0, "ictal_stride_s": 0.25},
        method_config={"C": 1.0, "max_iter": 5000},
    )
    assert demo.cell_of(base).row == "tusz"
    assert demo.cell_of(replace(base, method_config={"C": 0.1, "max_iter": 5000})).row == "tusz-c01"
    assert demo.cell_of(replace(base, method_config={"C": 5.0, "max_iter": 5000})) is None
    assert demo.cell_of(replace(base, task_params={**base.task_params, "ictal_stride_s": 0.5})) is None
    assert demo.cell_of(replace(base, budget="smoke")) is None  # smoke cells have another ictal stride


def test_item04_check_setting_names_mismatches_unknown_names_and_stale_deviations():
    demo = _demo_recipe()
    resolved = resolve_settings(demo)
    row = {"setting": "window.window_s", "value": "1", "quote": "1-s windows", "section": "II.A"}
    assert check_setting(demo, resolved, row) is None
    wrong = check_setting(demo, resolved, {**row, "value": "2"})
    assert 'window.window_s is 1 but the paper states 2 (II.A: "1-s windows")' in wrong
    assert "Did you mean" in check_setting(demo, resolved, {**row, "setting": "window.windows"})
    # A listed deviation passes while it differs, and must be removed once it no longer does.
    deviation = {**row, "setting": "window.ictal_stride_s@tusz", "value": "0.125"}
    assert check_setting(demo, resolved, deviation) is None
    assert "remove it from Recipe.deviations" in check_setting(demo, resolved, {**deviation, "value": "0.25"})
    assert check_setting(demo, resolved, {**row, "setting": "task.seed", "value": "0"}) is None
    assert "but the paper states" in check_setting(
        LEE, resolve_settings(LEE), {"setting": "window.stride_s", "value": "10", "quote": "q", "section": "s"}
    )


def test_item05_dry_run_prints_the_windows_of_each_budget(tmp_path, capsys):
    store = tmp_path / "r.sqlite"
    argv = ["--store", str(store), "reproduce", "lee2024", "--dataset", "chbmit", "--dry-run", "--sop", "15"]
    assert cli.main(argv) == 0
    out = capsys.readouterr().out
    assert "windows, budget paper: 10-s windows every 1 s; as in the paper" in out
    assert "windows, budget smoke (this run): 10-s windows every 10 s; non-overlapping windows, coarser" in out
    assert "windows, cache and steps of a run: seizure-bench plan --method resnet_lstm_supcon" in out
    lines = [line for line in out.splitlines() if line.lstrip().startswith("[")]
    assert len(lines) == 3 and all("SOP 15 min" in line for line in lines)
    assert cli.main(argv[:-2] + ["--rows", "sop30", "--budget", "paper"]) == 0
    out = capsys.readouterr().out
    assert "windows, budget paper (this run)" in out and "--stride 1" in out and "SOP 30 min" in out
    assert cli.main(argv + ["--rows", "sop30"]) == 2
    assert "give --rows or --sop, not both" in capsys.readouterr().err
    assert not store.exists()


# -- wang2025 (DistilCLIP-EEG) ----------------------------------------------------------------------
def test_item06_wang2025_grid_strides_256hz_and_the_minilm_deviation_label():
    from benchmark.weights import budget_label
    from methods.distilclip_eeg import DistilClipEEGStudent, DistilClipEEGTeacher

    wang = get_recipe("wang2025")
    cells = wang.cells(None)
    methods = ("distilclip_eeg_teacher", "distilclip_eeg_student")
    assert [(c.dataset, c.method) for c in cells] == [(d, m) for d in ("chbmit", "helsinki", "tusz") for m in methods]
    for c in cells:
        assert c.protocol == "kfold5-random-balanced" and (c.window.window_s, c.window.stride_s) == (1.0, 1.0)
        # the paper's ictal overlap per dataset: 50 % CHB-MIT and Zenodo, 75 % TUSZ
        assert c.window.ictal_stride_s == {"chbmit": 0.5, "helsinki": 0.5, "tusz": 0.25}[c.dataset]
        assert c.task == ("seizure-type" if c.dataset == "tusz" else "detection")
    assert sorted(next(c for c in cells if c.dataset == "tusz").task_params["types"]) == sorted(
        ["FNSZ", "GNSZ", "ABSZ", "CPSZ", "TCSZ", "TNSZ", "SPSZ"]
    )  # MYSZ left out
    # a synthetic stand-in takes its real dataset's settings
    assert {c.window.ictal_stride_s for c in wang.cells("tusz-synthetic", budget="smoke")} == {0.25}
    # 256 Hz in the paper cells; smoke keeps the dataset's rate
    paper = recipes_mod.resolve_settings(wang, "paper")
    assert paper["method.*.representation.sfreq"] == 256.0 and paper["method.*.representation.sfreq@tusz"] == 256.0
    assert "method.*.representation.sfreq" not in recipes_mod.resolve_settings(wang, "smoke")
    # without a BERT path, MiniLM runs: a listed deviation, and the board never shows the run as "paper"
    assert paper["method.*.text_encoder.layers"] == 6 and "method.*.text_encoder.layers" in wang.deviations
    for cls in (DistilClipEEGTeacher, DistilClipEEGStudent):
        source = cls.from_budget("paper").weights_source()
        assert "MiniLM-L6 instead of the paper's 12-layer 768-wide BERT" in source
        assert budget_label("paper", source) == (
            "paper budget, MiniLM-L6 instead of the paper's 12-layer 768-wide BERT (not the paper's setting)"
        )
        assert budget_label("smoke", source) == "smoke"


def test_item06_wang2025_with_a_local_12_layer_bert_is_the_papers_setting(tmp_path):
    import json

    from benchmark.weights import budget_label
    from methods.distilclip_eeg import DistilClipEEGTeacher, stated_settings

    bert = tmp_path / "bert-base"
    bert.mkdir()
    (bert / "config.json").write_text(
        json.dumps({"model_type": "bert", "num_hidden_layers": 12, "hidden_size": 768, "num_attention_heads": 12})
    )
    params = {**DistilClipEEGTeacher.meta.budgets["paper"], "text_encoder": str(bert)}
    settings = stated_settings(params, student=False)
    assert (settings["text_encoder.layers"], settings["text_encoder.hidden_size"]) == (12, 768)
    source = DistilClipEEGTeacher.from_budget("paper", {"text_encoder": str(bert)}).weights_source()
    assert "not the paper's setting" not in source and budget_label("paper", source) == "paper"
    # a BERT cut to 6 layers is not the paper's
    short = DistilClipEEGTeacher.from_budget("paper", {"text_encoder": str(bert), "text_layers": 6}).weights_source()
    assert budget_label("paper", short).startswith("paper budget, a 6-layer 768-wide BERT instead of")


def test_item06_cli_dry_run_prints_the_wang2025_grid(capsys):
    assert cli.main(["reproduce", "wang2025", "--dry-run", "--budget", "paper"]) == 0
    out = capsys.readouterr().out
    assert "6 run(s) on chbmit, helsinki, tusz" in out
    assert "--dataset tusz --task seizure-type --protocol kfold5-random-balanced" in out
    assert "--ictal-stride 0.25" in out and "--ictal-stride 0.5" in out


# -- issue 13 item 10: the video papers' recipes -----------------------------------------------------------
LI_METHODS = [
    "i3d_lstm",
    "r2plus1d_lstm",
    "perez_garcia",
    "pv_contrastive_timesformer_nopretrain",
    "pv_contrastive_timesformer_video_only",
    "pv_contrastive_timesformer_patient_only",
    "pv_contrastive_timesformer",
]


def test_item10_hou2024_and_li2024_dry_runs_print_their_grids_without_window_options(tmp_path, capsys):
    store = tmp_path / "r.sqlite"
    for name, methods, protocol, task_opts in (
        ("hou2024", ["video_ssl_transformer"], "loso", "--target label --classes PNES,ES"),
        ("li2024", LI_METHODS, "kfold5", "--target focus --classes TLE,exTLE"),
    ):
        assert cli.main(["--store", str(store), "reproduce", name, "--dataset", "video-synthetic", "--dry-run"]) == 0
        out = capsys.readouterr().out
        runs = [line for line in out.splitlines() if "seizure-bench run " in line]
        assert [line.split()[1] for line in runs] == methods
        for line in runs:
            assert f"--task classification --protocol {protocol} --budget smoke {task_opts}" in line
            assert "--window" not in line and "--stride" not in line  # the method's clip sets the window
    assert not store.exists()


def test_item10_paper_budget_without_weights_refuses_in_one_line_and_set_passes_them(tmp_path, capsys):
    store = tmp_path / "r.sqlite"
    rc = cli.main(["--store", str(store), "reproduce", "hou2024", "--dataset", "video-synthetic", "--budget", "paper"])
    err = capsys.readouterr().err.strip()
    assert rc != 0 and len(err.splitlines()) == 1
    assert "video_ssl_transformer needs ImageNet ResNet-152 weights" in err and "--set backbone_weights=" in err
    assert not store.exists()
    # Li's grid loads four kinds of checkpoint: each method missing one is named, in one line.
    rc = cli.main(
        [
            "--store",
            str(store),
            "reproduce",
            "li2024",
            "--dataset",
            "video-synthetic",
            "--budget",
            "paper",
            "--set",
            "pv_contrastive_timesformer:backbone_weights=random",
        ]
    )
    err = capsys.readouterr().err.strip()
    assert rc != 0 and len(err.splitlines()) == 1
    assert "i3d_lstm needs Kinetics-400 I3D weights" in err and "TimeSformer_divST_96x4_224_K400.pyth" in err
    assert "of pv_contrastive_timesformer needs" not in err and "--set METHOD:KEY=VALUE" in err
    # The dry run of the same grid prints the refusal as a note and the --set overrides in each command.
    assert (
        cli.main(
            [
                "--store",
                str(store),
                "reproduce",
                "hou2024",
                "--dataset",
                "video-synthetic",
                "--budget",
                "paper",
                "--set",
                "backbone_weights=random",
                "--dry-run",
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert '--set backbone_weights="random"' in out or "--set 'backbone_weights=\"random\"'" in out
    assert "would be refused" not in out
    assert not store.exists()


def test_item10_li2024_smoke_cell_printed_command_gives_the_cells_run_id(tmp_path):
    cell = RECIPES["li2024"].cells("video-synthetic", methods=["pv_contrastive_timesformer"], budget="smoke")[0]
    where = dict(splits_dir=tmp_path / "splits", cache_dir=tmp_path / "cache", store_path=tmp_path / "r.sqlite")
    args = cli.build_parser().parse_args(cell.run_command().split()[1:])
    typed = RunConfig(
        method=args.method,
        dataset=args.dataset,
        task=args.task,
        protocol=args.protocol,
        budget=args.budget,
        seed=args.seed,
        data_dir=args.data_dir,
        task_params=cli._task_params(args),
        window=cli._window(args),
        method_overrides=cli._overrides(args.set),
        **where,
    )
    assert typed.window is None and cell.window is None
    assert _run_id(cell.run_config(**where)) == _run_id(typed)


def test_item10_weights_rows_need_the_paper_budget_to_require_a_local_file():
    recipe = RECIPES["hou2024"]
    row = {
        "setting": "method.video_ssl_transformer.backbone_weights",
        "value": "imagenet-resnet152",
        "quote": "q",
        "section": "s",
    }
    assert check_setting(recipe, {row["setting"]: None}, row) is None
    assert "must leave it unset" in check_setting(recipe, {row["setting"]: "random"}, row)


def test_item10_paper_page_lays_out_every_method_of_li_table_i_and_hou_tables_2_3(tmp_path):
    store = ResultStore(tmp_path / "r.sqlite")
    import_bundled(store)
    index = build_report(store, tmp_path / "site")
    li = (index.parent / "papers" / "li2024.html").read_text(encoding="utf-8")
    table = li.split('id="grid-methods"')[1].split("</table>")[0]
    # Each method's row holds its own reported set (not another method's of the same table).
    for label, acc in (
        ("Karácsony et al. (I3D)", "0.796"),
        ("Pérez-García et al.", "0.771"),
        ("Ours - w/o pretraining", "0.825"),
        ("Ours - Video+patient", "0.930"),
    ):
        row = html.unescape(table).split(label)[1].split("</tr>")[0]
        assert acc in row, label
    assert "ablation-nopretrain" in li
    hou = (index.parent / "papers" / "hou2024.html").read_text(encoding="utf-8")
    row = html.unescape(hou.split('id="grid-methods"')[1].split("</table>")[0]).split("Ours (pre-trained")[1]
    assert "0.820" in row and "0.750" in row and "ES: 54 PNES, 181 ES" in row


def test_item10_a_reference_with_the_other_class_order_is_not_shown_beside_a_board():
    from types import SimpleNamespace

    from benchmark.report.leaderboard import _is_reference_for

    hou = SimpleNamespace(
        dataset="marseille-emu-video-private",
        task="classification",
        protocol="loso",
        task_params={"target": "label", "classes": ["PNES", "ES"]},
    )
    where = ("marseille-emu-video-private", "classification", "loso")
    assert _is_reference_for(hou, *where, {"target": "label", "classes": ["PNES", "ES"]})
    # ES negative: F1 and sensitivity are of the other class, so the paper's figures do not compare.
    assert not _is_reference_for(hou, *where, {"target": "label", "classes": ["ES", "PNES"]})


@pytest.mark.parametrize("name", ["lee2024", "wang2025", "hou2024", "li2024"])
def test_item10_every_recipe_dry_run_prints_its_grid_without_a_dataset(name, capsys, tmp_path):
    from benchmark import cli
    from benchmark.recipes import RECIPES

    assert cli.main(["--store", str(tmp_path / "r.sqlite"), "reproduce", name, "--dry-run", "--budget", "paper"]) == 0
    out = capsys.readouterr().out
    recipe = RECIPES[name]
    cells = recipe.cells(recipe.dry_run_dataset(), budget="paper")
    assert f"{len(cells)} run(s)" in out and len(cells) >= 1
    for cell in cells:  # every cell's own run command is printed
        assert cell.run_command() in out


# -- wang2025: the paper's columns per task ---------------------------------------------------------
def test_item01_wang2025_paper_page_shows_table_i_columns_per_task(tmp_path):
    from benchmark.report.papers import columns_of

    wang = RECIPES["wang2025"]
    headers = [h for _, h, _, _ in columns_of(wang)]
    assert "FPR" not in headers and "FPR" not in [h.split(" (")[0] for h in headers]
    assert {
        "Accuracy",
        "Precision",
        "Precision (weighted)",
        "Sensitivity",
        "Specificity",
        "F1",
        "F1 (weighted)",
        "AUC of hard pred. (macro)",
        "AUC of hard pred. (micro)",
    } <= set(headers)
    store = ResultStore(tmp_path / "r.sqlite")
    patients = [f"p{i}" for i in range(1, 6)]
    binary = {
        "accuracy": 0.91,
        "precision": 0.92,
        "sensitivity": 0.93,
        "specificity": 0.89,
        "f1": 0.925,
        "roc_auc_hard": 0.91,
    }
    multi = {
        "accuracy": 0.81,
        "precision_weighted": 0.82,
        "recall_macro": 0.71,
        "specificity_macro": 0.97,
        "f1_weighted": 0.815,
        "roc_auc_hard_macro": 0.84,
        "roc_auc_hard_micro": 0.89,
    }
    for row, values in (("chbmit", binary), ("tusz", multi)):
        for cell in wang.cells(row, rows=[row], budget="smoke"):
            cfg = cell.run_config()
            params = {
                **cfg.task_params,
                "window_s": cell.window.window_s,
                "stride_s": cell.window.stride_s,
                "ictal_stride_s": cell.window.ictal_stride_s,
            }
            run_id = f"{cell.method}-{row}"
            store.create_run(
                RunRecord(
                    run_id,
                    "run",
                    cell.method,
                    cell.dataset,
                    cell.task,
                    cell.protocol,
                    task_params=params,
                    status="complete",
                    budget="smoke",
                    created_at="2025-01-01",
                    seed=0,
                )
            )
            per_patient = pd.DataFrame(
                {m: [v] * 5 for m, v in values.items()}, index=pd.Index(patients, name="patient")
            )
            store.save_patient_metrics(run_id, per_patient)
            store.save_summary(run_id, summarize(per_patient, n_boot=20))
    index = build_report(store, tmp_path / "site")
    page = (index.parent / "papers" / "wang2025.html").read_text(encoding="utf-8")
    head = re.search(r'id="grid-distillation">(.*?)</thead>', page, re.S).group(1)
    assert "Precision (weighted)" in head and "AUC of hard pred. (micro)" in head and "FPR" not in head
    # Each row fills its own task's columns: CHB-MIT the binary ones, TUSZ the multi-class ones.
    chbmit = _rows(_tbody(page, "distillation", "Ours · chbmit · budget smoke"))["CHB-MIT"]
    tusz = _rows(_tbody(page, "distillation", "Ours · tusz · budget smoke"))["TUSZ"]
    assert "0.925" in chbmit and "0.930" in chbmit and "0.815" not in chbmit
    assert "0.815" in tusz and "0.890" in tusz and "0.925" not in tusz


def test_item02_wang2025_inferred_settings_say_so_and_the_leak_is_explained():
    from benchmark.recipes import load_settings_table

    wang = RECIPES["wang2025"]
    table = {r["setting"]: r for r in load_settings_table(wang)}
    assert "inferred from Table II" in table["protocol"]["section"]
    assert "constructed the training dataset" not in table["protocol"]["quote"]  # a training-set statement
    for name in ("method.*.normalisation", "method.*.representation.zscore"):
        assert "inferred" in table[name]["section"], name
    assert "strict separation between training and testing data" in wang.description
    assert "flags the protocol as leaky" in wang.description


def test_item03_wang2025_eeg_prompts_are_a_stated_setting_the_paper_budget_runs():
    from benchmark.recipes import load_settings_table

    wang = RECIPES["wang2025"]
    assert "method.*.eeg_prompts.in_conformer_layers" in {r["setting"] for r in load_settings_table(wang)}
    resolved = resolve_settings(wang, "paper")
    assert resolved["method.*.eeg_prompts.in_conformer_layers"] is True
    cell = wang.cells("chbmit", rows=["chbmit"], budget="paper")[0]
    no_prompts = replace(cell, overrides={**cell.overrides, "eeg_prompts": 0})
    assert recipes_mod.cell_settings(no_prompts)[f"method.{cell.method}.eeg_prompts.in_conformer_layers"] is False
