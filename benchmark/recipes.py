"""Reproduction recipes: a paper's whole experimental grid as one command.

A :class:`Recipe` names the methods, task parameters and protocol a paper evaluated, the
comparisons its summary tables print (method A against method B, row by row, with a paired test),
and the per-patient tables of the paper that are bundled as reported result sets
(``reports/reported/``). ``seizure-bench reproduce <recipe> --dataset D`` turns the grid into one
:class:`~benchmark.runner.RunConfig` per cell and runs them one after the other; the report then
lays the results out like the paper's summary tables (``papers/<recipe>.html``).

Every cell is an ordinary run: its run id is the one ``seizure-bench run`` would give the same
settings, so a cell that is already stored is not trained again (the runner skips stored folds),
and an interrupted ``reproduce`` resumes where it stopped.

The only recipe so far is ``lee2024``: Lee et al. (2024), "A ResNet-LSTM hybrid model for
predicting epileptic seizures using a pretrained model with supervised contrastive learning",
Scientific Reports 14, doi:10.1038/s41598-023-43328-y -- 3 SOPs x {ResNet-LSTM, pre-trained
ResNet, pre-trained ResNet-LSTM} x leave-one-out, compared in its Tables 6-8.
"""

from __future__ import annotations

import logging
import shlex
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType
from typing import Any

from benchmark.errors import BenchmarkError, UnknownNameError, did_you_mean

log = logging.getLogger(__name__)

# Metrics of the paper-style tables, in the order the paper prints them.
PAPER_METRICS = ("sensitivity", "specificity", "accuracy", "fpr")


def _frozen(mapping: Mapping) -> Mapping:
    """Read-only view of a (nested) mapping, so recipes cannot be changed after definition."""
    return MappingProxyType({k: _frozen(v) if isinstance(v, Mapping) else v for k, v in mapping.items()})


def _num(value: float) -> str:
    return f"{float(value):g}"


@dataclass(frozen=True)
class PairedTable:
    """A comparison a paper prints: method A against method B on every row of the grid.

    Parameters
    ----------
    key
        Short identifier (used as an HTML anchor).
    title
        What the comparison shows, e.g. ``"Effect of pre-training"``.
    method_a, method_b
        Registry names of the two methods; differences and tests are ``B - A``.
    paper_tables
        Dataset name -> the paper's table that prints this comparison (e.g. ``"Table 6"``).
    printed_p
        Dataset name -> grid row -> the p-value the paper prints (empty when it prints none).
    test_metric
        Metric of the paired t-test over patients.
    """

    key: str
    title: str
    method_a: str
    method_b: str
    paper_tables: Mapping[str, str]
    printed_p: Mapping[str, Mapping[float, float]] = field(default_factory=dict)
    test_metric: str = "accuracy"

    def __post_init__(self) -> None:
        object.__setattr__(self, "paper_tables", _frozen(self.paper_tables))
        object.__setattr__(self, "printed_p", _frozen(self.printed_p))


@dataclass(frozen=True)
class GridCell:
    """One run of a recipe's grid: a method with one setting of the task parameters on a dataset."""

    recipe: str
    method: str
    dataset: str
    task: str
    protocol: str
    row: float
    row_label: str
    task_params: Mapping[str, float]
    window_s: float

    def __post_init__(self) -> None:
        object.__setattr__(self, "task_params", _frozen(self.task_params))

    @property
    def label(self) -> str:
        return f"{self.method} · {self.row_label}"

    def run_command(self, budget: str = "smoke", seed: int = 0, data_dir: Path | None = None) -> str:
        """The ``seizure-bench run`` command that produces exactly this cell (same run id)."""
        from benchmark.windows import DEFAULT_WINDOWS

        opts = {"sop_minutes": "--sop", "sph_minutes": "--sph", "interictal_gap_hours": "--interictal-gap"}
        args = ["seizure-bench", "run", "--method", self.method, "--dataset", self.dataset]
        if data_dir is not None:
            args += ["--data-dir", str(data_dir)]
        args += ["--task", self.task, "--protocol", self.protocol, "--budget", budget]
        if seed:
            args += ["--seed", str(seed)]
        for key, value in self.task_params.items():
            args += [opts[key], _num(value)]
        if self.window_s != DEFAULT_WINDOWS[self.task].window_s:
            args += ["--window", _num(self.window_s)]
        return shlex.join(args)

    def run_config(self, **execution: Any):
        """The :class:`~benchmark.runner.RunConfig` of this cell.

        Parameters
        ----------
        **execution
            ``budget``, ``seed``, ``data_dir`` and the execution-only fields of ``RunConfig``
            (``store_path``, ``splits_dir``, ``cache_dir``, ``jobs``, ``threads``, ``device``, ``progress``);
            ``None`` values keep the ``RunConfig`` defaults.
        """
        from benchmark.runner import RunConfig
        from benchmark.windows import WindowParams

        given = {k: v for k, v in execution.items() if v is not None}
        return RunConfig(
            method=self.method, dataset=self.dataset, task=self.task, protocol=self.protocol,
            task_params=dict(self.task_params), window=WindowParams(self.window_s, self.window_s), **given,
        )


@dataclass(frozen=True)
class Recipe:
    """A paper's experimental grid and the summary tables it prints.

    Parameters
    ----------
    name
        Registry name (``seizure-bench reproduce NAME``).
    title, citation, description, doi_url
        Shown on the report page.
    methods
        Registry names of the methods in the grid, in the paper's order.
    method_labels
        Method name -> the name the paper gives it.
    task, protocol
        Task and protocol of every cell.
    row_param, rows
        The task parameter that varies between the rows of the paper's tables, and its values.
    fixed_params
        Task parameters shared by every cell (as the paper states them).
    window_s
        Window length in seconds (non-overlapping windows).
    tables
        The comparisons the paper prints (:class:`PairedTable`).
    paper_datasets
        Dataset name -> label of each dataset the paper reports on.
    reported_tables
        Method -> dataset -> number of the paper's table bundled as per-patient reported result
        sets in ``reports/reported/`` (one CSV per row, see its ``index.json``).
    printed_means
        Method -> dataset -> row -> metric -> the average the paper prints (fractions), for
        results the paper gives only as averages.
    """

    name: str
    title: str
    citation: str
    description: str
    methods: tuple[str, ...]
    method_labels: Mapping[str, str]
    task: str
    protocol: str
    row_param: str
    rows: tuple[float, ...]
    fixed_params: Mapping[str, float]
    tables: tuple[PairedTable, ...]
    paper_datasets: Mapping[str, str]
    doi_url: str = ""
    window_s: float = 10.0
    reported_tables: Mapping[str, Mapping[str, int]] = field(default_factory=dict)
    printed_means: Mapping[str, Mapping[str, Mapping[float, Mapping[str, float]]]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name in ("method_labels", "fixed_params", "paper_datasets", "reported_tables", "printed_means"):
            object.__setattr__(self, name, _frozen(getattr(self, name)))
        for table in self.tables:
            unknown = {table.method_a, table.method_b} - set(self.methods)
            if unknown:
                raise ValueError(f"recipe {self.name}: table {table.key} uses methods {sorted(unknown)} not in its grid")

    # -- the grid ----------------------------------------------------------------------------
    def task_params(self, row: float) -> dict[str, float]:
        """Task parameters of one row of the grid."""
        return {self.row_param: row, **self.fixed_params}

    def row_label(self, row: float) -> str:
        """How the paper labels a row (``"SOP 10 min"``)."""
        if self.row_param == "sop_minutes":
            return f"SOP {_num(row)} min"
        return f"{self.row_param} {_num(row)}"

    def label(self, method: str) -> str:
        """The paper's name of a method of the grid."""
        return self.method_labels.get(method, method)

    def cells(
        self,
        dataset: str,
        methods: Sequence[str] | None = None,
        rows: Sequence[float] | None = None,
    ) -> list[GridCell]:
        """The grid on ``dataset``, rows outermost, so each row's comparisons complete early.

        Parameters
        ----------
        dataset
            Dataset name (any registered dataset).
        methods, rows
            Optional subsets of :attr:`methods` and :attr:`rows`.

        Raises
        ------
        UnknownNameError
            A method or row that is not part of the recipe's grid, or an unknown dataset.
        """
        from benchmark.datasets import DATASETS

        if dataset not in DATASETS:
            raise UnknownNameError(
                f"unknown dataset '{dataset}'.{did_you_mean(dataset, DATASETS)} Choose one of {', '.join(DATASETS)}."
            )
        chosen_methods = list(self.methods)
        if methods:
            bad = [m for m in methods if m not in self.methods]
            if bad:
                raise UnknownNameError(
                    f"method '{bad[0]}' is not in recipe '{self.name}'.{did_you_mean(bad[0], self.methods)} "
                    f"Its methods are {', '.join(self.methods)}."
                )
            chosen_methods = [m for m in self.methods if m in set(methods)]
        chosen_rows = list(self.rows)
        if rows:
            bad_rows = [r for r in rows if float(r) not in {float(x) for x in self.rows}]
            if bad_rows:
                shown = ", ".join(_num(r) for r in self.rows)
                raise BenchmarkError(
                    f"{self.row_label(bad_rows[0])} is not in recipe '{self.name}'; its grid has {shown}."
                )
            wanted = {float(r) for r in rows}
            chosen_rows = [r for r in self.rows if float(r) in wanted]
        return [
            GridCell(
                recipe=self.name, method=m, dataset=dataset, task=self.task, protocol=self.protocol, row=r,
                row_label=self.row_label(r), task_params=self.task_params(r), window_s=self.window_s,
            )
            for r in chosen_rows
            for m in chosen_methods
        ]

    def command(
        self,
        dataset: str,
        budget: str | None = None,
        methods: Sequence[str] | None = None,
        rows: Sequence[float] | None = None,
    ) -> str:
        """The ``seizure-bench reproduce`` command for (part of) the grid on ``dataset``.

        Rows are selected with ``--sop``, the row parameter of every recipe so far.
        """
        args = ["seizure-bench", "reproduce", self.name, "--dataset", dataset]
        if budget:
            args += ["--budget", budget]
        if methods:
            args += ["--methods", ",".join(methods)]
        if rows:
            args += ["--sop", *(_num(r) for r in rows)]
        return shlex.join(args)

    def substitute(self, names: Mapping[str, str]) -> "Recipe":
        """The same recipe with methods renamed (e.g. stand-ins in tests, or a variant of a method).

        Parameters
        ----------
        names
            Old method name -> new method name; methods not listed keep their name.
        """

        def new(m: str) -> str:
            return names.get(m, m)

        return replace(
            self,
            methods=tuple(new(m) for m in self.methods),
            method_labels={new(m): v for m, v in self.method_labels.items()},
            tables=tuple(replace(t, method_a=new(t.method_a), method_b=new(t.method_b)) for t in self.tables),
            reported_tables={new(m): v for m, v in self.reported_tables.items()},
            printed_means={new(m): v for m, v in self.printed_means.items()},
        )


# -- running ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class CellOutcome:
    """What happened to one cell: ``status`` is the run's (``complete``, ``partial``, ``failed``),
    or ``failed`` when the run could not start."""

    cell: GridCell
    status: str
    run_id: str | None = None
    error: str = ""
    seconds: float = 0.0
    synthetic: bool = False

    @property
    def ok(self) -> bool:
        return self.status == "complete"


def run_grid(cells: Iterable[GridCell], **execution: Any) -> Iterator[CellOutcome]:
    """Run cells one after the other, yielding each outcome as soon as its run ends.

    A cell whose run raises a :class:`~benchmark.errors.BenchmarkError` (a method that is not
    registered, a split without folds, missing data) is yielded as ``failed`` with the error's
    one-line message, and the next cell starts; any other exception is a bug and propagates.
    Cells already stored are resumed (or found finished) by the runner itself.

    Parameters
    ----------
    cells
        From :meth:`Recipe.cells`.
    **execution
        Passed to :meth:`GridCell.run_config` (``budget``, ``seed``, ``data_dir``, ``store_path``,
        ``splits_dir``, ``cache_dir``, ``jobs``, ``threads``, ``device``, ``progress``, ``fail_fast``).
    """
    from benchmark.runner import Runner

    for cell in cells:
        t0 = time.perf_counter()
        try:
            rec = Runner(cell.run_config(**execution)).run()
        except BenchmarkError as exc:
            log.error("%s on %s failed: %s", cell.label, cell.dataset, exc)
            yield CellOutcome(cell, "failed", error=str(exc), seconds=time.perf_counter() - t0)
            continue
        yield CellOutcome(cell, rec.status, rec.run_id, seconds=time.perf_counter() - t0, synthetic=rec.synthetic)


# -- the recipes -----------------------------------------------------------------------------
def _lee2024() -> Recipe:
    # Averages of "Pre-train + ResNet" (left half of Table 8), the one result the paper gives
    # without a per-patient table; percentages divided by 100, FPR as printed.
    supcon_means = {
        "chbmit": {
            10: {"sensitivity": 0.8894, "specificity": 0.9233, "accuracy": 0.9064, "fpr": 0.076},
            15: {"sensitivity": 0.8914, "specificity": 0.9392, "accuracy": 0.9153, "fpr": 0.06},
            30: {"sensitivity": 0.8108, "specificity": 0.9167, "accuracy": 0.8638, "fpr": 0.083},
        },
        "snuh": {
            10: {"sensitivity": 0.7384, "specificity": 0.8543, "accuracy": 0.7964, "fpr": 0.146},
            15: {"sensitivity": 0.7505, "specificity": 0.8522, "accuracy": 0.8014, "fpr": 0.148},
            30: {"sensitivity": 0.7553, "specificity": 0.8401, "accuracy": 0.7977, "fpr": 0.16},
        },
    }
    return Recipe(
        name="lee2024",
        title="ResNet-LSTM with supervised contrastive pre-training (Lee et al., 2024)",
        citation=(
            "Lee D, Kim B, Kim T, Joe I, Chong J, Min K, Jung K. \"A ResNet-LSTM hybrid model for predicting "
            "epileptic seizures using a pretrained model with supervised contrastive learning.\" "
            "Scientific Reports 14 (2024). doi:10.1038/s41598-023-43328-y"
        ),
        doi_url="https://doi.org/10.1038/s41598-023-43328-y",
        description=(
            "Patient-specific seizure prediction: pre-ictal (the SOP minutes before onset, no SPH) vs "
            "inter-ictal EEG (more than 3 h from any seizure), 10-s windows, leave-one-out over "
            "(pre-ictal, inter-ictal) pairs, for SOP 10, 15 and 30 min. The paper compares ResNet-LSTM "
            "without and with supervised contrastive pre-training (Tables 6 and 7, paired t-test over "
            "patients) and the pre-trained ResNet without and with the LSTM (Table 8)."
        ),
        methods=("resnet_lstm", "resnet_supcon", "resnet_lstm_supcon"),
        method_labels={
            "resnet_lstm": "ResNet-LSTM",
            "resnet_supcon": "Pre-train + ResNet",
            "resnet_lstm_supcon": "Pre-train + ResNet-LSTM",
        },
        task="prediction",
        protocol="loocv",
        row_param="sop_minutes",
        rows=(10, 15, 30),
        fixed_params={"sph_minutes": 0, "interictal_gap_hours": 3},
        window_s=10.0,
        tables=(
            PairedTable(
                key="pretraining",
                title="Effect of pre-training: ResNet-LSTM vs Pre-train + ResNet-LSTM",
                method_a="resnet_lstm",
                method_b="resnet_lstm_supcon",
                paper_tables={"chbmit": "Table 6", "snuh": "Table 7"},
                printed_p={"chbmit": {10: 0.009, 15: 0.024, 30: 0.002}, "snuh": {10: 0.044, 15: 0.001, 30: 0.000}},
            ),
            PairedTable(
                key="lstm",
                title="Effect of the LSTM: Pre-train + ResNet vs Pre-train + ResNet-LSTM",
                method_a="resnet_supcon",
                method_b="resnet_lstm_supcon",
                paper_tables={"chbmit": "Table 8", "snuh": "Table 8"},
            ),
        ),
        paper_datasets={"chbmit": "CHB-MIT", "snuh": "SNUH"},
        reported_tables={"resnet_lstm": {"chbmit": 2, "snuh": 4}, "resnet_lstm_supcon": {"chbmit": 3, "snuh": 5}},
        printed_means={"resnet_supcon": supcon_means},
    )


RECIPES: Mapping[str, Recipe] = MappingProxyType({r.name: r for r in (_lee2024(),)})


def get_recipe(name: str) -> Recipe:
    """The recipe called ``name``; an unknown name is a one-line :class:`UnknownNameError`."""
    try:
        return RECIPES[name]
    except KeyError:
        raise UnknownNameError(
            f"unknown recipe '{name}'.{did_you_mean(name, RECIPES)} Known recipes: {', '.join(RECIPES)}."
        ) from None
