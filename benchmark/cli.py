"""The ``seizure-bench`` command line.

A few subcommands, each a thin layer over a library function; user errors end in one line on stderr
and a non-zero exit code, never a traceback.
"""

from __future__ import annotations

import argparse
import errno
import json
import logging
import os
import re
import signal
import sys
from pathlib import Path

from benchmark.errors import BenchmarkError, StoreError

log = logging.getLogger("seizure_bench")

EPILOG = """examples:
  seizure-bench list methods
  seizure-bench data describe chbmit --data-dir ../shared/data/chbmit
  seizure-bench run --method eegnet --dataset chbmit-synthetic --task prediction --protocol loocv --budget smoke
  seizure-bench report --out reports/site
  seizure-bench import-bundled
  seizure-bench compare "Lee2024 Table 2 (SOP 10)" "Lee2024 Table 3 (SOP 10)" --metric accuracy
"""


def _default_store() -> Path:
    return Path(os.environ.get("SEIZURE_BENCH_STORE", "results/results.sqlite"))


def _existing_store(args) -> Path:
    """The store a read-only command reads; one that does not exist is refused, never created."""
    path = args.store
    if path.exists():
        return path
    given = getattr(args, "store_from", "from --store")
    raise StoreError(
        f"no results store at {path.resolve()} ({given}); run a method to make one, or point at yours with "
        "--store PATH or SEIZURE_BENCH_STORE=PATH."
    )


def _default_splits() -> Path:
    from benchmark.runner import default_splits_dir

    env = os.environ.get("SEIZURE_BENCH_SPLITS")
    if env:
        return Path(env)
    local = Path("splits")
    return local if local.is_dir() else default_splits_dir()


# -- argument parsing -------------------------------------------------------------------------
_TYPE_WORDS = {"float": "a number", "int": "a whole number"}


class _Parser(argparse.ArgumentParser):
    """The parser of the command and of every subcommand: a usage error is one line on stderr
    (the option, the bad value, the valid choices, where the help is) and exit code 2."""

    strict = False  # set on subcommands: an unknown option is reported by the subcommand itself

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._help_later: list[tuple[argparse.Action, object]] = []

    def help_later(self, action: argparse.Action, make) -> None:
        """Give ``action`` the help text ``make()`` returns, made only when help is printed: names
        read from the registries cost the other commands nothing."""
        self._help_later.append((action, make))

    def format_help(self) -> str:
        for action, make in self._help_later:
            action.help = make()
        self._help_later = []
        return super().format_help()

    def parse_known_args(self, args=None, namespace=None):
        namespace, extras = super().parse_known_args(args, namespace)
        if extras and self.strict:
            self.error(f"unrecognized arguments: {' '.join(extras)}")
        return namespace, extras

    def error(self, message: str):
        from benchmark.errors import did_you_mean

        choice = re.match(r"argument (\S+): invalid choice: '?(.*?)'? \(choose from (.*)\)$", message)
        typed = re.match(r"argument (\S+): invalid (\w+) value: '?(.*?)'?$", message)
        unknown = re.match(r"unrecognized arguments: (\S+)", message)

        def hint(name, choices) -> str:
            close = did_you_mean(name, choices).strip()  # " Did you mean 'x'?"
            return f" ({close[0].lower()}{close[1:]})" if close else ""

        if choice:
            name, value, allowed = choice.groups()
            allowed = [c.strip().strip("'") for c in allowed.split(",")]
            message = f"{name}: invalid value '{value}'{hint(value, allowed)}; choose one of: {', '.join(allowed)}"
        elif typed:
            name, kind, value = typed.groups()
            message = f"{name}: '{value}' is not {_TYPE_WORDS.get(kind, 'a valid ' + kind)}"
        elif unknown:
            options = [o for o in self._option_string_actions if o.startswith("--")]
            message = f"{message}{hint(unknown.group(1), options)}"
        message = re.sub(r"^argument ", "", message)
        print(f"seizure-bench: error: {message}; see `{self.prog} --help`", file=sys.stderr)
        self.exit(2)


def _add_global_args(p: argparse.ArgumentParser, *, top: bool) -> None:
    """Options of the whole command, accepted before and after the subcommand (after wins): a
    subcommand leaves them unset (SUPPRESS) unless given there."""
    unset = argparse.SUPPRESS
    p.add_argument(
        "--store",
        type=Path,
        default=None if top else unset,
        help="SQLite results store (default results/results.sqlite or $SEIZURE_BENCH_STORE)",
    )
    p.add_argument(
        "-v", "--verbose", action="count", default=0 if top else unset, help="more logging (-v info, -vv debug)"
    )


def _subparsers(parser: argparse.ArgumentParser):
    """Every subcommand parser under ``parser``, nested ones (``data describe``) included."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for child in dict.fromkeys(action.choices.values()):
                yield child
                yield from _subparsers(child)


def _add_task_args(p: argparse.ArgumentParser) -> None:
    from benchmark.tasks import all_tasks

    g = p.add_argument_group("task parameters (recorded with the run)")
    seen: set[str] = set()
    for task in all_tasks():  # each task's own options (benchmark.tasks: TaskOption)
        for o in task.options:
            if o.flag not in seen:
                seen.add(o.flag)
                g.add_argument(o.flag, type=str if o.as_list else o.type, metavar=o.metavar, help=o.help)
    g.add_argument("--window", type=float, metavar="S", help="window length in seconds (prediction 10, detection 1)")
    g.add_argument("--stride", type=float, metavar="S", help="window stride in seconds (default: the window length)")
    g.add_argument(
        "--ictal-stride",
        type=float,
        metavar="S",
        help="detection/seizure-type: extra training windows inside seizures at this stride "
        "(e.g. 0.5 for DistilCLIP-EEG's 50%% overlap); test windows keep --stride",
    )


def _method_help() -> str:
    from benchmark.adapters import REGISTRY

    # In-tree names only: listing installed plug-ins' names is for `list methods`.
    return (
        f"method to run, by name, in any case: {', '.join(REGISTRY.in_tree_names())}, or an installed plug-in's "
        "(`seizure-bench list methods` describes them all)"
    )


def _dataset_help() -> str:
    from benchmark.datasets import DATASETS

    synthetic = [n for n, s in DATASETS.items() if s.synthetic]
    return (
        f"dataset name: {', '.join(DATASETS)} (synthetic: {', '.join(synthetic)}; "
        "`seizure-bench list datasets` describes them)"
    )


def _add_run_args(p: argparse.ArgumentParser) -> None:
    """What defines a run, shared by ``run`` and ``plan`` (so a plan is of exactly that run)."""
    from benchmark.adapters import BUDGETS
    from benchmark.protocols import DEFAULT_PROTOCOL, all_protocols
    from benchmark.tasks import DEFAULT_TASK, all_tasks, task_names

    p.help_later(p.add_argument("--method", required=True, metavar="NAME"), _method_help)
    p.help_later(p.add_argument("--dataset", required=True, metavar="NAME"), _dataset_help)
    p.add_argument(
        "--task",
        default=DEFAULT_TASK,
        choices=task_names(),
        metavar="TASK",
        help=", ".join(f"{t.name} ({t.metadata.modality})" for t in all_tasks()) + f"; default {DEFAULT_TASK}",
    )
    p.add_argument(
        "--protocol",
        default=DEFAULT_PROTOCOL,
        choices=[p.name for p in all_protocols()],
        metavar="PROTOCOL",
        help=", ".join(p.name + (" (leaky)" if p.leaky else "") for p in all_protocols())
        + f"; default {DEFAULT_PROTOCOL} (`seizure-bench list protocols` describes them)",
    )
    p.add_argument(
        "--budget",
        default="smoke",
        choices=BUDGETS,
        help="smoke (minutes on 2 CPU cores, default) or paper (the paper's settings)",
    )
    p.add_argument(
        "--seed",
        type=int,
        default=0,
        metavar="N",
        help="seed of the folds' initialisation and sampling; the same seed gives the same numbers on CPU (default 0)",
    )
    p.add_argument(
        "--data-dir",
        type=Path,
        metavar="DIR",
        help="the dataset's folder (needed for real datasets; synthetic ones are generated in the cache by default)",
    )
    p.add_argument(
        "--set", action="append", default=[], metavar="KEY=VALUE", help="override a method hyper-parameter (JSON value)"
    )
    p.add_argument(
        "--valid-fraction",
        type=float,
        default=0.0,
        metavar="F",
        help="hold out this share of each fold's training units as validation data (default 0: none)",
    )
    p.add_argument(
        "--splits-dir",
        type=Path,
        metavar="DIR",
        help="frozen split files (default: ./splits when present, else the installed ones, or $SEIZURE_BENCH_SPLITS)",
    )


def _add_execution_args(p: argparse.ArgumentParser, *, fail_fast: str) -> None:
    """How folds are executed, shared by ``run`` and ``reproduce`` (so a grid cell runs as ``run`` would)."""
    p.add_argument(
        "--jobs", type=int, default=1, metavar="N", help="folds trained in parallel processes (--executor local)"
    )
    p.add_argument(
        "--executor",
        choices=["local", "dask"],
        default="local",
        help="where folds run: local (this machine, default) or dask (an existing Dask cluster "
        "that sees the data and cache at the same paths; needs --scheduler)",
    )
    p.add_argument(
        "--scheduler", metavar="ADDRESS", help="Dask scheduler address for --executor dask, e.g. tcp://10.0.0.5:8786"
    )
    p.add_argument(
        "--threads",
        type=int,
        metavar="N",
        help="torch CPU threads per fold (default: the cores this process may use, its affinity and cgroup "
        "quota, shared between --jobs; idle threads wait passively, so a busy machine is shared fairly)",
    )
    p.add_argument("--device", default="auto", help="auto (CUDA when present), cpu, cuda")
    p.add_argument(
        "--cache-dir",
        type=Path,
        metavar="DIR",
        help="window cache (default ~/.cache/seizure-bench or $SEIZURE_BENCH_CACHE)",
    )
    p.add_argument("--no-progress", action="store_true", help="no progress bars (for logs and batch jobs)")
    p.add_argument("--fail-fast", action="store_true", help=fail_fast)
    p.add_argument(
        "--isolation",
        choices=["auto", "sandbox", "none"],
        default=None,
        help="where a fold's method runs: sandbox (a bubblewrap worker that sees only the fold's "
        "window arrays; the run is marked isolated), none (in this process; marked trusted), "
        "auto (sandbox when bwrap works, else none with a warning; default, or "
        "$SEIZURE_BENCH_ISOLATION)",
    )
    p.add_argument(
        "--fold-timeout",
        type=float,
        metavar="SECONDS",
        help="stop a fold's method after SECONDS and store the fold as failed; the run goes on",
    )


def _task_params(args) -> dict:
    """The task parameters given on the command line; an option of another task is refused."""
    from benchmark.tasks import all_tasks, get_task

    task = get_task(args.task)
    own = {o.flag for o in task.options}
    out = {}
    for other in all_tasks():
        for o in other.options:
            value = getattr(args, o.dest, None)
            if value is None or o.flag in own:
                continue
            owners = [t.name for t in all_tasks() if any(x.flag == o.flag for x in t.options)]
            raise BenchmarkError(
                f"{o.flag} applies to the {' and '.join(owners)} task{'s' if len(owners) > 1 else ''} only."
            )
    for o in task.options:
        value = getattr(args, o.dest, None)
        if value is not None and o.as_list:
            value = [o.type(v.strip()) for v in value.split(",") if v.strip()]
            if not value and o.empty:
                raise BenchmarkError(o.empty)
        out[o.param] = value
    return out


def _window(args):
    from benchmark.tasks import all_tasks, get_task
    from benchmark.windows import WindowParams, default_window

    ictal = getattr(args, "ictal_stride", None)
    if args.window is None and args.stride is None and ictal is None:
        return None
    task = get_task(args.task)
    # Refused for EEG tasks that cut no extra ictal windows; a video window is the method's clip.
    if ictal is not None and task.metadata.modality == "eeg" and not task.metadata.extra_ictal_windows:
        takes = [t.name for t in all_tasks() if t.metadata.extra_ictal_windows]
        raise BenchmarkError(f"--ictal-stride applies to the {' and '.join(takes)} tasks only.")
    w = args.window if args.window is not None else default_window(args.task).window_s
    if args.window is None and task.metadata.modality == "video" and getattr(args, "method", None):
        from benchmark.runner import method_for_metadata
        from benchmark.windows import clip_seconds

        # A video window is the method's clip: n_frames / fps (a plug-in of an isolated run is not imported).
        meta = method_for_metadata(args.method, getattr(args, "isolation", None)).meta
        if args.budget in meta.budgets and meta.representation == "video":
            w = clip_seconds(meta.representation_params_for(args.budget))
    return WindowParams(w, args.stride if args.stride is not None else w, ictal)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="seizure-bench",
        description="Leak-free benchmark of seizure prediction and detection methods: fixed patient-wise "
        "splits, one set of metrics and statistics, HTML leaderboards.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _add_global_args(parser, top=True)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    _add_data_commands(sub)
    _add_run_commands(sub)
    _add_result_commands(sub)
    _add_reproduce_parser(sub)
    for p in _subparsers(parser):
        p.strict = True
        _add_global_args(p, top=False)
    return parser


def _add_data_commands(sub) -> None:
    """``list``, ``data`` and ``splits``."""
    from benchmark.tasks import task_names

    p = sub.add_parser("list", help="list methods, datasets, tasks or protocols")
    p.add_argument("what", choices=["methods", "datasets", "tasks", "protocols"], help="what to list")

    p = sub.add_parser("data", help="dataset tools: describe, generate")
    dsub = p.add_subparsers(dest="data_command", metavar="ACTION", required=True)
    d = dsub.add_parser("describe", help="patients, recordings, hours, seizures, lead seizures, exclusions")
    d.help_later(d.add_argument("dataset"), _dataset_help)
    d.add_argument("--data-dir", type=Path, metavar="DIR", help="the dataset's folder (needed for real datasets)")
    d.add_argument("--json", action="store_true", help="machine-readable output")
    d.add_argument("--sph", type=float, default=0.0, metavar="MIN", help="SPH used to count lead seizures (default 0)")
    d = dsub.add_parser("generate", help="generate the chbmit-synthetic dataset (done automatically by run)")
    d.add_argument("--data-dir", type=Path, help="where to write it (default: the cache)")

    p = sub.add_parser("splits", help="freeze or verify split files")
    ssub = p.add_subparsers(dest="splits_command", metavar="ACTION", required=True)
    s = ssub.add_parser("freeze", help="write split files for a dataset (all standard settings by default)")
    s.help_later(s.add_argument("--dataset", required=True, metavar="NAME"), _dataset_help)
    s.add_argument("--data-dir", type=Path, metavar="DIR", help="the dataset's folder (needed for real datasets)")
    s.add_argument("--task", choices=task_names(), help="only this task (default: every task the dataset supports)")
    s.add_argument("--protocol", help="only this protocol (default: every standard protocol)")
    _add_freeze_choices(s)
    s.add_argument("--splits-dir", type=Path, metavar="DIR", help="where to write them (default ./splits)")
    s = ssub.add_parser(
        "verify",
        help="check split files: content sha256 and leaks, and when the data is available "
        "the dataset hash and that the split is re-derived exactly from the data",
    )
    s.add_argument("--dataset", action="append", help="dataset(s) to verify (default: all under splits/)")
    s.add_argument("--data-dir", type=Path, help="data directory (for a single --dataset)")
    s.add_argument("--splits-dir", type=Path, metavar="DIR", help="the split files (default ./splits)")


def _add_freeze_choices(s: argparse.ArgumentParser) -> None:
    """Every registered task's single-valued options, repeatable: the values ``splits freeze`` freezes
    instead of the task's defaults (prediction: SOP 10, 15, 30 min; gap 4 h, and 3 h for loocv as in
    the ResNet-LSTM paper)."""
    from benchmark.tasks import all_tasks

    g = s.add_argument_group("task parameters to freeze (repeatable; default: each task's standard settings)")
    seen: set[str] = set()
    for task in all_tasks():
        for o in task.options:
            if not o.as_list and o.flag not in seen:
                seen.add(o.flag)
                g.add_argument(o.flag, type=o.type, action="append", metavar=o.metavar, help=f"{task.name}: {o.help}")


def _add_run_commands(sub) -> None:
    """``run``, ``reproduce`` and ``plan``."""
    p = sub.add_parser("run", help="train and test a method on a dataset with a protocol")
    _add_run_args(p)
    _add_execution_args(
        p, fail_fast="stop at the first failed fold (the run is then failed or partial; the same command resumes it)"
    )
    p.add_argument(
        "--with-baselines",
        nargs="?",
        const="all",
        default=None,
        metavar="NAMES",
        help="after the method, run the registered baselines of the task (all of them, or the comma-separated "
        "NAMES, e.g. chance,bandpower_logreg) with the same dataset, task settings, protocol, budget and seed, "
        "so the board shows them",
    )
    _add_task_args(p)
    g = p.add_argument_group("event scoring of detection runs (SzCORE; recorded with the run)")
    g.add_argument(
        "--event-threshold",
        type=float,
        default=0.5,
        metavar="P",
        help="a window is positive when its ictal probability is at least P (default 0.5)",
    )
    g.add_argument(
        "--event-smooth",
        type=int,
        default=1,
        metavar="N",
        help="moving average of window scores over N windows before thresholding (default 1)",
    )
    g.add_argument(
        "--event-min-duration",
        type=float,
        default=0.0,
        metavar="S",
        help="drop predicted events shorter than S seconds (default 0)",
    )

    p = sub.add_parser(
        "plan",
        help="estimate a run's EEG hours, windows, cache size, folds and training steps "
        "from the dataset index alone (no signal is read)",
    )
    _add_run_args(p)
    p.add_argument("--cache-dir", type=Path, help="where ad-hoc frozen splits are looked up (nothing is written)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument(
        "--time",
        action="store_true",
        help="also estimate the run's time on this machine's CPU from short probes of the window cache and "
        "the method on synthetic windows (imports torch; takes seconds to a minute)",
    )
    p.add_argument("--threads", type=int, metavar="N", help="with --time: torch threads per fold, as for run")
    _add_task_args(p)


def _add_export_parser(rsub) -> None:
    """``results export``: the tables it writes are documented here, for `--help`."""
    r = rsub.add_parser(
        "export",
        help="per-patient metrics and summaries as CSV or JSON, with each run's settings and provenance",
        description="Write stored results as a complete record of each run. CSV is tidy (long): with "
        "--what patients, one row per run, patient and metric (columns patient, metric, value); with "
        "--what summary, one row per run and metric (columns metric, mean, std, ci_low, ci_high, n). Every "
        "row carries the run's settings (method, dataset, task, protocol, budget, seed, synthetic, status, "
        "isolation, split hash, ...), its task parameters as task_params.* columns and its provenance "
        "(versions, parameter count, weights source, efficiency, hardware, timings) as provenance.* "
        "columns; pandas.read_csv and R's read.csv read it as is, empty cells are missing values. JSON "
        "nests all of it per run, with the folds and each fold's isolation.",
        epilog="example: seizure-bench results export --what summary --out summary.csv",
    )
    r.add_argument("--run", help="run id (or unique prefix, or reported name); default all")
    r.add_argument(
        "--format",
        choices=["csv", "json", "szcore", "szcore-json"],
        default="csv",
        help="csv (default), json, szcore (one detection run's detections as SzCORE hypothesis files, one "
        "*_events.tsv per recording under --out DIR) or szcore-json (one detection run or scored set in "
        "szcore-evaluation's JSON layout: sample and event results with the counts behind them)",
    )
    r.add_argument(
        "--data-dir",
        type=Path,
        metavar="DIR",
        help="with --format szcore: the run's dataset folder (recording names and durations; needed for real datasets)",
    )
    r.add_argument(
        "--what",
        choices=["patients", "summary"],
        help="CSV table: patients (default; one row per run, patient and metric) or summary "
        "(one row per run and metric with mean, std and 95%% CI); JSON always holds both",
    )
    r.add_argument("--out", type=Path, help="file to write (default stdout)")


def _add_result_commands(sub) -> None:
    """``results``, ``report``, ``import-reported``, ``import-bundled``, ``compare`` and ``check-adapter``."""
    from benchmark.protocols import DEFAULT_PROTOCOL
    from benchmark.tasks import task_names

    p = sub.add_parser("results", help="list or export stored results")
    rsub = p.add_subparsers(dest="results_command", metavar="ACTION", required=True)
    r = rsub.add_parser(
        "list",
        help="one line per run: its score on the board's ranking metric, status and isolation",
        description="List the stored result sets: your runs first, each with its score (the metric its board "
        "ranks it by, mean over patients), status and isolation; the papers' reported sets with --kind. "
        "Names match ignoring case.",
        epilog="example: seizure-bench results list --dataset chbmit-synthetic --method eegnet",
    )
    r.add_argument("--method", metavar="NAME", help="only this method (or a reported set's name)")
    r.add_argument("--dataset", metavar="NAME", help="only result sets on this dataset")
    r.add_argument(
        "--kind",
        metavar="KIND",
        help="run (default: your runs; reported sets are only counted), reported (the papers' sets) or all",
    )
    r.add_argument(
        "--status",
        help="only runs with this status: complete, partial, failed, interrupted, running "
        "or reported (as shown: a running run whose process is gone is interrupted)",
    )
    _add_export_parser(rsub)

    p = sub.add_parser("report", help="build the static HTML site (leaderboards, run pages)")
    p.add_argument(
        "--out", type=Path, default=Path("reports/site"), metavar="DIR", help="site folder (default reports/site)"
    )
    p.add_argument(
        "--no-bundled",
        action="store_true",
        help="do not add the papers' reported result sets shipped in reports/reported/ to the store first",
    )

    p = sub.add_parser("import-reported", help="load a paper's per-patient table as a 'reported' result set")
    p.add_argument("file", type=Path, help="CSV with a 'patient' column and one column per metric")
    p.add_argument("--name", required=True, help="name of the result set on the boards, e.g. 'Lee2024 Table 2'")
    p.help_later(p.add_argument("--dataset", required=True, metavar="NAME"), _dataset_help)
    p.add_argument("--task", required=True, choices=task_names(), metavar="TASK", help=", ".join(task_names()))
    p.add_argument("--protocol", default=DEFAULT_PROTOCOL, help=f"protocol the paper used (default {DEFAULT_PROTOCOL})")
    p.add_argument("--citation", default="", help="reference shown with the set on the boards")
    p.add_argument("--source", default="", help="where in the paper (e.g. 'Table 3')")
    _add_task_args(p)

    p = sub.add_parser("import-bundled", help="load every reported result set shipped in reports/reported/")
    _add_score_parser(sub)

    p = sub.add_parser(
        "compare",
        help="paired t-test and Wilcoxon test between two result sets",
        description="Compare two result sets patient by patient on the patients they share: a paired t-test "
        "and a Wilcoxon signed-rank test of one metric.",
        epilog='example: seizure-bench compare eegnet-chbmit-synthetic "Lee2024 Table 2 (SOP 10)" --metric accuracy',
    )
    ref = "a run id, a unique prefix of one, or a reported set's name (`seizure-bench results list` shows them)"
    p.add_argument("a", help=f"first result set: {ref}")
    p.add_argument("b", help="second result set, given as A")
    p.help_later(p.add_argument("--metric", default="accuracy"), _metric_help)
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument(
        "--force",
        action="store_true",
        help="test two sets the leaderboards would not rank together (other data, dataset, task "
        "settings or protocol); the output then says what differs",
    )

    _add_check_adapter_parser(sub)


def _add_score_parser(sub) -> None:
    p = sub.add_parser(
        "score",
        help="score a folder of SzCORE hypothesis files against a dataset and store it as a result set",
        description="Score SzCORE hypothesis files (one *_events.tsv per recording, BIDS names, as "
        "`results export --format szcore` and SzCORE tools write them) against the dataset's annotations with "
        "SzCORE's event and sample scoring, per patient, and store them as a result set of kind 'scored' "
        "(with the folder's SHA-256) that the boards show like a run. A recording without a file has no "
        "detections; a malformed file stores nothing.",
        epilog="example: seizure-bench score --dataset chbmit-synthetic --hypotheses hypotheses/",
    )
    p.help_later(p.add_argument("--dataset", required=True, metavar="NAME"), _dataset_help)
    p.add_argument("--data-dir", type=Path, metavar="DIR", help="the dataset's folder (needed for real datasets)")
    p.add_argument(
        "--hypotheses", type=Path, required=True, metavar="DIR", help="folder of *_events.tsv hypothesis files"
    )
    p.add_argument("--name", help="name of the set on the boards (default: the folder's name)")
    p.add_argument(
        "--protocol",
        default="external",
        help="protocol the hypotheses were made under, to show them on that protocol's board (default "
        "external: a board of its own)",
    )


def _add_check_adapter_parser(sub) -> None:
    from benchmark.adapters import BUDGETS
    from benchmark.tasks import task_names

    p = sub.add_parser(
        "check-adapter",
        help="run the adapter conformance suite on a small synthetic dataset",
        description="Fit and run a method on small SYNTHETIC window sets and check what the harness relies "
        "on (probabilities, determinism, no label, file, process or network access); the first line says "
        "which task and data shape were used.",
    )
    p.help_later(p.add_argument("name"), _method_help)
    p.add_argument(
        "--budget", default="smoke", choices=BUDGETS, help="budget whose settings are checked (default smoke)"
    )
    p.add_argument(
        "--task",
        choices=task_names(),
        metavar="TASK",
        help="task whose classes label the data; the method must declare it ("
        + ", ".join(task_names())
        + "; default: two generic classes). A task whose dataset decides its classes gets a stand-in: "
        "seizure-type gives multi-class data (background and three seizure types)",
    )
    p.add_argument(
        "--data",
        default="tiny",
        choices=("tiny", "chbmit"),
        help="shape of the synthetic EEG windows: tiny (4 channels at 128 Hz, 2-s windows; default) or "
        "chbmit (CHB-MIT's 18 bipolar channels at 256 Hz, 10-s windows); video methods get clips",
    )
    p.add_argument(
        "--threads", type=int, metavar="N", help="torch CPU threads while the checks run (default: torch's default)"
    )
    p.add_argument(
        "--time-limit",
        type=float,
        metavar="SECONDS",
        help="seconds each check may run; one that runs longer fails (default 600)",
    )


def _add_reproduce_parser(sub) -> None:
    from benchmark.adapters import BUDGETS

    p = sub.add_parser(
        "reproduce",
        help="run a paper's whole grid (methods x settings) and load its reported tables",
        description="Run every cell of a paper's experimental grid as an ordinary, resumable run, then "
        "load the paper's bundled per-patient tables; 'seizure-bench report' lays the results out like "
        "the paper's summary tables (papers/<recipe>.html). The paper budget uses the paper's windows "
        "and settings; smoke may use coarser windows, and --dry-run says so. Recipes: "
        + ", ".join(_recipe_names())
        + ".",
        epilog="example: seizure-bench reproduce lee2024 --dataset chbmit --data-dir ../shared/data/chbmit "
        "--budget paper",
    )
    p.add_argument("recipe", help="recipe name (" + ", ".join(_recipe_names()) + ")")
    p.add_argument(
        "--dataset",
        help="dataset of the runs; for recipes whose rows are datasets, selects their rows "
        "(a synthetic dataset selects the rows of the dataset it stands in for)",
    )
    p.add_argument("--data-dir", type=Path, metavar="DIR", help="the dataset's folder (needed for real datasets)")
    p.add_argument(
        "--budget",
        default="smoke",
        choices=BUDGETS,
        help="smoke (minutes on CPU per run, default) or paper (the paper's settings)",
    )
    p.add_argument("--seed", type=int, default=0, metavar="N", help="seed of every run of the grid (default 0)")
    p.add_argument("--methods", metavar="M1,M2", help="comma-separated subset of the recipe's methods")
    p.add_argument(
        "--rows",
        nargs="+",
        action="extend",
        metavar="ROW",
        help="subset of the recipe's rows by key (e.g. sop10; --dry-run lists them)",
    )
    p.add_argument(
        "--sop",
        type=float,
        nargs="+",
        action="extend",
        metavar="MIN",
        help="subset of the recipe's rows by SOP (recipes whose rows vary the SOP, e.g. lee2024)",
    )
    p.add_argument(
        "--dry-run",
        action="store_true",
        help="print the runs with their windows (and equivalent 'run' commands) and stop",
    )
    p.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="[METHOD:]KEY=VALUE",
        help="override a hyper-parameter (JSON value) of every method of the grid that has it, or of "
        "METHOD only, e.g. --set backbone_weights=PATH (paper budgets of video methods need one)",
    )
    p.add_argument("--splits-dir", type=Path, metavar="DIR", help="frozen split files, as for run")
    _add_execution_args(
        p, fail_fast="stop at the first failed fold, and the grid at the first run that is not complete"
    )


def _metric_help() -> str:
    from benchmark.metrics import EVENT_METRICS, METRICS, MULTICLASS_METRICS, SAMPLE_METRICS, VIDEO_METRICS

    names = dict.fromkeys((*METRICS, *MULTICLASS_METRICS, *EVENT_METRICS, *SAMPLE_METRICS, *VIDEO_METRICS))
    return f"metric compared per patient (default accuracy): {', '.join(names)}"


def _recipe_names() -> list[str]:
    from benchmark.recipes import RECIPES

    return list(RECIPES)


# -- commands ---------------------------------------------------------------------------------
def cmd_list(args) -> int:
    if args.what == "methods":
        from benchmark.adapters import REGISTRY

        rows = []
        for name in REGISTRY.names():
            m = REGISTRY.meta(name)  # in-tree: read without importing the method's module
            kind = "baseline" if m.is_baseline and REGISTRY.shipped(name) else "method"
            rows.append((name, kind, m.modality, ",".join(m.tasks), m.representation, REGISTRY.origin(name)))
        _table(["name", "kind", "modality", "tasks", "input", "origin"], rows)
    elif args.what == "datasets":
        from benchmark.datasets import DATASETS

        _table(
            ["name", "synthetic", "description"],
            [(n, str(s.synthetic).lower(), s.description) for n, s in DATASETS.items()],
        )
    elif args.what == "tasks":
        from benchmark.tasks import all_tasks

        rows = [
            (
                t.name,
                t.metadata.modality,
                " vs ".join(reversed(t.metadata.classes)) if t.metadata.classes else t.metadata.classes_from,
            )
            for t in all_tasks()
        ]
        _table(["name", "modality", "classes"], rows)
    else:
        from benchmark.protocols import all_protocols

        _table(["name", "description"], [(p.name, p.description) for p in all_protocols()])
    return 0


def cmd_data(args) -> int:
    from benchmark.datasets import describe, load_dataset
    from benchmark.tasks import Prediction, get_task

    if args.data_command == "generate":
        from benchmark.datasets.synthetic import ensure_synthetic

        path = ensure_synthetic(args.data_dir, progress=True)
        print(f"chbmit-synthetic (SYNTHETIC data) is at {path}")
        return 0
    index = load_dataset(args.dataset, args.data_dir)
    if index.modality == "video":
        from benchmark.datasets import describe_videos

        info = describe_videos(index)
        print(json.dumps(info, indent=1, default=str)) if args.json else _print_videos(info)
        return 0
    info = describe(index, sph_minutes=args.sph)
    # Lead seizures and usable prediction units per SOP, beside the loader's own exclusions.
    info[Prediction.metadata.name] = get_task(Prediction.metadata.name).usable_units(index, sph_minutes=args.sph)
    if args.json:
        print(json.dumps(info, indent=1, default=str))
        return 0
    _print_description(info)
    return 0


def _print_videos(info: dict) -> None:
    t = info["totals"]
    print(info["dataset"] + ("  [SYNTHETIC DATA]" if info.get("synthetic") else ""))
    print(f"index hash (dataset version): {info['content_hash']}")
    print(
        f"{t['patients']} patients ({t['subjects']} subjects), {t['videos']} labelled videos, "
        f"{t['contextual']} contextual (unlabelled) videos, {t['minutes']:.1f} min"
    )
    cols = info["label_columns"]
    for c in cols:
        print(f"  --target {c}: " + ", ".join(f"{v} {n}" for v, n in t["labels"][c].items()))
    rows = [
        (
            p["patient_id"],
            str(p["videos"]),
            str(p["contextual"]),
            f"{p['minutes']:.1f}",
            *[" ".join(f"{v}:{n}" for v, n in p["labels"].get(c, {}).items()) for c in cols],
        )
        for p in info["patients"]
    ]
    print()
    _table(["patient", "videos", "contextual", "minutes", *cols], rows)
    excl = info.get("exclusions", [])
    print(f"\ndataset exclusions ({len(excl)}):")
    for e in excl:
        print(f"  [{e['scope']}] {e['patient']}{'/' + e['recording'] if e.get('recording') else ''}: {e['reason']}")
    _print_conflicts(info)


def _print_conflicts(info: dict) -> None:
    """Disagreements between the dataset's own annotation sources, with the choice made."""
    conflicts = info.get("conflicts", [])
    if conflicts:
        print(f"\nsource annotation conflicts ({len(conflicts)}):")
        for line in conflicts:
            print(f"  {line}")


def _print_description(info: dict) -> None:
    t = info["totals"]
    print(info["dataset"] + ("  [SYNTHETIC DATA]" if info.get("synthetic") else ""))
    print(f"index hash (dataset version): {info['content_hash']}")
    print(
        f"{t['patients']} patients ({t.get('subjects', t['patients'])} subjects), {t['recordings']} recordings, "
        f"{t['hours']:.1f} h, {t['seizures']} seizures"
    )
    sops = [f"{s:g}" for s in info["sop_minutes"]]
    from benchmark.tasks import Prediction

    pred = info.get(Prediction.metadata.name, {})
    rows = []
    for p in info["patients"]:
        lead = {f"{float(k):g}": v for k, v in p.get("lead_seizures", {}).items()}
        usable = [str(pred.get(s, {}).get("units", {}).get(p["patient_id"], 0)) for s in sops]
        hours = "unknown" if p.get("recordings_off_timeline") == p["recordings"] else f"{p['hours']:.1f}"
        rows.append(
            (
                p["patient_id"],
                str(p["recordings"]),
                hours,
                str(p["seizures"]),
                *[str(lead.get(s, "")) for s in sops],
                *usable,
            )
        )
    print()
    _table(
        [
            "patient",
            "recordings",
            "hours",
            "seizures",
            *[f"lead/SOP{s}" for s in sops],
            *[f"usable/SOP{s}" for s in sops],
        ],
        rows,
    )
    print(
        "\nlead: no seizure within SOP+SPH before onset; usable: lead seizures with enough recorded "
        "pre-ictal EEG and inter-ictal EEG far enough from seizures (prediction units)"
    )
    excl = info.get("exclusions", [])
    print(f"\ndataset exclusions ({len(excl)}):")
    for e in excl:
        print(f"  [{e['scope']}] {e['patient']}{'/' + e['recording'] if e.get('recording') else ''}: {e['reason']}")
    _print_conflicts(info)
    for s in sops:
        ex = pred.get(s, {}).get("exclusions", [])
        print(f"\nprediction exclusions, {pred[s]['label']}, loocv ({len(ex)}):")
        for e in ex:
            print(f"  [{e['scope']}] {e['patient']}{'/' + e['recording'] if e.get('recording') else ''}: {e['reason']}")


def _freeze_choices(args) -> dict[str, list]:
    """``{task parameter: values}`` of the task options given to ``splits freeze`` (repeatable)."""
    from benchmark.tasks import all_tasks

    return {o.param: getattr(args, o.dest) for t in all_tasks() for o in t.options if getattr(args, o.dest, None)}


def cmd_splits(args) -> int:
    from benchmark.split_files import freeze_standard, verify_all

    splits_dir = args.splits_dir or _default_splits()
    if args.splits_command == "freeze":
        paths = freeze_standard(
            args.dataset,
            args.data_dir,
            splits_dir,
            task=args.task,
            protocol=args.protocol,
            choices=_freeze_choices(args),
        )
        for p in paths:
            print(f"froze {p}")
        return 0
    results = verify_all(splits_dir, datasets=args.dataset, data_dir=args.data_dir)
    bad = 0
    for r in results:
        print(f"{r['status']:>8}  {r['file']}  {r['detail']}")
        bad += r["status"] == "FAILED"
    print(f"{len(results) - bad} ok, {bad} failed")
    if bad:
        raise BenchmarkError(
            f"{bad} split file(s) failed verification (see above); restore them from git or re-freeze."
        )
    return 0


def _overrides(items) -> dict:
    """--set KEY=VALUE pairs (values parsed as JSON when they are JSON); shared by run and plan."""
    overrides = {}
    for item in items:
        k, _, v = item.partition("=")
        if not k.strip() or "=" not in item:
            raise BenchmarkError(f"--set expects KEY=VALUE with a non-empty KEY, got '{item}'.")
        try:
            overrides[k] = json.loads(v)
        except json.JSONDecodeError:
            overrides[k] = v
    return overrides


def cmd_plan(args) -> int:
    from benchmark.plan import format_plan, plan_run
    from benchmark.runner import RunConfig

    cfg = RunConfig(
        method=_registered_name(args.method),
        dataset=args.dataset,
        task=args.task,
        protocol=args.protocol,
        budget=args.budget,
        seed=args.seed,
        data_dir=args.data_dir,
        task_params=_task_params(args),
        window=_window(args),
        method_overrides=_overrides(args.set),
        valid_fraction=args.valid_fraction,
        splits_dir=args.splits_dir or _default_splits(),
        cache_dir=args.cache_dir,
        threads=args.threads,
        progress=False,
    )
    plan = plan_run(cfg, measure_time=args.time)
    print(json.dumps(plan.to_dict(), indent=1) if args.json else format_plan(plan))
    return 0


def _registered_name(method: str) -> str:
    """A method name as registered (``EEGNet`` -> ``eegnet``), so the run id and the boards use one spelling."""
    from benchmark.adapters import REGISTRY

    return REGISTRY.resolve_name(method)


def _fold_timeout(seconds: float | None) -> float | None:
    if seconds is not None and not 0 < seconds < float("inf"):
        raise BenchmarkError(f"--fold-timeout must be a positive, finite number of seconds, got {seconds:g}.")
    return seconds


def run_config(args):
    """The ``RunConfig`` of the run that ``args`` of `run` describe; :func:`benchmark.api.evaluate` builds
    its run here too, so the API runs what the command runs, with the same run id."""
    from benchmark.events import PostProcessing
    from benchmark.runner import RunConfig

    return RunConfig(
        method=_registered_name(args.method),
        dataset=args.dataset,
        task=args.task,
        protocol=args.protocol,
        budget=args.budget,
        seed=args.seed,
        data_dir=args.data_dir,
        task_params=_task_params(args),
        window=_window(args),
        method_overrides=_overrides(args.set),
        valid_fraction=args.valid_fraction,
        store_path=args.store,
        splits_dir=args.splits_dir or _default_splits(),
        cache_dir=args.cache_dir,
        jobs=args.jobs,
        executor=args.executor,
        scheduler=args.scheduler,
        threads=args.threads,
        device=args.device,
        progress=not args.no_progress,
        fail_fast=args.fail_fast,
        isolation=args.isolation,
        fold_timeout=_fold_timeout(args.fold_timeout),
        events=PostProcessing(
            threshold=args.event_threshold, smooth_windows=args.event_smooth, min_duration_s=args.event_min_duration
        ),
    )


def cmd_run(args) -> int:
    from benchmark.runner import Runner

    cfg = run_config(args)
    # Checked before the method trains: a misspelt baseline must not wait for it.
    baselines = _baselines(args.with_baselines, args.task) if getattr(args, "with_baselines", None) else ()
    rec = Runner(cfg).run()
    _print_run_summary(args.store, rec)
    statuses = [rec.status]
    if baselines:
        import dataclasses

        # Same data, task settings, protocol, budget and seed: the baselines land on the method's board.
        for name in baselines:
            if name != cfg.method:
                base = Runner(dataclasses.replace(cfg, method=name, method_overrides={})).run()
                _print_run_summary(args.store, base)
                statuses.append(base.status)
    return 0 if all(s == "complete" for s in statuses) else 3


def _baselines(names: str, task: str) -> tuple[str, ...]:
    """The baselines ``--with-baselines`` names (``all``: every registered baseline of ``task``)."""
    from benchmark.report.leaderboard import compatible_baselines

    known = compatible_baselines(task)
    if names == "all":
        return known
    by_lower = {n.lower(): n for n in known}
    wanted = [w.strip() for w in names.split(",") if w.strip()]
    unknown = [w for w in wanted if w.lower() not in by_lower]
    if unknown or not wanted:
        raise BenchmarkError(
            f"--with-baselines: {', '.join(unknown) or repr(names)} is not a baseline of the {task} task; "
            f"choose from {', '.join(known) or 'none'} (comma-separated), or give the option alone for all"
        )
    return tuple(dict.fromkeys(by_lower[w.lower()] for w in wanted))


def _print_run_summary(store_path: Path, rec) -> None:
    from benchmark.store import ResultStore, run_isolation
    from benchmark.tasks import TaskMetadata, find_task

    store = ResultStore(store_path)
    summ = store.summary(rec.run_id)
    label = " [SYNTHETIC DATA]" if rec.synthetic else ""
    print(f"run {rec.run_id}: {rec.status}{label}")
    isolation = run_isolation(store.get_run(rec.run_id) or rec)
    print(f"  isolation: {isolation} ({ISOLATION_MEANING.get(isolation, '')})")
    known = find_task(rec.task)
    # A stored run of a task no longer registered shows TaskMetadata's default metrics.
    shown = known.metadata.summary_metrics if known else TaskMetadata.__dataclass_fields__["summary_metrics"].default
    if known and known.metadata.modality == "video":
        print("  mean over patients (video_*: one prediction per video; accuracy: per clip)")
    for metric in shown:
        if metric in summ.index:
            r = summ.loc[metric]
            print(
                f"  {metric:<18} {r['mean']:.3f} ± {r['std']:.3f}  "
                f"(95% CI {r['ci_low']:.3f}-{r['ci_high']:.3f}, n={int(r['n'])})"
            )
    video = (rec.provenance or {}).get("video_level")
    if video:
        m = video["metrics"]
        print(
            f"  pooled over {video['n_videos']} test videos ({video['aggregation']} of clips): accuracy "
            f"{m['video_accuracy']:.3f}, balanced accuracy {m['video_balanced_accuracy']:.3f}, "
            f"F1 {m['video_f1']:.3f}, ROC AUC {m['video_roc_auc']:.3f}"
        )
    failed = [f for f in store.folds(rec.run_id) if f.status != "ok"]
    if failed:
        print(f"  {len(failed)} fold(s) failed, e.g. {failed[0].fold_id}: {failed[0].error}")
    if not rec.leakage.get("ok", True):
        print(
            "  LEAKAGE: "
            + ("protocol is leaky by design" if rec.leakage.get("protocol_leaky") else "train/test windows overlap")
        )


# What each isolation mark (benchmark.store.run_isolation) means, for the CLI.
ISOLATION_MEANING = {
    "isolated": "every fold's method ran in a sandbox that saw only its window arrays",
    "trusted": "the method ran with your file access and could have read the annotations",
    "unknown": "recorded before isolation was recorded; it ran as trusted",
}


_LIST_FILTERS = ("method", "dataset", "status", "kind")


def _print_listing(args, listing) -> None:
    """The tables on stdout; where the store is and what was left out on stderr, so the tables pipe clean."""
    from benchmark.export import REPORTED_HEADERS, RUN_HEADERS

    print(f"store: {args.store.resolve()} ({getattr(args, 'store_from', 'from --store')})", file=sys.stderr)
    if listing.runs:
        _table(RUN_HEADERS, listing.runs)
    if listing.reported:
        if listing.runs:
            print()
        _table(REPORTED_HEADERS, listing.reported)
    given = " ".join(f"--{k} {getattr(args, k)}" for k in _LIST_FILTERS if getattr(args, k) is not None)
    if not listing.runs and not listing.reported:
        print(f"no {'result sets' if args.kind else 'runs'} match{(' ' + given) if given else ''}.", file=sys.stderr)
    if listing.reported_not_listed:
        n = listing.reported_not_listed
        print(
            f"{n} reported set{'s' if n != 1 else ''} from papers not listed: add --kind reported (or --kind all).",
            file=sys.stderr,
        )


def cmd_results(args) -> int:
    from benchmark.export import export_results, list_results

    try:
        _existing_store(args)
    except StoreError as exc:
        if args.results_command != "list":
            raise
        # Nothing stored yet is no error for a listing, but the user must see where it looked.
        print(f"seizure-bench: {exc}", file=sys.stderr)
        return 0
    if args.results_command == "list":
        _print_listing(args, list_results(args.store, **{k: getattr(args, k) for k in _LIST_FILTERS}))
        return 0
    if args.format == "szcore":
        return _export_hypotheses(args)
    if args.format == "szcore-json":
        text = _szcore_json_text(args)
    else:
        text = export_results(args.store, run=args.run, fmt=args.format, what=args.what)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text)
        print(f"wrote {args.out}")
    else:
        sys.stdout.write(text)
    return 0


def _one_szcore_run(args) -> None:
    """``--format szcore`` and ``szcore-json`` export one run: refuse what they cannot use."""
    if not args.run:
        raise BenchmarkError(
            f"--format {args.format} exports one detection run: add --run ID (`seizure-bench results list` shows them)."
        )
    if args.what is not None:
        raise BenchmarkError(f"--what chooses a CSV table; drop it with --format {args.format}.")


def _export_hypotheses(args) -> int:
    from benchmark.szcore import export_hypotheses

    _one_szcore_run(args)
    if args.out is None:
        raise BenchmarkError("--format szcore writes one file per recording: add --out DIR.")
    written = export_hypotheses(args.store, args.run, args.out, args.data_dir)
    print(f"wrote {len(written)} SzCORE hypothesis files under {args.out}")
    return 0


def _szcore_json_text(args) -> str:
    from benchmark.store import ResultStore
    from benchmark.szcore import szcore_json

    _one_szcore_run(args)
    return json.dumps(szcore_json(ResultStore(args.store), args.run), indent=2) + "\n"


def cmd_score(args) -> int:
    from benchmark.store import ResultStore
    from benchmark.szcore import score_hypotheses

    rec = score_hypotheses(
        args.store,
        args.dataset,
        args.hypotheses,
        data_dir=args.data_dir,
        protocol=args.protocol,
        name=args.name,
    )
    summary = ResultStore(args.store).summary(rec.run_id)["mean"]
    shown = ", ".join(f"{m} {summary[m]:.3f}" for m in ("event_f1", "sample_f1") if m in summary)
    print(f"scored {args.hypotheses} as {rec.run_id} ('{rec.display_name}', {rec.dataset}): {shown}")
    return 0


def cmd_report(args) -> int:
    from benchmark.report import build_report
    from benchmark.store import ResultStore

    # With the bundled papers' result sets the report writes them into the store (made if need be);
    # with --no-bundled it only reads one.
    store = ResultStore(_existing_store(args) if args.no_bundled else args.store)
    # An unusable output folder must fail before the store is touched.
    if args.out.exists() and not args.out.is_dir():
        raise BenchmarkError(f"report output {args.out} is a file; pass --out a folder path.")
    args.out.mkdir(parents=True, exist_ok=True)
    if not args.no_bundled and store.read_only:
        log.warning("results store %s is read-only: the papers' reported result sets were not added", args.store)
    elif not args.no_bundled:
        from benchmark.errors import DataError
        from benchmark.reported import import_bundled

        # The papers' own tables belong beside our runs; sets already stored are left untouched.
        try:
            added = import_bundled(store, replace=False)
        except DataError as e:  # an installed copy without the source tree's reports/ folder
            log.warning("reported result sets not added: %s", e)
        else:
            if added:
                print(f"added {len(added)} reported result sets from the papers (reports/reported/)")
    path = build_report(store, args.out)
    print(f"report written to {path}")
    return 0


def cmd_import_reported(args) -> int:
    from benchmark.reported import import_reported
    from benchmark.store import ResultStore
    from benchmark.tasks import make_params

    params = make_params(args.task, **_task_params(args))
    run_id = import_reported(
        ResultStore(args.store),
        args.file,
        name=args.name,
        dataset=args.dataset,
        task=args.task,
        protocol=args.protocol,
        task_params=vars(params),
        citation=args.citation,
        source=args.source,
    )
    print(f"imported {args.file} as reported result set '{args.name}' ({run_id})")
    return 0


def cmd_import_bundled(args) -> int:
    from benchmark.reported import import_bundled
    from benchmark.store import ResultStore

    ids = import_bundled(ResultStore(args.store))
    print(f"imported {len(ids)} reported result sets")
    return 0


def cmd_compare(args) -> int:
    from benchmark.compare import compare
    from benchmark.store import ResultStore

    res = compare(ResultStore(_existing_store(args)), args.a, args.b, args.metric, force=args.force)
    if args.json:
        print(json.dumps(res, indent=1, default=_json_default))
        return 0
    print(
        f"{args.metric}: {res['a']} vs {res['b']} on {res['n']} shared patients"
        + ("  [SYNTHETIC DATA]" if res.get("synthetic") else "")
    )
    if res.get("differences"):
        print("  NOT COMPARABLE (tested because of --force): " + "; ".join(res["differences"]))
    print(f"  mean {res['mean_a']:.4f} vs {res['mean_b']:.4f}")
    print(f"  paired t-test t = {res['t']:.3f}, p = {res['p_value']:.4g}; Wilcoxon p = {res['wilcoxon_p']:.4g}")
    return 0


def _json_default(o):
    try:
        return float(o)
    except (TypeError, ValueError):
        return str(o)


def cmd_check_adapter(args) -> int:
    from benchmark.conformance import check_adapter

    limit = {} if args.time_limit is None else {"time_limit": args.time_limit}
    results = check_adapter(
        _registered_name(args.name), budget=args.budget, task=args.task, data=args.data, threads=args.threads, **limit
    )
    print(f"checked on: {results.setup}")
    for r in results:
        print(f"{'PASS' if r.ok else 'FAIL'}  {r.name}" + (f"  ({r.detail})" if r.detail else ""))
    failed = [r for r in results if not r.ok]
    print(f"{len(results) - len(failed)} passed, {len(failed)} failed")
    return 1 if failed else 0


def cmd_reproduce(args) -> int:
    from benchmark.adapters import REGISTRY
    from benchmark.recipes import get_recipe, missing_weights, run_grid, with_overrides
    from benchmark.weights import MissingWeightsError

    recipe = get_recipe(args.recipe)
    methods = [REGISTRY.resolve_name(m.strip()) for m in args.methods.split(",") if m.strip()] if args.methods else None
    if args.rows and args.sop:
        raise BenchmarkError("give --rows or --sop, not both.")
    rows = recipe.rows_with("sop_minutes", args.sop) if args.sop else args.rows
    if args.dataset is None and args.dry_run:
        # A grid is shown on the first dataset of the paper's the suite can load (chbmit, or
        # video-folder for the videos the papers' private corpora stand for).
        args.dataset = recipe.dry_run_dataset()
    cells = with_overrides(
        recipe.cells(args.dataset, methods=methods, rows=rows, budget=args.budget), _overrides(args.set)
    )
    # A paper budget without the pretrained weights its methods load: refused before any run starts.
    missing = missing_weights(cells)
    if missing and not args.dry_run:
        raise MissingWeightsError(f"reproduce {recipe.name} --budget {args.budget}: {missing}")
    datasets = ", ".join(dict.fromkeys(c.dataset for c in cells))
    print(f"{recipe.name}: {recipe.title}; {len(cells)} run(s) on {datasets}, budget {args.budget}")
    if args.dry_run:
        _print_dry_run(recipe, args, cells, methods, rows, missing)
        return 0
    outcomes = []
    for outcome in run_grid(
        cells,
        seed=args.seed,
        data_dir=args.data_dir,
        store_path=args.store,
        splits_dir=args.splits_dir or _default_splits(),
        cache_dir=args.cache_dir,
        jobs=args.jobs,
        executor=args.executor,
        scheduler=args.scheduler,
        threads=args.threads,
        device=args.device,
        progress=not args.no_progress,
        fail_fast=args.fail_fast or None,
        isolation=args.isolation,
        fold_timeout=_fold_timeout(args.fold_timeout),
    ):
        outcomes.append(outcome)
        cell = outcome.cell
        label = "  [SYNTHETIC DATA]" if outcome.synthetic else ""
        what = outcome.run_id if outcome.run_id else outcome.error
        print(
            f"  [{len(outcomes)}/{len(cells)}] {cell.method:<20} {cell.row_label:<12} "
            f"{outcome.status:<11} {what}{label}",
            flush=True,
        )
        if args.fail_fast and not outcome.ok:
            print(f"stopping the grid at this run (--fail-fast); {len(cells) - len(outcomes)} run(s) not started")
            break
    from benchmark.reported import import_bundled
    from benchmark.store import ResultStore

    try:
        n_reported = len(import_bundled(ResultStore(args.store), paper=recipe.name))
    except BenchmarkError as exc:  # e.g. an installed copy without reports/reported/
        print(f"note: the paper's reported tables were not loaded: {exc}")
        n_reported = 0
    failed = [o for o in outcomes if not o.ok]
    print(f"{len(outcomes) - len(failed)} of {len(outcomes)} run(s) complete; loaded {n_reported} reported result sets")
    print(f"next: seizure-bench report  (then open papers/{recipe.name}.html in the report folder)")
    if failed:
        print(f"{len(failed)} run(s) failed or are partial; fix the cause and run the same command again to resume")
    return 3 if failed else 0


def _print_dry_run(recipe, args, cells, methods, rows, missing) -> None:
    """A grid's runs, windows of every budget and what would be refused, without running anything."""
    from benchmark.adapters import BUDGETS, REGISTRY

    # Windows of every budget, so the smoke budget's departure from the paper is in plain sight.
    for budget in BUDGETS:
        shown = recipe.cells(args.dataset, methods=methods, rows=rows, budget=budget)
        several = len({c.dataset for c in shown}) > 1
        texts = ", ".join(dict.fromkeys(c.window_text + (f" on {c.dataset}" if several else "") for c in shown))
        note = recipe.budget_note(budget)
        mark = " (this run)" if budget == args.budget else ""
        print(f"  windows, budget {budget}{mark}: {texts}" + (f"; {note}" if note else "; as in the paper"))
    for i, cell in enumerate(cells, 1):
        print(
            f"  [{i}/{len(cells)}] {cell.method:<20} {cell.row_label:<12} {cell.run_command(args.seed, args.data_dir)}"
        )
    if cells:
        print(f"windows, cache and steps of a run: {cells[-1].plan_command(args.seed, args.data_dir)}")
    if missing:
        print(f"note: these runs would be refused: {missing}")
    missing = sorted(m for m in {c.method for c in cells} if not REGISTRY.has(m))
    if missing:
        print(f"note: method(s) {', '.join(missing)} are not registered; their runs would fail")


COMMANDS = {
    "list": cmd_list,
    "data": cmd_data,
    "splits": cmd_splits,
    "run": cmd_run,
    "plan": cmd_plan,
    "results": cmd_results,
    "report": cmd_report,
    "import-reported": cmd_import_reported,
    "import-bundled": cmd_import_bundled,
    "score": cmd_score,
    "compare": cmd_compare,
    "check-adapter": cmd_check_adapter,
    "reproduce": cmd_reproduce,
}


def _table(headers, rows) -> None:
    rows = [tuple(str(c) for c in r) for r in rows]
    widths = [max([len(h)] + [len(r[i]) for r in rows]) for i, h in enumerate(headers)]
    print("  ".join(h.ljust(w) for h, w in zip(headers, widths)).rstrip())
    for r in rows:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip())


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=[logging.WARNING, logging.INFO, logging.DEBUG][min(args.verbose, 2)],
        format="%(levelname)s %(name)s: %(message)s",
    )
    for noisy in ("mne", "matplotlib", "urllib3"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    if args.store is None:
        args.store = _default_store()
        # Said when a read-only command finds no store: where the path came from.
        env = "SEIZURE_BENCH_STORE" in os.environ
        args.store_from = "from $SEIZURE_BENCH_STORE" if env else "the default, relative to the current folder"
    stop = {}

    def on_sigterm(signum, frame):
        # SIGTERM (kill, a batch scheduler's time limit) stops like Ctrl-C: the runner marks the
        # run interrupted and keeps the stored folds.
        stop["signal"] = signum
        raise KeyboardInterrupt

    try:
        previous = signal.signal(signal.SIGTERM, on_sigterm)
    except ValueError:  # not the main thread (main() called from a library): leave signals alone
        previous = None
    try:
        return COMMANDS[args.command](args)
    except BenchmarkError as exc:
        print(f"seizure-bench: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except BrokenPipeError:
        # Output piped into e.g. `head`: stop quietly, like other command-line tools.
        sys.stderr = open(os.devnull, "w")
        return 0
    except OSError as exc:
        # File-system trouble (unwritable --out, a full disk): the user's to fix, so no traceback.
        where = f" ({exc.filename})" if exc.filename else ""
        fix = (
            "free some space; stored results are kept"
            if exc.errno == errno.ENOSPC
            else "check the path and its permissions"
        )
        print(f"seizure-bench: error: {exc.strerror or exc}{where}; {fix}.", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        how = "interrupted (SIGTERM)" if stop else "interrupted"
        print(
            f"seizure-bench: {how}; finished folds are stored, run the same command again to resume.",
            file=sys.stderr,
        )
        return 128 + stop.get("signal", signal.SIGINT)
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
