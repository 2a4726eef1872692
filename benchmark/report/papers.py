"""Paper-grid pages: a reproduction recipe's results laid out like the paper's summary tables.

For every comparison a recipe names (:class:`benchmark.recipes.PairedTable`, e.g. Lee et al.
2024, Tables 6-8: method A against method B for each SOP), a page shows one row per grid row
(:class:`benchmark.recipes.GridRow`: a SOP, an ablation, a dataset) with
the mean sensitivity, specificity, accuracy and FPR of A and of B over patients, the difference
B - A, and the paired t-test of B against A over the patients both share (the test the paper
reports). Row groups hold our runs (one group per dataset and budget) and, beside them, the same
numbers recomputed from the paper's per-patient tables imported as reported result sets, next to
the p-value the paper prints. A run fills a cell only when it has the cell's settings at its budget
(:meth:`benchmark.recipes.Recipe.cell_of`: task parameters, windows, overrides).

A recipe with a ``method_table`` (the video papers: Li et al.'s Table I, Hou et al.'s Tables 2-3)
also gets one table with a row per method of its grid (baselines and ablation variants), in the
recipe's metrics (video-level accuracy and F1 pooled over videos, as the papers print them) with the
video-level confusion matrix, for our runs and for the paper's reported sets side by side.

Like :mod:`benchmark.report.leaderboard`, this module builds plain data for the templates and
does no HTML.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from benchmark.errors import DataError
from benchmark.recipes import PAPER_METRICS, GridRow, PairedTable, Recipe, _agrees
from benchmark.report.leaderboard import Entry, Leaderboard
from benchmark.stats import paired_tests

# (metric, column header, scale, decimals): percentages and FPR as fractions, as the paper prints.
COLUMNS = (
    ("sensitivity", "Sensitivity (%)", 100.0, 2),
    ("specificity", "Specificity (%)", 100.0, 2),
    ("accuracy", "Accuracy (%)", 100.0, 2),
    ("fpr", "FPR", 1.0, 3),
)
# Run statuses in order of preference when several runs fill the same cell.
_STATUS_RANK = {"complete": 0, "partial": 1}


@dataclass
class Side:
    """One method's numbers in one row: a result set, the paper's printed averages, or nothing."""

    method: str
    entry: Entry | None = None
    means: dict[str, float] = field(default_factory=dict)
    source: str = ""  # e.g. "Table 2", "Table 8 (printed average)"
    printed: bool = False
    missing_reason: str = ""
    command: str = ""  # the command that would fill a missing cell

    @property
    def present(self) -> bool:
        return bool(self.means)


@dataclass
class Row:
    """One row of a paper-style table (one grid row, e.g. one SOP)."""

    value: str  # the grid row's key
    label: str
    a: Side
    b: Side
    delta: dict[str, float]
    test: dict[str, Any] | None  # paired_tests() of B against A on the table's metric
    printed_p: float | None = None
    boards: list[Leaderboard] = field(default_factory=list)

    @property
    def p_value(self) -> float:
        return float(self.test["p_value"]) if self.test else math.nan

    @property
    def testable(self) -> bool:
        """Whether the paired test gave a p-value (two sets, two shared patients, some difference)."""
        return not math.isnan(self.p_value)

    @property
    def p_matches_printed(self) -> bool | None:
        """Whether the recomputed p rounds to the printed one at the paper's three decimals."""
        if self.printed_p is None or not self.testable:
            return None
        return round(self.p_value, 3) == round(self.printed_p, 3)


@dataclass
class Group:
    """Rows from one source: our runs on a dataset with one budget, or the paper on one dataset."""

    kind: str  # "ours" | "paper"
    dataset: str
    title: str
    rows: list[Row]
    synthetic: bool = False
    budget: str = ""
    paper_table: str = ""  # for kind == "paper": the table printing this comparison

    @property
    def sources(self) -> list[str]:
        """Where the paper's numbers come from, e.g. ``["Table 2", "Table 3"]``."""
        seen: list[str] = []
        for row in self.rows:
            for side in (row.a, row.b):
                if side.source and side.source not in seen:
                    seen.append(side.source)
        return seen

    @property
    def p_check(self) -> str | None:
        """``"agree"`` when every recomputed p equals the printed one, ``"differ"`` if any does not."""
        verdicts = [r.p_matches_printed for r in self.rows if r.p_matches_printed is not None]
        if not verdicts:
            return None
        return "agree" if all(verdicts) else "differ"


@dataclass
class TableView:
    """One comparison of the recipe with its row groups."""

    table: PairedTable
    label_a: str
    label_b: str
    groups: list[Group]

    @property
    def paper_tables(self) -> str:
        names = list(dict.fromkeys(self.table.paper_tables.values()))
        return " and ".join(names)


@dataclass
class MethodRow:
    """One method of a method table: its pooled figures, or why there are none."""

    method: str
    label: str
    values: dict[str, float] = field(default_factory=dict)
    entry: Entry | None = None
    confusion: tuple[tuple[str, ...], tuple[tuple[int, ...], ...]] | None = None  # (classes, rows true x predicted)
    source: str = ""
    missing_reason: str = ""
    command: str = ""

    @property
    def present(self) -> bool:
        return bool(self.values)


@dataclass
class MethodGroup:
    """A method table's rows from one source: our runs on a dataset at a budget, or the paper."""

    kind: str  # "ours" | "paper"
    dataset: str
    title: str
    rows: list[MethodRow]
    synthetic: bool = False
    budget: str = ""
    paper_table: str = ""


@dataclass
class PaperPage:
    """Everything the ``paper.html`` template shows for one recipe."""

    recipe: Recipe
    page: str
    tables: list[TableView]
    our_groups: list[tuple[str, str, bool]]  # (dataset, budget, synthetic) with at least one run
    n_runs: int
    n_reported: int
    reported_missing: bool  # the recipe names reported sets but none is in the store
    method_groups: list[MethodGroup] = field(default_factory=list)

    @property
    def columns(self) -> tuple[tuple[str, str, float, int], ...]:
        """(metric, header, scale, decimals) of the recipe's metrics."""
        return columns_of(self.recipe)

    @property
    def any_synthetic(self) -> bool:
        return any(s for _, _, s in self.our_groups)


def columns_of(recipe: Recipe) -> tuple[tuple[str, str, float, int], ...]:
    """The table columns of a recipe: the EEG papers' percentages, else its metrics as fractions."""
    if tuple(recipe.metrics) == PAPER_METRICS:
        return COLUMNS
    from benchmark.report.build import METRIC_LABELS  # imported here: build imports this module

    return tuple((m, METRIC_LABELS.get(m, m.replace("_", " ")), 1.0, 3) for m in recipe.metrics)


def build_paper_pages(
    entries: Sequence[Entry],
    recipes: Iterable[Recipe],
    boards_of: Mapping[str, list[Leaderboard]] | None = None,
    bundled: list[dict[str, Any]] | None = None,
) -> list[PaperPage]:
    """One page per recipe that has at least one run or reported set of its grid in the store.

    Parameters
    ----------
    entries
        Every result set of the report (see :func:`benchmark.report.build.build_report`).
    recipes
        Recipes to lay out (normally every recipe in :data:`benchmark.recipes.RECIPES`).
    boards_of
        Run id -> leaderboards holding it, to link each row to its leaderboard.
    bundled
        Descriptions of the bundled reported sets (:func:`benchmark.reported.bundled_reported`);
        read from ``reports/reported/index.json`` when omitted.
    """
    if bundled is None:
        bundled = _bundled()
    by_id = {e.run.run_id: e for e in entries}
    pages = []
    for recipe in recipes:
        ours = _our_cells(recipe, entries)
        paper = _paper_cells(recipe, bundled, by_id)
        n_reported = sum(len(cells) for cells in paper.values())
        if not ours and not n_reported:
            continue
        tables = [_table_view(recipe, t, ours, paper, boards_of or {}) for t in recipe.tables]
        pages.append(
            PaperPage(
                recipe=recipe,
                page=f"papers/{recipe.name}.html",
                tables=tables,
                our_groups=[(d, b, s) for (d, b), (s, _) in sorted(ours.items())],
                n_runs=sum(len(cells) for _, cells in ours.values()),
                n_reported=n_reported,
                reported_missing=bool(recipe.reported_tables) and not n_reported,
                method_groups=_method_groups(recipe, ours, paper) if recipe.method_table else [],
            )
        )
    return pages


def _bundled() -> list[dict[str, Any]]:
    from benchmark.reported import bundled_reported

    try:
        return bundled_reported()
    except DataError:
        return []  # an installed copy without reports/reported/: the page shows our runs only


def _our_cells(recipe: Recipe, entries: Sequence[Entry]) -> dict[tuple[str, str], tuple[bool, dict]]:
    """(dataset, budget) -> (synthetic, {(method, row key): the preferred run of that cell})."""
    candidates: dict[tuple[str, str], dict[tuple[str, str], list[Entry]]] = {}
    for e in entries:
        run = e.run
        if run.kind != "run" or run.method not in recipe.methods or e.patient_metrics.empty:
            continue
        # One rule for "this run is that cell" (task, protocol, task parameters, windows of its
        # budget, overrides): runs with other settings answer another question.
        cell = recipe.cell_of(run)
        if cell is not None:
            candidates.setdefault((run.dataset, run.budget), {}).setdefault((run.method, cell.row), []).append(e)
    out = {}
    for key, cells in candidates.items():
        chosen = {cell: _preferred(runs) for cell, runs in cells.items()}
        out[key] = (any(e.run.synthetic for e in chosen.values()), chosen)
    return out


def _preferred(runs: list[Entry]) -> Entry:
    """The run shown for a cell: complete before partial, then the most recent (then by run id)."""
    newest = sorted(runs, key=lambda e: (e.run.created_at or "", e.run.run_id), reverse=True)
    return min(newest, key=lambda e: _STATUS_RANK.get(e.run.status, 2))  # min() keeps the first of ties


def _paper_cells(recipe: Recipe, bundled: list[dict[str, Any]], by_id: Mapping[str, Entry]) -> dict[str, dict]:
    """Paper dataset -> {(method, row): the stored reported set of that cell}."""
    from benchmark.reported import reported_run_id

    out: dict[str, dict[tuple[str, str], tuple[Entry, str]]] = {}
    for method, per_dataset in recipe.reported_tables.items():
        for dataset, table in per_dataset.items():
            for d in bundled:
                if d.get("dataset") != dataset or d.get("table") != table:
                    continue
                if d.get("benchmark_method") not in (None, method):
                    continue  # a table printing several methods: each set names its own
                if (d.get("task"), d.get("protocol")) != (recipe.task, recipe.protocol):
                    continue
                params = d.get("task_params") or {}
                row = next(
                    (
                        r.key
                        for r in recipe.rows
                        if (r.dataset in (None, dataset)) and _agrees(params, recipe.task_params(r.key, dataset))
                    ),
                    None,
                )
                if row is None:
                    continue
                run_id = reported_run_id(d["name"], dataset, d["task"], d["protocol"], params)
                if run_id in by_id:
                    label = d.get("table_label") or table
                    out.setdefault(dataset, {})[(method, row)] = (by_id[run_id], f"Table {label}")
    return out


def _means(entry: Entry, metrics: Sequence[str] = PAPER_METRICS) -> dict[str, float]:
    return {m: entry.stats[m].mean for m in metrics if m in entry.stats and _finite(entry.stats[m].mean)}


def _pooled(entry: Entry, metrics: Sequence[str]) -> dict[str, float]:
    """Video-level figures pooled over every video (what the video papers print): a run's stored
    record, else (a reported set of pooled figures) its values."""
    record = (entry.run.provenance or {}).get("video_level") or {}
    pooled = record.get("metrics") or {}
    values = {m: float(pooled[m]) for m in metrics if _finite(pooled.get(m))}
    return values or _means(entry, metrics)


def _confusion(entry: Entry):
    record = (entry.run.provenance or {}).get("video_level") or {}
    classes, matrix = record.get("classes"), record.get("confusion")
    if not classes or not matrix or len(matrix) != len(classes):
        return None
    return tuple(str(c) for c in classes), tuple(tuple(int(v) for v in r) for r in matrix)


def _ours_title(dataset: str, budget: str) -> str:
    return f"Ours · {dataset}" + (f" · budget {budget}" if budget else "")


def _not_reported(recipe: Recipe, method: str, dataset: str) -> dict[str, str]:
    """Why a paper row has no reported set: bundled but not imported yet (with the command), or
    not reported by the paper."""
    if dataset in recipe.reported_tables.get(method, {}):
        return {"missing_reason": "not imported", "command": "seizure-bench import-bundled"}
    return {"missing_reason": "not reported"}


def _method_groups(recipe: Recipe, ours, paper) -> list[MethodGroup]:
    """The method table: every method of the grid, for each of our (dataset, budget) groups and
    for each paper dataset with reported sets (first row of the grid)."""
    groups = []
    for (dataset, budget), (synthetic, cells) in sorted(ours.items()):
        row = next((r for r in recipe.rows if r.dataset in (None, recipe.real_dataset(dataset))), recipe.rows[0])
        rows = []
        for m in recipe.methods:
            e = cells.get((m, row.key))
            if e is None:
                rows.append(
                    MethodRow(
                        m,
                        recipe.label(m),
                        missing_reason="not run",
                        command=recipe.command(dataset, budget or None, [m], [row.key]),
                    )
                )
            else:
                rows.append(MethodRow(m, recipe.label(m), _pooled(e, recipe.metrics), e, _confusion(e)))
        groups.append(
            MethodGroup("ours", dataset, _ours_title(dataset, budget), rows, synthetic=synthetic, budget=budget)
        )
    for dataset, label in recipe.paper_datasets.items():
        cells = paper.get(dataset)
        if not cells:
            continue
        rows = []
        for m in recipe.methods:
            found = next((v for (mm, _), v in cells.items() if mm == m), None)
            if found is not None:
                rows.append(
                    MethodRow(
                        m,
                        recipe.label(m),
                        _pooled(found[0], recipe.metrics),
                        found[0],
                        _confusion(found[0]),
                        source=found[1],
                    )
                )
            else:
                rows.append(MethodRow(m, recipe.label(m), **_not_reported(recipe, m, dataset)))
        groups.append(
            MethodGroup("paper", dataset, f"Paper · {label}", rows, paper_table=recipe.method_table.get(dataset, ""))
        )
    return groups


def _finite(x) -> bool:
    return x is not None and not (isinstance(x, float) and math.isnan(x))


def _series(entry: Entry, metric: str) -> pd.Series:
    if metric not in entry.patient_metrics.columns:
        return pd.Series(dtype=float)
    return pd.to_numeric(entry.patient_metrics[metric], errors="coerce").dropna()


def _row(recipe: Recipe, table: PairedTable, row: GridRow, a: Side, b: Side, printed_p, boards) -> Row:
    delta = {m: b.means[m] - a.means[m] for m in recipe.metrics if m in a.means and m in b.means}
    test = None
    if a.entry is not None and b.entry is not None:
        test = paired_tests(_series(a.entry, table.test_metric), _series(b.entry, table.test_metric))
    return Row(row.key, row.label, a, b, delta, test, printed_p, boards)


def _table_view(recipe: Recipe, table: PairedTable, ours, paper, boards_of) -> TableView:
    groups = []
    for (dataset, budget), (synthetic, cells) in sorted(ours.items()):
        rows = []
        for r in recipe.rows:
            if r.dataset is not None and r.dataset != recipe.real_dataset(dataset):
                continue  # a row of another dataset
            sides = []
            for m in (table.method_a, table.method_b):
                e = cells.get((m, r.key))
                if e is not None:
                    sides.append(Side(m, e, _means(e, recipe.metrics)))
                elif r.methods is not None and m not in r.methods:
                    sides.append(Side(m, missing_reason="not in the paper's grid"))
                else:
                    sides.append(
                        Side(m, missing_reason="not run", command=recipe.command(dataset, budget or None, [m], [r.key]))
                    )
            boards = [b for s in sides if s.entry is not None for b in boards_of.get(s.entry.run.run_id, [])]
            rows.append(_row(recipe, table, r, *sides, None, _unique(boards)))
        groups.append(Group("ours", dataset, _ours_title(dataset, budget), rows, synthetic=synthetic, budget=budget))
    for dataset, label in recipe.paper_datasets.items():
        cells = paper.get(dataset)
        if not cells:
            continue
        rows = []
        for r in recipe.rows:
            if r.dataset is not None and r.dataset != dataset:
                continue
            sides = []
            for m in (table.method_a, table.method_b):
                found = cells.get((m, r.key))
                printed = recipe.printed_means.get(m, {}).get(dataset, {}).get(r.key)
                if found is not None:
                    sides.append(Side(m, found[0], _means(found[0], recipe.metrics), source=found[1]))
                elif printed:
                    source = table.paper_tables.get(dataset, "the paper")
                    sides.append(Side(m, means=dict(printed), source=f"{source} (printed average)", printed=True))
                else:
                    sides.append(Side(m, **_not_reported(recipe, m, dataset)))
            printed_p = table.printed_p.get(dataset, {}).get(r.key)
            rows.append(_row(recipe, table, r, *sides, printed_p, []))
        groups.append(
            Group("paper", dataset, f"Paper · {label}", rows, paper_table=table.paper_tables.get(dataset, ""))
        )
    return TableView(table, recipe.label(table.method_a), recipe.label(table.method_b), groups)


def _unique(boards: list[Leaderboard]) -> list[Leaderboard]:
    seen, out = set(), []
    for b in boards:
        if b.slug not in seen:
            seen.add(b.slug)
            out.append(b)
    return out
