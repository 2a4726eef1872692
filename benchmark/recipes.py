"""Reproduction recipes: a paper's whole experimental grid as one command.

A :class:`Recipe` names the methods, task, protocol, windows and hyper-parameter settings a paper
evaluated, the comparisons its summary tables print (method A against method B, row by row, with a
paired test), and the per-patient tables of the paper that are bundled as reported result sets
(``reports/reported/``). ``seizure-bench reproduce <recipe> [--dataset D] --budget B`` turns the grid
into one :class:`GridCell` (hence one :class:`~benchmark.runner.RunConfig`) per method and row and
runs them one after the other; the report then lays the results out like the paper's summary
tables (``papers/<recipe>.html``).

The settings of a cell are layered, later layers winning (each layer is a :class:`Settings`):

1. the recipe's own: ``task``, ``protocol``, ``fixed_params`` and the paper's windows
   (``window_s``, ``stride_s``, ``ictal_stride_s``);
2. ``dataset_settings[D]`` for the dataset the cell runs on (a synthetic dataset takes the
   settings of the real dataset it stands in for), e.g. another ictal stride per dataset;
3. the row's (:class:`GridRow`): a SOP, an ablation (``--set`` overrides of one method), a dataset;
4. ``budgets[B]`` for the budget: e.g. ``smoke`` keeps a coarser stride than the paper, and says
   why in its ``note`` (shown by ``--dry-run`` and on the report page).

Every cell is an ordinary run: its run id is the one ``seizure-bench run`` gives the command
:meth:`GridCell.run_command` prints (window options and ``--set`` overrides included), so a cell that
is already stored is not trained again, and an interrupted ``reproduce`` resumes where it stopped.

Each recipe has a checked-in table of what its paper states, ``reports/paper_settings/<recipe>.csv``
(``setting,value,quote,section``); :func:`resolve_settings` gives, for a budget, the value every
setting name takes in the runs the recipe would start, and :func:`check_setting` compares one row of
the table with it (``tests/test_paper_settings.py``). Setting names are dotted:

- ``task``, ``protocol``;
- ``task.<parameter>`` (the task's full parameter record, defaults included, e.g. ``task.sop_minutes``);
- ``window.window_s``, ``window.stride_s``, ``window.ictal_stride_s`` (``none`` when unset);
- ``method.<method>.<hyper-parameter>`` (the method's budget with the cell's overrides, from the
  registry), ``method.*.<hyper-parameter>`` (the same value for every method of the grid),
  ``method.<method>.representation`` and ``method.<method>.representation.<parameter>``;
- any name qualified by ``@<dataset>`` (cells on that dataset only) and/or ``#<row key>``
  (cells of that row only), e.g. ``window.ictal_stride_s@tusz``.

A name whose value differs between cells resolves to the tuple of its distinct values in grid
order; the table writes it ``10;15;30``. A stated value the harness cannot honour goes into
:attr:`Recipe.deviations` with the reason, and the test checks that it still differs.

``lee2024``: Lee et al. (2024), "A ResNet-LSTM hybrid model for
predicting epileptic seizures using a pretrained model with supervised contrastive learning",
Scientific Reports 14, doi:10.1038/s41598-023-43328-y -- 3 SOPs x {ResNet-LSTM, pre-trained
ResNet, pre-trained ResNet-LSTM} x leave-one-out, compared in its Tables 6-8.

``wang2025``: Wang et al. (2025), "DistilCLIP-EEG", IEEE JBHI, doi:10.1109/JBHI.2025.3603022 --
{teacher, student} x {CHB-MIT, Zenodo (detection), TUSZ (seizure types)} under the paper's
balance-then-random 5-fold evaluation, compared in its Table I.
"""

from __future__ import annotations

import csv
import json
import logging
import re
import shlex
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from types import MappingProxyType
from typing import Any

from benchmark.bibliography import doi_url, reference
from benchmark.errors import BenchmarkError, DataError, UnknownNameError, did_you_mean

log = logging.getLogger(__name__)

# Metrics of the paper-style tables, in the order the paper prints them.
PAPER_METRICS = ("sensitivity", "specificity", "accuracy", "fpr")
#: The checked-in tables of what each paper states (one CSV per recipe).
SETTINGS_DIR = Path(__file__).resolve().parent.parent / "reports" / "paper_settings"
SETTINGS_COLUMNS = ("setting", "value", "quote", "section")


# The CLI option of each task parameter a cell may set (`seizure-bench run` takes them all).
def _frozen(mapping: Mapping) -> Mapping:
    """Read-only view of a (nested) mapping, so recipes cannot be changed after definition."""
    return MappingProxyType({k: _frozen(v) if isinstance(v, Mapping) else v for k, v in mapping.items()})


def _num(value: float) -> str:
    return f"{float(value):g}"


def _as_cli_value(value: Any) -> Any:
    """A task parameter as ``seizure-bench run`` would record it: numbers as floats (argparse
    gives floats, and the run id hashes ``10`` and ``10.0`` differently), lists as lists."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, (list, tuple)):
        return [str(v) for v in value]
    return value


@dataclass(frozen=True)
class Settings:
    """One layer of a cell's settings (recipe, dataset, row or budget); unset fields change nothing.

    Parameters
    ----------
    task, protocol
        Replace the recipe's task or protocol (e.g. a row of seizure-type classification in a
        recipe of detection rows).
    task_params
        Task parameters, merged over the lower layers.
    window_s, stride_s, ictal_stride_s
        Window length, stride and the stride of the extra training windows inside seizures
        (seconds). A ``window_s`` without a ``stride_s`` keeps the lower layers' stride.
    overrides
        Method name -> ``{hyper-parameter: value}``: ``--set`` overrides of that method's budget
        in the cells of this layer (e.g. an ablation row); methods not named are untouched.
    note
        Why this layer departs from the paper (shown by ``--dry-run`` and on the report page).
    """

    task: str | None = None
    protocol: str | None = None
    task_params: Mapping[str, Any] = field(default_factory=dict)
    window_s: float | None = None
    stride_s: float | None = None
    ictal_stride_s: float | None = None
    overrides: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    note: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "task_params", _frozen(self.task_params))
        object.__setattr__(self, "overrides", _frozen(self.overrides))


@dataclass(frozen=True)
class GridRow:
    """One row of a paper's tables: what varies between the rows (SOP, ablation, dataset, ...).

    Parameters
    ----------
    key
        Short identifier: ``reproduce --rows KEY`` selects it, and ``printed_p`` /
        ``printed_means`` / report anchors are keyed by it (e.g. ``"sop10"``).
    label
        How the paper labels the row (``"SOP 10 min"``, ``"w/o pre-training"``, ``"TUSZ"``).
    settings
        What the row changes (:class:`Settings`).
    dataset
        For rows over datasets: the (real) dataset the row runs on; ``--dataset`` then selects
        rows (a synthetic dataset selects the rows of the dataset it stands in for). ``None``:
        the row runs on the ``--dataset`` given.
    methods
        The methods of the grid run on this row (default all).
    """

    key: str
    label: str
    settings: Settings = field(default_factory=Settings)
    dataset: str | None = None
    methods: tuple[str, ...] | None = None


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
        Dataset name -> row key -> the p-value the paper prints (empty when it prints none).
    test_metric
        Metric of the paired t-test over patients.
    """

    key: str
    title: str
    method_a: str
    method_b: str
    paper_tables: Mapping[str, str]
    printed_p: Mapping[str, Mapping[str, float]] = field(default_factory=dict)
    test_metric: str = "accuracy"

    def __post_init__(self) -> None:
        object.__setattr__(self, "paper_tables", _frozen(self.paper_tables))
        object.__setattr__(self, "printed_p", _frozen(self.printed_p))


def _window_text(window) -> str:
    if window is None:
        return "the method's own windows (for video, its clips: n_frames / fps seconds)"
    text = f"{_num(window.window_s)}-s windows every {_num(window.stride_s)} s"
    if window.ictal_stride_s is not None:
        text += f" (extra training windows inside seizures every {_num(window.ictal_stride_s)} s)"
    return text


@dataclass(frozen=True)
class GridCell:
    """One run of a recipe's grid: a method on one row, on a dataset, at a budget.

    ``task_params`` are those the recipe sets (numbers as floats, as the CLI gives them),
    ``window`` the :class:`~benchmark.windows.WindowParams`, ``overrides`` the method's ``--set``
    hyper-parameters, ``notes`` the budget's (and other layers') departures from the paper.
    """

    recipe: str
    method: str
    dataset: str
    budget: str
    task: str
    protocol: str
    row: str  # the row's key
    row_label: str
    task_params: Mapping[str, Any]
    window: Any  # benchmark.windows.WindowParams
    overrides: Mapping[str, Any] = field(default_factory=dict)
    notes: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "task_params", _frozen(self.task_params))
        object.__setattr__(self, "overrides", _frozen(self.overrides))

    @property
    def label(self) -> str:
        return f"{self.method} · {self.row_label}"

    @property
    def window_s(self) -> float | None:
        return None if self.window is None else self.window.window_s

    @property
    def window_text(self) -> str:
        """``"10-s windows every 1 s"``."""
        return _window_text(self.window)

    def _args(self, command: str, seed: int, data_dir: Path | None) -> list[str]:
        from benchmark.tasks import get_task
        from benchmark.windows import default_window

        task = get_task(self.task)
        flags = {o.param: o.flag for o in task.options}  # the task's own command-line options
        args = ["seizure-bench", command, "--method", self.method, "--dataset", self.dataset]
        if data_dir is not None:
            args += ["--data-dir", str(data_dir)]
        args += ["--task", self.task, "--protocol", self.protocol, "--budget", self.budget]
        if seed:
            args += ["--seed", str(seed)]
        for key, value in self.task_params.items():
            if value is None:
                continue
            if key not in flags:
                raise BenchmarkError(f"recipe {self.recipe}: task parameter '{key}' has no `seizure-bench run` option.")
            args += [
                flags[key],
                ",".join(value) if isinstance(value, list) else (value if isinstance(value, str) else _num(value)),
            ]
        default = default_window(self.task)
        # A video run's window is its method's clip (n_frames / fps), not the task's default: a
        # video cell passes --window only when it sets one, and a cell that leaves it unset never does.
        video = task.metadata.modality == "video"
        if self.window is not None and (
            video
            or (self.window.window_s, self.window.stride_s, self.window.ictal_stride_s)
            != (default.window_s, default.stride_s, default.ictal_stride_s)
        ):
            args += ["--window", _num(self.window.window_s), "--stride", _num(self.window.stride_s)]
            if self.window.ictal_stride_s is not None:
                args += ["--ictal-stride", _num(self.window.ictal_stride_s)]
        for key in sorted(self.overrides):
            args += ["--set", f"{key}={json.dumps(self.overrides[key])}"]
        return args

    def run_command(self, seed: int = 0, data_dir: Path | None = None) -> str:
        """The ``seizure-bench run`` command that produces exactly this cell (same run id)."""
        return shlex.join(self._args("run", seed, data_dir))

    def plan_command(self, seed: int = 0, data_dir: Path | None = None) -> str:
        """The ``seizure-bench plan`` command that sizes this cell (windows, cache, steps)."""
        return shlex.join(self._args("plan", seed, data_dir))

    def run_config(self, **execution: Any):
        """The :class:`~benchmark.runner.RunConfig` of this cell.

        Parameters
        ----------
        **execution
            ``seed``, ``data_dir`` and the execution-only fields of ``RunConfig`` (``store_path``,
            ``splits_dir``, ``cache_dir``, ``jobs``, ``threads``, ``device``, ``progress``, ...);
            ``None`` values keep the ``RunConfig`` defaults. A ``budget`` other than the cell's is
            refused: the cell's windows and overrides belong to its budget.
        """
        from benchmark.runner import RunConfig

        given = {k: v for k, v in execution.items() if v is not None}
        budget = given.pop("budget", self.budget)
        if budget != self.budget:
            raise BenchmarkError(
                f"cell {self.label} is of budget '{self.budget}', not '{budget}'; "
                f"build the cells with budget='{budget}'."
            )
        return RunConfig(
            method=self.method,
            dataset=self.dataset,
            task=self.task,
            protocol=self.protocol,
            budget=self.budget,
            task_params=dict(self.task_params),
            window=self.window,
            method_overrides=dict(self.overrides),
            **given,
        )

    def matches(self, run, checked_overrides: Iterable[str] = ()) -> bool:
        """Whether a stored run (:class:`~benchmark.store.RunRecord`) is this cell's experiment.

        Same method, dataset, budget, task, protocol, the task parameters the cell sets, the
        window (when the run records it; older records do not) and, for every hyper-parameter in
        ``checked_overrides`` (those the recipe's rows or budgets override for this method), the
        value the cell runs with: its override, else the budget's default.
        """
        if (run.method, run.dataset, run.budget, run.task, run.protocol) != (
            self.method,
            self.dataset,
            self.budget,
            self.task,
            self.protocol,
        ):
            return False
        params = run.task_params or {}
        if not _agrees(params, self.task_params):
            return False
        if "window_s" in params and self.window is not None:
            window = {
                "window_s": self.window.window_s,
                "stride_s": self.window.stride_s,
                "ictal_stride_s": self.window.ictal_stride_s,
            }
            if any(params.get(k) != v and not _same_number(params.get(k), v) for k, v in window.items()):
                return False
        config = run.method_config or {}
        for key in checked_overrides:
            if key in self.overrides:
                expected = self.overrides[key]
            else:
                default = _budget_params(self.method, self.budget)
                if default is None or key not in default:
                    continue
                expected = default[key]
            if not config:
                if key in self.overrides:
                    return False  # a record without its configuration cannot be this ablation
                continue
            if config.get(key) != expected and not _same_number(config.get(key), expected):
                return False
        return True


def _same_number(a: Any, b: Any) -> bool:
    numeric = (int, float)
    return (
        isinstance(a, numeric)
        and isinstance(b, numeric)
        and not isinstance(a, bool)
        and not isinstance(b, bool)
        and float(a) == float(b)
    )


def _agrees(task_params: Mapping[str, Any], wanted: Mapping[str, Any]) -> bool:
    for key, value in wanted.items():
        got = task_params.get(key)
        if isinstance(value, (list, tuple)):
            if not isinstance(got, (list, tuple)) or list(got) != list(value):
                return False
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            if not _same_number(got, value):
                return False
        elif got != value:
            return False
    return True


def _budget_params(method: str, budget: str) -> Mapping[str, Any] | None:
    """The registered method's hyper-parameters at ``budget`` (``None`` when not registered)."""
    from benchmark.adapters import REGISTRY

    if not REGISTRY.has(method):  # without importing every installed plug-in
        return None
    return REGISTRY.get(method).meta.budgets.get(budget)


@dataclass(frozen=True)
class Recipe:
    """A paper's experimental grid, its windows per budget, and the summary tables it prints.

    Parameters
    ----------
    name
        Registry name (``seizure-bench reproduce NAME``).
    title, citation, description, doi_url
        Shown on the report page; ``description`` says what the paper ran, in words.
    methods
        Registry names of the methods in the grid, in the paper's order.
    method_labels
        Method name -> the name the paper gives it.
    task, protocol
        Task and protocol of every cell (a row may change them, see :class:`Settings`).
    rows
        The rows of the paper's tables (:class:`GridRow`), in the paper's order.
    fixed_params
        Task parameters shared by every cell (as the paper states them).
    window_s, stride_s, ictal_stride_s
        The paper's windows: length, stride (``None``: non-overlapping) and the stride of extra
        training windows inside seizures, in seconds. ``window_s=None`` (with no stride in any
        layer) leaves the window to the run's defaults: for video methods, the method's clip of
        ``n_frames / fps`` seconds (set the clip in the method's budget).
    budgets
        Budget -> :class:`Settings` layered last over every cell of that budget, e.g. a coarser
        stride for ``smoke``, with its ``note``. A budget not listed runs the paper's settings.
    dataset_settings
        Real dataset name -> :class:`Settings` for the cells on it (or on a synthetic dataset
        standing in for it), e.g. a per-dataset ictal stride.
    row_header
        Header of the paper-table column that names the rows (``"SOP"``).
    tables
        The comparisons the paper prints (:class:`PairedTable`).
    paper_datasets
        Dataset name -> label of each dataset the paper reports on.
    reported_tables
        Method -> dataset -> number of the paper's table bundled as per-patient reported result
        sets in ``reports/reported/`` (one CSV per row, see its ``index.json``).
    printed_means
        Method -> dataset -> row key -> metric -> the average the paper prints (fractions), for
        results the paper gives only as averages.
    deviations
        Setting name (as in ``reports/paper_settings/<name>.csv``) -> why the ``paper`` budget
        cannot run the value the paper states on this harness. The settings test checks that each
        still differs, so a deviation that gets fixed must be removed.
    paper_text
        File name of the paper's text among the seed papers (``../shared/seeds/`` next to the
        repository), against which the quotes of the settings table are checked when present.
    metrics
        The metrics of the paper's tables, in the order it prints them (the report's columns), e.g.
        ``("video_accuracy", "video_f1")``.
    method_table
        Paper dataset -> the table printing every method of the grid side by side (e.g. Li et al.'s
        ``"Table I"``); the report then shows one row per method with the paper's pooled figures.
    """

    name: str
    title: str
    citation: str
    description: str
    methods: tuple[str, ...]
    method_labels: Mapping[str, str]
    task: str
    protocol: str
    rows: tuple[GridRow, ...]
    tables: tuple[PairedTable, ...]
    paper_datasets: Mapping[str, str]
    fixed_params: Mapping[str, Any] = field(default_factory=dict)
    window_s: float | None = 10.0
    stride_s: float | None = None
    ictal_stride_s: float | None = None
    budgets: Mapping[str, Settings] = field(default_factory=dict)
    dataset_settings: Mapping[str, Settings] = field(default_factory=dict)
    row_header: str = "Setting"
    doi_url: str = ""
    reported_tables: Mapping[str, Mapping[str, int]] = field(default_factory=dict)
    printed_means: Mapping[str, Mapping[str, Mapping[str, Mapping[str, float]]]] = field(default_factory=dict)
    deviations: Mapping[str, str] = field(default_factory=dict)
    paper_text: str = ""
    metrics: tuple[str, ...] = PAPER_METRICS
    method_table: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name in (
            "method_table",
            "method_labels",
            "fixed_params",
            "paper_datasets",
            "reported_tables",
            "printed_means",
            "budgets",
            "dataset_settings",
            "deviations",
        ):
            object.__setattr__(self, name, _frozen(getattr(self, name)))
        for table in self.tables:
            unknown = {table.method_a, table.method_b} - set(self.methods)
            if unknown:
                raise ValueError(
                    f"recipe {self.name}: table {table.key} uses methods {sorted(unknown)} not in its grid"
                )
        keys = [r.key for r in self.rows]
        if len(set(keys)) != len(keys) or not keys:
            raise ValueError(f"recipe {self.name}: rows need distinct keys, got {keys}")
        for row in self.rows:
            unknown = set(row.methods or ()) - set(self.methods)
            if unknown:
                raise ValueError(f"recipe {self.name}: row {row.key} names methods {sorted(unknown)} not in its grid")
        from benchmark.adapters import BUDGETS

        for budget in self.budgets:
            if budget not in BUDGETS:
                raise ValueError(f"recipe {self.name}: unknown budget '{budget}' (budgets: {', '.join(BUDGETS)})")

    # -- rows --------------------------------------------------------------------------------
    def row(self, key: str) -> GridRow:
        """The row with this key."""
        for row in self.rows:
            if row.key == key:
                return row
        raise BenchmarkError(
            f"row '{key}' is not in recipe '{self.name}'.{did_you_mean(str(key), [r.key for r in self.rows])} "
            f"Its rows are {', '.join(r.key for r in self.rows)}."
        )

    def row_label(self, key: str) -> str:
        """How the paper labels a row (``"SOP 10 min"``)."""
        return self.row(key).label

    def rows_with(self, name: str, values: Sequence[Any]) -> list[str]:
        """Keys of the rows whose task parameter ``name`` is one of ``values`` (``--sop 10 15``).

        Raises
        ------
        BenchmarkError
            A value no row has, or a recipe whose rows do not set ``name``.
        """
        have = {key: self.task_params(key).get(name) for key in (r.key for r in self.rows)}
        if all(v is None for v in have.values()):
            from benchmark.tasks import all_tasks

            option = next((o.flag for t in all_tasks() for o in t.options if o.param == name), name)
            raise BenchmarkError(
                f"the rows of recipe '{self.name}' do not vary {option}; choose rows with --rows ({', '.join(have)})."
            )
        keys = []
        for value in values:
            hits = [k for k, v in have.items() if _same_number(v, value) or v == value]
            if not hits:
                shown = ", ".join(
                    dict.fromkeys(
                        _num(v) if isinstance(v, (int, float)) else str(v) for v in have.values() if v is not None
                    )
                )
                what = "SOP" if name == "sop_minutes" else name
                raise BenchmarkError(
                    f"{what} {_num(value) if isinstance(value, (int, float)) else value} is not in recipe "
                    f"'{self.name}'; its grid has {shown}."
                )
            keys += [k for k in hits if k not in keys]
        return [r.key for r in self.rows if r.key in keys]

    def label(self, method: str) -> str:
        """The paper's name of a method of the grid."""
        return self.method_labels.get(method, method)

    # -- settings of a cell ---------------------------------------------------------------------
    def _layers(self, row: GridRow, dataset: str | None, budget: str) -> list[Settings]:
        base = Settings(
            task=self.task,
            protocol=self.protocol,
            task_params=self.fixed_params,
            window_s=self.window_s,
            stride_s=self.stride_s,
            ictal_stride_s=self.ictal_stride_s,
        )
        layers = [base]
        real = self.real_dataset(dataset) if dataset else row.dataset
        if real in self.dataset_settings:
            layers.append(self.dataset_settings[real])
        layers.append(row.settings)
        if budget in self.budgets:
            layers.append(self.budgets[budget])
        return layers

    def real_dataset(self, dataset: str) -> str:
        """The dataset whose settings a dataset takes: itself, or the real one a synthetic dataset
        stands in for (the first that the recipe's rows or dataset settings name)."""
        from benchmark.datasets import DATASETS

        spec = DATASETS.get(dataset)
        stands = getattr(spec, "stands_in_for", None)
        if not stands:
            return dataset
        stands = (stands,) if isinstance(stands, str) else tuple(stands)
        known = set(self.dataset_settings) | {r.dataset for r in self.rows if r.dataset} | set(self.paper_datasets)
        return next((s for s in stands if s in known), stands[0])

    def task_params(self, key: str, dataset: str | None = None, budget: str = "paper") -> dict[str, Any]:
        """Task parameters of one row (on ``dataset`` at ``budget``), numbers as floats."""
        row = self.row(key)
        merged: dict[str, Any] = {}
        for layer in self._layers(row, dataset, budget):
            merged.update(layer.task_params)
        return {k: _as_cli_value(v) for k, v in merged.items() if v is not None}

    def window(self, key: str | None = None, dataset: str | None = None, budget: str = "paper"):
        """The :class:`~benchmark.windows.WindowParams` of a row (default: the first) on a dataset at a budget."""
        from benchmark.windows import WindowParams

        row = self.row(key) if key else self.rows[0]
        window_s = stride_s = ictal = None
        for layer in self._layers(row, dataset, budget):
            if layer.window_s is not None:
                window_s = layer.window_s
            if layer.stride_s is not None:
                stride_s = layer.stride_s
            if layer.ictal_stride_s is not None:
                ictal = layer.ictal_stride_s
        if window_s is None:
            if stride_s is not None or ictal is not None:
                raise BenchmarkError(f"recipe {self.name}: a stride needs a window length (window_s).")
            return None  # the run's own: the task's default windows, or a video method's clip
        window_s = float(window_s)
        return WindowParams(
            window_s, float(stride_s) if stride_s is not None else window_s, None if ictal is None else float(ictal)
        )

    def window_text(self, budget: str = "paper", dataset: str | None = None, key: str | None = None) -> str:
        """``"10-s windows every 1 s"`` for a row (default: the first) on a dataset at a budget."""
        return _window_text(self.window(key, dataset, budget))

    def budget_note(self, budget: str) -> str:
        """Why ``budget`` departs from the paper ('' for the paper's own settings)."""
        layer = self.budgets.get(budget)
        return layer.note if layer is not None else ""

    def override_keys(self, method: str) -> set[str]:
        """Hyper-parameters of ``method`` that some row, dataset or budget of the recipe overrides."""
        layers = [r.settings for r in self.rows] + list(self.budgets.values()) + list(self.dataset_settings.values())
        return {k for layer in layers for k in layer.overrides.get(method, {})}

    # -- the grid ----------------------------------------------------------------------------
    def cells(
        self,
        dataset: str | None = None,
        methods: Sequence[str] | None = None,
        rows: Sequence[str] | None = None,
        budget: str = "paper",
    ) -> list[GridCell]:
        """The grid at ``budget``, rows outermost, so each row's comparisons complete early.

        Parameters
        ----------
        dataset
            Dataset name (any registered dataset) for the rows that do not name their own; for
            rows over datasets it selects the rows of that dataset (or of the one it stands in
            for). ``None`` runs each dataset row on its own dataset.
        methods, rows
            Optional subsets of :attr:`methods` and of the row keys.
        budget
            The methods' budget; also picks the recipe's windows for it (see :attr:`budgets`).

        Raises
        ------
        UnknownNameError
            A method that is not part of the recipe's grid, or an unknown dataset or budget.
        BenchmarkError
            An unknown row, no ``dataset`` where a row needs one, or no row for ``dataset``.
        """
        from benchmark.adapters import BUDGETS
        from benchmark.datasets import DATASETS

        if budget not in BUDGETS:
            raise UnknownNameError(
                f"unknown budget '{budget}'.{did_you_mean(budget, BUDGETS)} Choose one of {', '.join(BUDGETS)}."
            )
        if dataset is not None and dataset not in DATASETS:
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
            wanted = {self.row(str(k)).key for k in rows}
            chosen_rows = [r for r in self.rows if r.key in wanted]
        cells = []
        for row in chosen_rows:
            if row.dataset is None:
                if dataset is None:
                    raise BenchmarkError(
                        f"recipe '{self.name}' needs --dataset (e.g. "
                        f"{', '.join(self.paper_datasets) or 'chbmit'}) for row '{row.key}'."
                    )
                on = dataset
            elif dataset is None:
                on = row.dataset
            elif dataset == row.dataset or self.real_dataset(dataset) == row.dataset:
                on = dataset
            else:
                continue
            for m in chosen_methods:
                if row.methods is not None and m not in row.methods:
                    continue
                cells.append(self._cell(row, m, on, budget))
        if not cells and chosen_rows and chosen_methods:
            pinned = sorted({r.dataset for r in chosen_rows if r.dataset})
            raise BenchmarkError(
                f"no row of recipe '{self.name}' runs on '{dataset}'; its rows are on {', '.join(pinned)}."
            )
        return cells

    @property
    def lee_metrics(self) -> bool:
        """Whether the recipe's columns are the window-level sensitivity, specificity, accuracy and
        FPR of the ResNet-LSTM paper's tables (the report words them so)."""
        return tuple(self.metrics) == PAPER_METRICS

    def dry_run_dataset(self) -> str | None:
        """The dataset a grid is shown on when none is given: the first of the paper's datasets the
        suite has a loader for, or ``None`` when every row names its own."""
        from benchmark.datasets import DATASETS

        if all(r.dataset is not None for r in self.rows):
            return None
        return next((d for d in self.paper_datasets if d in DATASETS), None)

    def _cell(self, row: GridRow, method: str, dataset: str, budget: str) -> GridCell:
        layers = self._layers(row, dataset, budget)
        task = next(layer.task for layer in reversed(layers) if layer.task)
        protocol = next(layer.protocol for layer in reversed(layers) if layer.protocol)
        overrides: dict[str, Any] = {}
        for layer in layers:
            overrides.update(layer.overrides.get(method, {}))
        notes = tuple(layer.note for layer in layers if layer.note)
        return GridCell(
            recipe=self.name,
            method=method,
            dataset=dataset,
            budget=budget,
            task=task,
            protocol=protocol,
            row=row.key,
            row_label=row.label,
            task_params=self.task_params(row.key, dataset, budget),
            window=self.window(row.key, dataset, budget),
            overrides=overrides,
            notes=notes,
        )

    def cell_of(self, run) -> GridCell | None:
        """The cell of the grid a stored run is (same settings), or ``None``."""
        try:
            cells = self.cells(run.dataset, methods=[run.method], budget=run.budget)
        except BenchmarkError:
            return None
        keys = self.override_keys(run.method)
        return next((c for c in cells if c.matches(run, keys)), None)

    @property
    def example_dataset(self) -> str | None:
        """The first dataset of the paper that the suite can load (for example commands)."""
        from benchmark.datasets import DATASETS

        return next((d for d in self.paper_datasets if d in DATASETS), None)

    @property
    def synthetic_dataset(self) -> str | None:
        """A synthetic dataset standing in for one of the paper's (for a quick end-to-end check)."""
        from benchmark.datasets import DATASETS

        for spec in DATASETS.values():
            stands = spec.stands_in_for
            stands = (stands,) if isinstance(stands, str) else tuple(stands or ())
            if spec.synthetic and any(s in self.paper_datasets for s in stands):
                return spec.name
        return None

    def command(
        self,
        dataset: str | None,
        budget: str | None = None,
        methods: Sequence[str] | None = None,
        rows: Sequence[str] | None = None,
    ) -> str:
        """The ``seizure-bench reproduce`` command for (part of) the grid on ``dataset``."""
        args = ["seizure-bench", "reproduce", self.name]
        if dataset:
            args += ["--dataset", dataset]
        if budget:
            args += ["--budget", budget]
        if methods:
            args += ["--methods", ",".join(methods)]
        if rows:
            args += ["--rows", *rows]
        return shlex.join(args)

    def substitute(self, names: Mapping[str, str]) -> Recipe:
        """The same recipe with methods renamed (e.g. stand-ins in tests, or a variant of a method).

        Parameters
        ----------
        names
            Old method name -> new method name; methods not listed keep their name.
        """

        def new(m: str) -> str:
            return names.get(m, m)

        def layer(s: Settings) -> Settings:
            return replace(s, overrides={new(m): v for m, v in s.overrides.items()})

        return replace(
            self,
            methods=tuple(new(m) for m in self.methods),
            method_labels={new(m): v for m, v in self.method_labels.items()},
            rows=tuple(
                replace(
                    r,
                    settings=layer(r.settings),
                    methods=None if r.methods is None else tuple(new(m) for m in r.methods),
                )
                for r in self.rows
            ),
            budgets={b: layer(s) for b, s in self.budgets.items()},
            dataset_settings={d: layer(s) for d, s in self.dataset_settings.items()},
            tables=tuple(replace(t, method_a=new(t.method_a), method_b=new(t.method_b)) for t in self.tables),
            reported_tables={new(m): v for m, v in self.reported_tables.items()},
            printed_means={new(m): v for m, v in self.printed_means.items()},
        )


# -- what the recipe runs, setting by setting ------------------------------------------------------
def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return tuple(_plain(v) for v in value)
    if isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    return value


def cell_settings(cell: GridCell) -> dict[str, Any]:
    """Every setting name (unqualified) of one cell -> the value its run would use.

    Task parameters are the task's full record (the method's task defaults and the task's own
    defaults included), method hyper-parameters the registered method's budget with the cell's
    overrides. Raises :class:`~benchmark.errors.UnknownNameError` for a method that is not registered.
    """
    from benchmark import features
    from benchmark.runner import Runner

    # The runner's own reading of the cell (task defaults, a video method's clip window, ...).
    runner = Runner(cell.run_config(device="cpu"))
    meta = runner.method_cls.meta
    out: dict[str, Any] = {"task": cell.task, "protocol": cell.protocol}
    out.update({f"task.{k}": _plain(v) for k, v in asdict(runner.params).items()})
    out.update({f"window.{k}": _plain(v) for k, v in asdict(runner.window).items()})
    config = {**meta.budgets[cell.budget], **cell.overrides}
    out.update({f"method.{cell.method}.{k}": _plain(v) for k, v in config.items()})
    stated = getattr(runner.method_cls, "stated_settings", None)  # settings that are not hyper-parameters
    if callable(stated):
        out.update({f"method.{cell.method}.{k}": _plain(v) for k, v in stated(config).items()})
    out[f"method.{cell.method}.representation"] = meta.representation
    if hasattr(meta, "representation_params_for"):
        rep = dict(meta.representation_params_for(cell.budget))
    else:
        rep = {**meta.representation_params, **meta.budget_representation_params.get(cell.budget, {})}
    try:
        rep = features.resolve_params(meta.representation, rep)
    except (BenchmarkError, KeyError, ValueError):
        pass  # e.g. video clips: their parameters are checked where clips are cut
    out.update({f"method.{cell.method}.representation.{k}": _plain(v) for k, v in rep.items()})
    return out


def _grid_for_settings(recipe: Recipe, budget: str) -> list[GridCell]:
    """Every cell of the recipe at ``budget``: rows over datasets on their own dataset, the
    other rows on each of the paper's datasets the suite can load."""
    from benchmark.datasets import DATASETS

    cells = []
    if any(r.dataset for r in recipe.rows):
        cells += recipe.cells(None, rows=[r.key for r in recipe.rows if r.dataset], budget=budget)
    free = [r.key for r in recipe.rows if not r.dataset]
    if free:
        datasets = [d for d in recipe.paper_datasets if d in DATASETS and not DATASETS[d].synthetic]
        if not datasets:
            raise BenchmarkError(f"recipe '{recipe.name}' names no dataset the suite can load in paper_datasets.")
        for d in datasets:
            cells += recipe.cells(d, rows=free, budget=budget)
    return cells


def resolve_settings(recipe: Recipe, budget: str = "paper") -> dict[str, Any]:
    """Setting name -> the value the recipe's runs at ``budget`` would use (see the module notes).

    A name with one value in every cell it applies to maps to that value; otherwise to the tuple
    of its distinct values in grid order.
    """
    seen: dict[str, list[Any]] = {}
    per_method: dict[tuple[str, str], dict[str, list[Any]]] = {}  # (name, qualifier) -> method -> values

    def add(name: str, value: Any) -> None:
        values = seen.setdefault(name, [])
        if value not in values:
            values.append(value)

    for cell in _grid_for_settings(recipe, budget):
        real = recipe.real_dataset(cell.dataset)
        qualifiers = ("", f"@{real}", f"#{cell.row}", f"@{real}#{cell.row}")
        for name, value in cell_settings(cell).items():
            for qualifier in qualifiers:
                add(f"{name}{qualifier}", value)
            prefix = f"method.{cell.method}."
            if name.startswith(prefix):
                for qualifier in qualifiers:
                    per_method.setdefault((name[len(prefix) :], qualifier), {}).setdefault(cell.method, []).append(
                        value
                    )
    methods = set(recipe.methods)
    for (key, qualifier), by_method in per_method.items():
        if set(by_method) == methods:  # `method.*.k` only where every method of the grid has k
            for values in by_method.values():
                for value in values:
                    add(f"method.*.{key}{qualifier}", value)
    return {k: v[0] if len(v) == 1 else tuple(v) for k, v in seen.items()}


def parse_setting_value(text: str) -> Any:
    """A value of a settings table: ``true``/``false``, ``none``, numbers (as floats), text; several
    values separated by ``;`` give a tuple."""

    def one(item: str) -> Any:
        item = item.strip()
        low = item.lower()
        if low in ("true", "false"):
            return low == "true"
        if low == "none":
            return None
        try:
            return float(item)
        except ValueError:
            return item

    parts = text.split(";")
    return one(parts[0]) if len(parts) == 1 else tuple(one(p) for p in parts)


def _shown(value: Any) -> str:
    if isinstance(value, tuple):
        return ";".join(_shown(v) for v in value)
    if isinstance(value, bool):
        return str(value).lower()
    if value is None:
        return "none"
    if isinstance(value, float):
        return _num(value)
    return str(value)


def same_setting(stated: Any, resolved: Any) -> bool:
    """Whether a stated value (parsed from the table) is the resolved one; several values are
    compared as sets (the table lists them in the paper's order, the grid in its own)."""
    if isinstance(stated, tuple) or isinstance(resolved, tuple):
        a = stated if isinstance(stated, tuple) else (stated,)
        b = resolved if isinstance(resolved, tuple) else (resolved,)
        return len(a) == len(b) and all(any(same_setting(x, y) for y in b) for x in a)
    if isinstance(stated, bool) or isinstance(resolved, bool):
        return stated is resolved
    if isinstance(stated, (int, float)) and isinstance(resolved, (int, float)):
        return float(stated) == float(resolved)
    return stated == resolved


def load_settings_table(recipe: Recipe, directory: Path | None = None) -> list[dict[str, str]]:
    """The rows of ``reports/paper_settings/<recipe>.csv``; a missing or malformed table is a
    one-line :class:`~benchmark.errors.DataError`."""
    path = (directory or SETTINGS_DIR) / f"{recipe.name}.csv"
    if not path.is_file():
        raise DataError(
            f"recipe '{recipe.name}' has no settings table {path.name} in {path.parent}; write one "
            f"(columns {','.join(SETTINGS_COLUMNS)})."
        )
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        if tuple(reader.fieldnames or ()) != SETTINGS_COLUMNS:
            raise DataError(
                f"{path.name}: columns must be {','.join(SETTINGS_COLUMNS)}, got {','.join(reader.fieldnames or ())}."
            )
        rows = [dict(r) for r in reader]
    for i, row in enumerate(rows, start=2):
        empty = [c for c in SETTINGS_COLUMNS if not (row.get(c) or "").strip()]
        if empty:
            raise DataError(f"{path.name} line {i}: empty {', '.join(empty)}.")
    names = [r["setting"] for r in rows]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise DataError(f"{path.name}: setting(s) {', '.join(repeated)} listed more than once.")
    return rows


def paper_text(recipe: Recipe) -> str | None:
    """The paper's text from the seed papers next to the repository (``../shared/seeds/``), or
    ``None`` when the recipe names none or it is not there."""
    if not recipe.paper_text:
        return None
    path = SETTINGS_DIR.parent.parent.parent / "shared" / "seeds" / recipe.paper_text
    return path.read_text(encoding="utf-8") if path.is_file() else None


def quote_in_text(quote: str, text: str) -> bool:
    """Whether ``quote`` occurs in ``text`` up to line breaks, runs of spaces and words hyphenated
    across lines (as text extracted from a PDF has them)."""

    def norm(t: str) -> str:
        return re.sub(r"\s+", " ", re.sub(r"-[ \t]*\n\s*", "-", t)).strip()

    return norm(quote) in norm(text)


def is_weights_setting(name: str) -> bool:
    """Whether a setting name is a pretrained-weights setting (``method.<m>.backbone_weights``): its
    row in a settings table names the checkpoint the paper loads, and the check is that the budget
    requires a local file of that kind (see :func:`check_setting`)."""
    return name.split("@")[0].split("#")[0].endswith("_weights")


def check_setting(
    recipe: Recipe, resolved: Mapping[str, Any], row: Mapping[str, str], budget: str = "paper"
) -> str | None:
    """What is wrong with one row of a paper's settings table, or ``None``.

    Wrong: a setting the recipe does not resolve, unless it is a listed deviation (a setting this
    harness does not have, e.g. of a dataset without a loader); a resolved value other than the
    stated one that is not a listed deviation; a listed deviation whose value now equals the stated one, or has no
    reason.
    """
    name, where = row["setting"], f'{row["section"]}: "{row["quote"]}"'
    if is_weights_setting(name) and name in resolved:
        # The table names the checkpoint the paper loads (a label, not a path): what the recipe
        # must honour is that its budget needs such a local file, i.e. leaves the setting unset
        # (None), which the method refuses to run without (benchmark.weights.weights_file).
        if resolved[name] is None:
            return None
        return (
            f"{recipe.name} (budget {budget}): {name} is {_shown(resolved[name])} but the paper loads "
            f"{row['value']} ({where}); the '{budget}' budget must leave it unset so that a run needs a local file"
        )
    if name not in resolved and (recipe.deviations.get(name) or "").strip():
        return None  # not a setting of this harness (e.g. a dataset without a loader): its reason says so
    if name not in resolved:
        return (
            f"{recipe.name}: '{name}' is not a setting the recipe resolves.{did_you_mean(name, resolved)} "
            f"(stated in {where})"
        )
    stated = parse_setting_value(row["value"])
    value = resolved[name]
    reason = recipe.deviations.get(name)
    if same_setting(stated, value):
        if reason is not None:
            return f"{recipe.name}: {name} is now {_shown(value)} as the paper states; remove it from Recipe.deviations"
        return None
    if reason is None:
        return (
            f"{recipe.name} (budget {budget}): {name} is {_shown(value)} but the paper states {row['value']} "
            f"({where}); make the recipe or the method's '{budget}' budget use it, or list it in "
            f"Recipe.deviations with the reason"
        )
    if not reason.strip():
        return f"{recipe.name}: the deviation of {name} gives no reason"
    return None


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
        From :meth:`Recipe.cells` (each holds its budget).
    **execution
        Passed to :meth:`GridCell.run_config` (``seed``, ``data_dir``, ``store_path``,
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


def with_overrides(cells: Sequence[GridCell], items: Mapping[str, Any]) -> list[GridCell]:
    """The cells with ``reproduce --set`` overrides added (over the recipe's own).

    ``KEY`` applies to every cell whose method's budget has that hyper-parameter (e.g. one
    ``backbone_weights`` for a one-method grid); ``METHOD:KEY`` to the cells of that method only
    (a grid whose methods load different checkpoints). A key no method of the cells has, or a
    method not in them, is a one-line :class:`~benchmark.errors.BenchmarkError`.
    """
    cells = list(cells)
    if not items or not cells:
        return cells
    methods = list(dict.fromkeys(c.method for c in cells))
    per_method: dict[str, dict[str, Any]] = {m: {} for m in methods}
    for item, value in items.items():
        method, _, key = item.rpartition(":")
        if method:
            if method not in per_method:
                raise BenchmarkError(
                    f"--set {item}: '{method}' is not a method of these runs."
                    f"{did_you_mean(method, methods)} Their methods: {', '.join(methods)}."
                )
            per_method[method][key] = value
            continue
        having = [m for m in methods if key in (_budget_params(m, cells[0].budget) or {})]
        if not having:
            raise BenchmarkError(
                f"--set {item}: no method of these runs ({', '.join(methods)}) has a hyper-parameter '{key}'."
            )
        for m in having:
            per_method[m][key] = value
    return [replace(c, overrides={**c.overrides, **per_method[c.method]}) if per_method[c.method] else c for c in cells]


def missing_weights(cells: Iterable[GridCell]) -> str | None:
    """One line saying which pretrained weights the cells lack, or ``None`` when none is missing.

    Each method is built from its budget with the cell's overrides, as the runner does before
    reading any data, so the rule is the method's own (:func:`benchmark.weights.weights_file`).
    """
    from benchmark.runner import Runner
    from benchmark.weights import MissingWeightsError

    cells = list(cells)
    problems: dict[str, str] = {}
    for cell in cells:
        if cell.method in problems:
            continue
        try:
            Runner(cell.run_config(device="cpu")).method_cls.from_budget(cell.budget, dict(cell.overrides))
        except MissingWeightsError as exc:
            problems[cell.method] = str(exc).rstrip(".")
    if not problems:
        return None
    several = len({c.method for c in cells}) > 1
    tail = " (in reproduce, --set METHOD:KEY=VALUE sets it for one method of the grid)" if several else ""
    return "; ".join(problems.values()) + tail + "."


# -- the recipes -----------------------------------------------------------------------------
def _lee2024() -> Recipe:
    # Averages of "Pre-train + ResNet" (left half of Table 8), the one result the paper gives
    # without a per-patient table; percentages divided by 100, FPR as printed.
    supcon_means = {
        "chbmit": {
            "sop10": {"sensitivity": 0.8894, "specificity": 0.9233, "accuracy": 0.9064, "fpr": 0.076},
            "sop15": {"sensitivity": 0.8914, "specificity": 0.9392, "accuracy": 0.9153, "fpr": 0.06},
            "sop30": {"sensitivity": 0.8108, "specificity": 0.9167, "accuracy": 0.8638, "fpr": 0.083},
        },
        "snuh": {
            "sop10": {"sensitivity": 0.7384, "specificity": 0.8543, "accuracy": 0.7964, "fpr": 0.146},
            "sop15": {"sensitivity": 0.7505, "specificity": 0.8522, "accuracy": 0.8014, "fpr": 0.148},
            "sop30": {"sensitivity": 0.7553, "specificity": 0.8401, "accuracy": 0.7977, "fpr": 0.16},
        },
    }
    return Recipe(
        name="lee2024",
        title="ResNet-LSTM with supervised contrastive pre-training (Lee et al., 2024)",
        citation=reference("lee2024"),
        doi_url=doi_url("lee2024"),
        description=(
            "Patient-specific seizure prediction: pre-ictal (the SOP minutes before onset, no SPH) vs "
            "inter-ictal EEG (more than 3 h from any seizure), 10-s windows every 1 s, leave-one-out over "
            "(pre-ictal, inter-ictal) pairs, for SOP 10, 15 and 30 min. The paper compares ResNet-LSTM "
            "without and with supervised contrastive pre-training (Tables 6 and 7, paired t-test over "
            "patients) and the pre-trained ResNet without and with the LSTM (Table 8). The smoke budget "
            "keeps non-overlapping windows (every 10 s) so that a run takes minutes on CPU."
        ),
        methods=("resnet_lstm", "resnet_supcon", "resnet_lstm_supcon"),
        method_labels={
            "resnet_lstm": "ResNet-LSTM",
            "resnet_supcon": "Pre-train + ResNet",
            "resnet_lstm_supcon": "Pre-train + ResNet-LSTM",
        },
        task="prediction",
        protocol="loocv",
        rows=tuple(GridRow(f"sop{s}", f"SOP {s} min", Settings(task_params={"sop_minutes": s})) for s in (10, 15, 30)),
        row_header="SOP",
        fixed_params={"sph_minutes": 0, "interictal_gap_hours": 3},
        # "the window size was set to 10 s, and the sliding window algorithm was applied every 1s"
        window_s=10.0,
        stride_s=1.0,
        budgets={
            "smoke": Settings(
                stride_s=10.0,
                note=(
                    "non-overlapping windows, coarser than the paper's 1-s stride (which gives 10 times as many "
                    "windows), so that a run takes minutes on CPU"
                ),
            ),
        },
        tables=(
            PairedTable(
                key="pretraining",
                title="Effect of pre-training: ResNet-LSTM vs Pre-train + ResNet-LSTM",
                method_a="resnet_lstm",
                method_b="resnet_lstm_supcon",
                paper_tables={"chbmit": "Table 6", "snuh": "Table 7"},
                printed_p={
                    "chbmit": {"sop10": 0.009, "sop15": 0.024, "sop30": 0.002},
                    "snuh": {"sop10": 0.044, "sop15": 0.001, "sop30": 0.000},
                },
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
        paper_text="resnet_lstm_supcon.txt",
    )


#: Wang et al.'s columns: detection (binary) names, then the seven-type task's, per paper column.
WANG2025_METRICS = (
    "accuracy",
    "precision",
    "precision_weighted",
    "sensitivity",
    "recall_macro",
    "specificity",
    "specificity_macro",
    "f1",
    "f1_weighted",
    "roc_auc_hard",
    "roc_auc_hard_macro",
    "roc_auc_hard_micro",
)


def _wang2025() -> Recipe:
    # The seven TUSZ seizure types the paper classifies (MYSZ left out for its rarity, Sec. IV-A.1).
    tusz_types = ["FNSZ", "GNSZ", "ABSZ", "CPSZ", "TCSZ", "TNSZ", "SPSZ"]
    datasets = {"chbmit": "CHB-MIT", "helsinki": "Zenodo (Helsinki neonatal)", "tusz": "TUSZ"}
    return Recipe(
        name="wang2025",
        title="DistilCLIP-EEG: EEG-text CLIP teacher and distilled student (Wang et al., 2025)",
        citation=reference("wang2025"),
        doi_url=doi_url("wang2025"),
        description=_wang2025_description(),
        methods=("distilclip_eeg_teacher", "distilclip_eeg_student"),
        method_labels={"distilclip_eeg_teacher": "Teacher", "distilclip_eeg_student": "Student"},
        # Table I/II columns (Acc, Pre, Rec, Spe, F1) and Table V's AUC of hard predictions, under the
        # names of the binary runs (detection rows) and of the multi-class runs (TUSZ): each row fills
        # its own task's columns, as the bundled reported sets name them.
        metrics=WANG2025_METRICS,
        task="detection",
        protocol="kfold5-random-balanced",
        rows=(
            GridRow("chbmit", "CHB-MIT", Settings(task="detection"), dataset="chbmit"),
            GridRow("helsinki", "Zenodo", Settings(task="detection"), dataset="helsinki"),
            GridRow("tusz", "TUSZ", Settings(task="seizure-type", task_params={"types": tusz_types}), dataset="tusz"),
        ),
        row_header="Dataset",
        # "all recordings were segmented into 1-second epochs"; background segments do not overlap
        window_s=1.0,
        stride_s=1.0,
        dataset_settings={
            # "50% overlap was applied to seizure segments in the CHB-MIT and Zenodo datasets"
            "chbmit": Settings(ictal_stride_s=0.5),
            "helsinki": Settings(ictal_stride_s=0.5),
            # "For the TUSZ and AUBMC datasets, a 75% overlap was used"
            "tusz": Settings(ictal_stride_s=0.25),
        },
        budgets={
            "smoke": Settings(
                note=(
                    "the methods' smoke budgets (small networks, a few epochs, per-window z-scores, the dataset's "
                    "own sampling rate), so that a run takes minutes on CPU; not a result"
                )
            ),
        },
        tables=(
            PairedTable(
                key="distillation",
                title="Knowledge distillation: Teacher vs Student",
                method_a="distilclip_eeg_teacher",
                method_b="distilclip_eeg_student",
                paper_tables={d: "Table I" for d in datasets},
            ),
        ),
        paper_datasets={**datasets, "aubmc": "AUBMC"},
        deviations=_wang2025_deviations(),
        paper_text="distilclip_eeg.md",
    )


def _wang2025_description() -> str:
    """What the wang2025 recipe reproduces, how the paper split its data and why the suite flags it."""
    return (
        "Seizure detection (CHB-MIT, Zenodo) and seven-class seizure-type classification (TUSZ) from 1-s "
        "EEG windows resampled to 256 Hz, band-passed 0.1-70 Hz and z-scored per channel over the "
        "recording; seizure windows overlap by 50 % (CHB-MIT, Zenodo) or 75 % (TUSZ), background windows "
        "do not. The paper balances the data (every seizure window, as many random background windows) "
        "and then splits the 1-s segments at random into five folds (kfold5-random-balanced). The "
        'paper states that "strict separation between training and testing data was maintained to '
        'avoid data leakage", but this balance-then-random split puts windows of one patient, even '
        "of one recording and overlapping ones, in both training and test folds, which is why the "
        "suite flags the protocol as leaky. It compares the CLIP teacher (Conformer + BERT-LP) with "
        "its distilled 4-block student (Table I), reporting accuracy, precision, recall (sensitivity), "
        "specificity and F1, with support-weighted precision and F1, macro recall and specificity, and "
        "macro and micro AUCs of hard predictions for the seven-type TUSZ task (Tables I-III, V); the "
        "report shows the binary columns for the detection rows and the multi-class ones for TUSZ. "
        "Table II's prompt ablations are bundled as reported sets, not rows of this grid. The "
        "patient-wise protocols (kfold5, "
        "loso) are this benchmark's own comparison, not the paper's. Without a local 12-layer, "
        "768-wide BERT (--set text_encoder=/path/to/bert), the paper budget runs MiniLM and the board "
        "labels the run as not the paper's setting. The smoke budget runs the methods' smoke "
        "settings (small networks, a few epochs, per-window z-scores, the dataset's own sampling rate)."
    )


def _wang2025_deviations() -> dict[str, str]:
    """Where the wang2025 grid departs from the paper's settings, and why."""
    no_aubmc = "AUBMC is private and the suite has no loader for it; its Table I-V results are bundled as reported sets"
    return {
        "method.*.representation.sfreq@aubmc": no_aubmc,
        "window.ictal_stride_s@aubmc": no_aubmc,
        "preprocessing.n_channels@tusz": "the suite uses the channel set of each dataset's loader",
        "preprocessing.n_channels@chbmit": "the suite uses the channel set of each dataset's loader",
        "preprocessing.n_channels@helsinki": "the suite uses the channel set of each dataset's loader",
        "method.*.selection_metric": (
            "the epoch of lowest class-balanced validation cross-entropy is kept; F1 on a small validation "
            "split of balanced 1-s windows is coarse and ties often"
        ),
        "method.*.text_encoder.layers": (
            "no 12-layer BERT ships with the suite: pass --set text_encoder=/path/to/bert (a local "
            "save_pretrained folder); without it MiniLM-L6 runs and the run is labelled as not the "
            "paper's setting"
        ),
        "method.*.text_encoder.hidden_size": "as method.*.text_encoder.layers: MiniLM-L6 is 384 wide",
        "method.distilclip_eeg_student.eeg_encoder_params": (
            "not resolved per cell (it depends on the channel count); embed_dim 540 gives 17.6 M for 23 "
            "channels (methods.distilclip_eeg.efficiency)"
        ),
        "method.distilclip_eeg_teacher.eeg_encoder_params": (
            "not resolved per cell (it depends on the channel count); embed_dim 540 gives 31.4 M for 23 "
            "channels (methods.distilclip_eeg.efficiency)"
        ),
    }


def _hou2024() -> Recipe:
    # The paper prints no ablation: Table 2 sets its result beside two works on other corpora, and
    # Table 3 is the video-wise confusion matrix of the same runs; both are one cell of this grid.
    return Recipe(
        name="hou2024",
        title="Self-supervised pre-training for vision-based seizure classification (Hou et al.)",
        citation=reference("hou2022"),
        doi_url=doi_url("hou2022"),
        description=(
            "ES vs PNES from seizure videos (ES the positive class): ResNet-152 (ImageNet) frame features of "
            "10-s clips at 25 fps, a Transformer pre-trained by denoising (span relocation, frame masking) on "
            "unlabelled contextual videos and fine-tuned; a video's score is the mean over its clips; "
            "leave-one-subject-out. The paper reports video-level F1 and accuracy (Table 2) and the "
            "video-wise confusion matrix (Table 3); it prints no ablation. The smoke budget runs 2-s clips "
            "of small frames through a small random-init backbone so that a run takes minutes on CPU."
        ),
        methods=("video_ssl_transformer",),
        method_labels={"video_ssl_transformer": "Ours (pre-trained Transformer)"},
        task="classification",
        protocol="loso",
        rows=(GridRow("loso", "Leave-one-subject-out"),),
        row_header="Validation",
        # ES vs PNES with ES positive (the last class), as the paper's F1 needs; also the default
        # order, stated so that the cell says it.
        fixed_params={"target": "label", "classes": ["PNES", "ES"]},
        window_s=None,  # the method's clip: n_frames / fps (250 frames at 25 fps in the paper budget)
        budgets={
            "smoke": Settings(
                note=(
                    "the method's smoke budget: 2-s clips of small frames, a small backbone at random init "
                    "(backbone_weights=random, not the paper's setting), so that a run takes minutes on CPU"
                )
            )
        },
        tables=(),
        paper_datasets={
            "video-folder": "your seizure videos (video-folder layout)",
            "marseille-emu-video-private": "Marseille EMU (private)",
        },
        reported_tables={"video_ssl_transformer": {"marseille-emu-video-private": 2}},
        paper_text="video_ssl_transformer.md",
        deviations={
            "method.video_ssl_transformer.pretrain_data": (
                "the paper pre-trains on about 13k 10-s clips of a contextual video dataset of the whole unit; "
                "the suite pre-trains on the contextual clips of the fold's training patients only (test "
                "patients' footage never reaches pre-training), and on the labelled training clips without "
                "their labels when the dataset has no contextual videos"
            ),
            "method.video_ssl_transformer.patient_crop": (
                "the suite has no SSD patient detector: frames are cropped to the patient's bounding boxes "
                "when the dataset supplies them (a boxes file) and otherwise resized whole"
            ),
            "method.video_ssl_transformer.short_video_fill": (
                "a seizure video shorter than one clip still gives one clip whose frames past the video's end "
                "repeat its last frame (benchmark.windows.video_clip_count, benchmark.video_io.read_clips), "
                "not PAD tokens"
            ),
        },
        metrics=("video_f1", "video_accuracy"),
        method_table={"marseille-emu-video-private": "Tables 2 and 3"},
    )


def _li2024_deviations() -> dict[str, str]:
    """Where the li2024 grid departs from Li et al.'s experiment, and why."""
    return {
        **{
            name: (
                "the 10-s clips are the input of the TimeSformer rows (96 frames over 10 s); the paper does not "
                "say how its reproductions of the baselines cut videos, so they keep the clips of their own "
                "papers (I3D 48 frames at 24 fps and R(2+1)D 32 at 16 fps, 2 s; Perez-Garcia et al. 8 frames "
                "at 15 fps), and the grid's windows differ between its rows"
            )
            for name in ("window.window_s", "window.stride_s")
        },
        **{
            f"method.{m}.pretrain_data": (
                "the paper pre-trains on the entire unlabeled dataset D_u (every video of its 40 patients, the "
                "test patients' included); the suite pre-trains on the unlabelled clips of the fold's training "
                "patients only (their contextual clips and their training clips without labels), so that no "
                "test patient's video is seen in pre-training"
            )
            for m in (
                "pv_contrastive_timesformer",
                "pv_contrastive_timesformer_video_only",
                "pv_contrastive_timesformer_patient_only",
            )
        },
    }


def _li2024() -> Recipe:
    methods = (
        "i3d_lstm",
        "r2plus1d_lstm",
        "perez_garcia",
        "pv_contrastive_timesformer_nopretrain",
        "pv_contrastive_timesformer_video_only",
        "pv_contrastive_timesformer_patient_only",
        "pv_contrastive_timesformer",
    )
    private = "taipei-vgh-video-private"
    ablations = (("nopretrain", "w/o pretraining"), ("video_only", "Video"), ("patient_only", "Patient"))
    return Recipe(
        name="li2024",
        title="Patient-level and video-level contrastive pre-training for seizure classification (Li et al., 2024)",
        citation=reference("li2024"),
        doi_url=doi_url("li2024"),
        description=(
            "TLE vs exTLE from seizure videos (exTLE the positive class): 10-s clips, 5-fold cross-validation "
            "by patient, video = majority vote of the clips, video-level accuracy and F1 (Table I). Rows of "
            "Table I: three baselines (I3D + LSTM, R(2+1)D + LSTM, Perez-Garcia et al.) and the frozen "
            "TimeSformer-L (Kinetics-400) with a linear-layer head, without contrastive pre-training, with "
            "the video-level loss, the patient-level loss, and both (the proposed model). The smoke budgets "
            "run 2-s clips of small frames through small random-init backbones so that a run takes minutes "
            "on CPU."
        ),
        methods=methods,
        method_labels={
            "i3d_lstm": "Karácsony et al. (I3D)",
            "r2plus1d_lstm": "Karácsony et al. (R(2+1)D)",
            "perez_garcia": "Pérez-García et al.",
            "pv_contrastive_timesformer_nopretrain": "Ours - w/o pretraining",
            "pv_contrastive_timesformer_video_only": "Ours - Video",
            "pv_contrastive_timesformer_patient_only": "Ours - Patient",
            "pv_contrastive_timesformer": "Ours - Video+patient",
        },
        task="classification",
        protocol="kfold5",
        rows=(GridRow("kfold5", "5-fold by patient"),),
        row_header="Validation",
        fixed_params={"target": "focus", "classes": ["TLE", "exTLE"]},
        window_s=None,  # the method's clip: 96 frames over 10 s for TimeSformer-L in the paper budget
        budgets={
            "smoke": Settings(
                note=(
                    "the methods' smoke budgets: 2-s clips of small frames, small backbones at random init "
                    "(backbone_weights=random, not the paper's setting), so that a run takes minutes on CPU"
                )
            )
        },
        # Table I prints the ablations beside the full model, without a test.
        tables=tuple(
            PairedTable(
                key=f"ablation-{key}",
                title=f"Ablation: {label} vs Video+patient",
                method_a=f"pv_contrastive_timesformer_{key}",
                method_b="pv_contrastive_timesformer",
                paper_tables={private: "Table I"},
                test_metric="video_accuracy",
            )
            for key, label in ablations
        ),
        paper_datasets={
            "video-folder": "your seizure videos (video-folder layout)",
            private: "Taipei VGH EMU (private)",
        },
        reported_tables={m: {private: 1} for m in methods},
        paper_text="patient_video_contrastive.txt",
        deviations=_li2024_deviations(),
        metrics=("video_accuracy", "video_f1"),
        method_table={private: "Table I"},
    )


RECIPES: Mapping[str, Recipe] = MappingProxyType({r.name: r for r in (_lee2024(), _wang2025(), _hou2024(), _li2024())})


def get_recipe(name: str) -> Recipe:
    """The recipe called ``name``; an unknown name is a one-line :class:`UnknownNameError`."""
    try:
        return RECIPES[name]
    except KeyError:
        raise UnknownNameError(
            f"unknown recipe '{name}'.{did_you_mean(name, RECIPES)} Known recipes: {', '.join(RECIPES)}."
        ) from None
