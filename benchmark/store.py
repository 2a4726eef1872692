"""The SQLite results store: runs, folds, window scores, per-patient metrics and summaries.

One file holds every result set, whether produced by the harness (``kind="run"``) or imported from
a paper (``kind="reported"``). Each fold is written in a single transaction together with its window
scores, so a run killed mid-fold leaves either the whole fold or none of it, and a resumed run can
skip exactly the folds already stored. The store never deletes a run.

The schema version lives in ``PRAGMA user_version``; WAL journaling lets readers (reports) work
while one writer (a run) appends.

Opening a store runs SQLite's ``PRAGMA quick_check`` once per process and file: a damaged store is
refused before anything reads or writes it. A store that cannot be written (read-only file, folder
or file system) opens for reading; any write then fails with one line, as does a full disk, and a
failed write is rolled back, so what was stored before stays intact.
"""

from __future__ import annotations

import json
import logging
import math
import os
import socket
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, fields
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import numpy as np

from benchmark.errors import StoreError
from benchmark.metrics import METRICS, SCORE_COLUMNS, SUMMARY_COLUMNS

if TYPE_CHECKING:  # pandas is imported where frames are built: `results list` must answer at once without it
    import pandas as pd

log = logging.getLogger(__name__)

SCHEMA_VERSION = 3  # 2: scores.probs (class probabilities of multi-class runs); 3: folds.resumed
# "scored": hypothesis files made by another tool, scored here (benchmark.szcore).
RUN_KINDS = ("run", "reported", "scored")
# "failed": no fold succeeded; "interrupted": stopped (Ctrl-C, SIGTERM, an error) before the end.
RUN_STATUSES = ("running", "complete", "partial", "failed", "interrupted", "reported")
FOLD_STATUSES = ("ok", "failed")

_SCHEMA = """
CREATE TABLE runs (
    run_id TEXT PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('run', 'reported', 'scored')),
    method TEXT NOT NULL,
    dataset TEXT NOT NULL,
    task TEXT NOT NULL,
    protocol TEXT NOT NULL,
    method_version TEXT NOT NULL DEFAULT '',
    method_config TEXT NOT NULL DEFAULT '{}',
    index_hash TEXT NOT NULL DEFAULT '',
    synthetic INTEGER NOT NULL DEFAULT 0,
    task_params TEXT NOT NULL DEFAULT '{}',
    split_hash TEXT NOT NULL DEFAULT '',
    seed INTEGER,
    budget TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL,
    created_at TEXT NOT NULL DEFAULT '',
    finished_at TEXT NOT NULL DEFAULT '',
    provenance TEXT NOT NULL DEFAULT '{}',
    leakage TEXT NOT NULL DEFAULT '{}',
    exclusions TEXT NOT NULL DEFAULT '[]',
    citation TEXT NOT NULL DEFAULT '',
    source TEXT NOT NULL DEFAULT '',
    notes TEXT NOT NULL DEFAULT '',
    display_name TEXT NOT NULL DEFAULT ''
);
CREATE TABLE folds (
    run_id TEXT NOT NULL REFERENCES runs(run_id),
    fold_id TEXT NOT NULL,
    patient TEXT,
    status TEXT NOT NULL CHECK (status IN ('ok', 'failed')),
    metrics TEXT NOT NULL DEFAULT '{}',
    error TEXT NOT NULL DEFAULT '',
    traceback TEXT NOT NULL DEFAULT '',
    n_train INTEGER NOT NULL DEFAULT 0,
    n_test INTEGER NOT NULL DEFAULT 0,
    fit_seconds REAL NOT NULL DEFAULT 0,
    predict_seconds REAL NOT NULL DEFAULT 0,
    leakage_ok INTEGER NOT NULL DEFAULT 1,
    resumed INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (run_id, fold_id)
);
CREATE TABLE scores (
    run_id TEXT NOT NULL,
    fold_id TEXT NOT NULL,
    patient TEXT,
    recording TEXT,
    start REAL NOT NULL,
    "end" REAL NOT NULL,
    label INTEGER NOT NULL,
    score REAL NOT NULL,
    pred INTEGER NOT NULL,
    probs TEXT,
    FOREIGN KEY (run_id, fold_id) REFERENCES folds(run_id, fold_id)
);
CREATE INDEX scores_by_fold ON scores(run_id, fold_id);
CREATE TABLE patient_metrics (
    run_id TEXT NOT NULL REFERENCES runs(run_id),
    patient TEXT NOT NULL,
    metric TEXT NOT NULL,
    value REAL,
    PRIMARY KEY (run_id, patient, metric)
);
CREATE TABLE summary (
    run_id TEXT NOT NULL REFERENCES runs(run_id),
    metric TEXT NOT NULL,
    mean REAL,
    std REAL,
    ci_low REAL,
    ci_high REAL,
    n INTEGER NOT NULL,
    PRIMARY KEY (run_id, metric)
);
"""


@dataclass
class RunRecord:
    """One result set: a benchmark run or a paper's reported per-patient table.

    ``status`` is ``running`` while folds are written, ``complete`` when every fold succeeded,
    ``partial`` when some failed, ``failed`` when none succeeded, ``interrupted`` when the run
    stopped before its end, and ``reported`` for imported paper results (see
    :func:`effective_status` for how a reader tells a live ``running`` run from a dead one). ``provenance`` holds
    package versions, git commit, hardware, timings, parameter count, weights source and device;
    ``leakage`` is ``{"ok": bool, "checked_folds": int, "violations": [...]}``; ``exclusions`` is a
    list of ``{"scope", "patient", "recording", "reason"}`` dicts.
    """

    run_id: str
    kind: str
    method: str
    dataset: str
    task: str
    protocol: str
    method_version: str = ""
    method_config: dict = field(default_factory=dict)
    index_hash: str = ""
    synthetic: bool = False
    task_params: dict = field(default_factory=dict)
    split_hash: str = ""
    seed: int | None = None
    budget: str = ""
    status: str = "running"
    created_at: str = ""
    finished_at: str = ""
    provenance: dict = field(default_factory=dict)
    leakage: dict = field(default_factory=dict)
    exclusions: list = field(default_factory=list)
    citation: str = ""
    source: str = ""
    notes: str = ""
    display_name: str = ""

    @property
    def label(self) -> str:
        """Name to show for this result set (display name, else method)."""
        return self.display_name or self.method


@dataclass
class FoldResult:
    """Outcome of one fold: its metrics, or the error that made it fail."""

    fold_id: str
    patient: str | None
    status: str
    metrics: dict = field(default_factory=dict)
    error: str = ""
    traceback: str = ""
    n_train: int = 0
    n_test: int = 0
    fit_seconds: float = 0.0
    predict_seconds: float = 0.0
    leakage_ok: bool = True
    #: The fold started with files an earlier attempt left in its work folder (e.g. a pre-trained
    #: encoder it resumed from): its fit seconds leave out that attempt's work.
    resumed: bool = False


_JSON_RUN_FIELDS = {"method_config", "task_params", "provenance", "leakage", "exclusions"}
_RUN_FIELDS = tuple(f.name for f in fields(RunRecord))
_FOLD_FIELDS = tuple(f.name for f in fields(FoldResult))


def _columns(conn: sqlite3.Connection, table: str) -> set[str]:
    return {row[1] for row in conn.execute(f"PRAGMA table_info({table})")}


def utc_now() -> str:
    """Current UTC time as an ISO-8601 string with seconds."""
    return datetime.now(UTC).isoformat(timespec="seconds")


def _jsonable(obj: Any) -> Any:
    """Make ``obj`` strict-JSON friendly: NaN/inf become null, numpy scalars plain numbers."""
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple, set)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, np.generic):
        obj = obj.item()
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, (str, int, float, bool)) or obj is None:
        return obj
    return str(obj)


def _dumps(obj: Any) -> str:
    return json.dumps(_jsonable(obj), sort_keys=True, allow_nan=False)


def _float_or_nan(v: Any) -> float:
    return float("nan") if v is None else float(v)


# A "running" run with no sign of life for this long is shown as interrupted, whatever its host.
STALE_RUNNING_S = 3 * 24 * 3600


def effective_status(rec: RunRecord, now: datetime | None = None) -> str:
    """The status to show for a run: its stored one, except that a ``running`` run whose process
    is gone is ``interrupted``.

    A running run records the host, pid and start time of its process and a heartbeat time
    (updated after each stored fold) in ``provenance["process"]``. It reads as ``interrupted``
    when its host is this host and that process no longer runs (pid gone, a zombie, or another
    process under a reused pid), or, from any host, when its last heartbeat (else its creation
    time) is older than :data:`STALE_RUNNING_S` (3 days).
    """
    if rec.status != "running":
        return rec.status
    from benchmark.provenance import process_start_time

    proc = (rec.provenance or {}).get("process") or {}
    if proc.get("host") == socket.gethostname() and proc.get("pid"):
        started = process_start_time(int(proc["pid"]))
        if started is None or (proc.get("started") is not None and abs(started - proc["started"]) > 1.0):
            return "interrupted"
        return "running"
    last = proc.get("heartbeat") or rec.created_at
    try:
        seen = datetime.fromisoformat(last)
    except (TypeError, ValueError):
        return "running"
    if seen.tzinfo is None:
        seen = seen.replace(tzinfo=UTC)
    age = ((now or datetime.now(UTC)) - seen).total_seconds()
    return "interrupted" if age > STALE_RUNNING_S else "running"


def on_synthetic_data(run) -> bool:
    """Whether a result set is on synthetic data: flagged so (a run on a folder holding
    ``SYNTHETIC.json``), or stated on a dataset that is synthetic by definition (a table
    imported as results on ``chbmit-synthetic`` is about synthetic recordings too)."""
    if run.synthetic:
        return True
    from benchmark.datasets import DATASETS

    spec = DATASETS.get(run.dataset)
    return bool(spec is not None and spec.synthetic)


def run_isolation(run) -> str:
    """How a result set's adapter ran, as every board, the report and the CLI show it:
    ``"isolated"`` (every fold sandboxed), ``"trusted"`` (in-process, or a run resumed across
    modes), ``"unknown"`` (recorded before isolation was recorded: it ran as trusted) or ``""``
    (a reported or scored set: no method ran here)."""
    if run.kind in ("reported", "scored"):
        return ""
    value = (run.provenance or {}).get("isolation")
    if isinstance(value, dict):  # tolerate a richer record: {"mode": "isolated", ...}
        value = value.get("mode")
    return value if value in ("isolated", "trusted") else "unknown"


# Stores whose quick_check passed in this process (resolved paths): checked once per process.
_CHECKED: set[str] = set()


class ResultStore:
    """Results store on one SQLite file.

    Parameters
    ----------
    path
        Database file; created (with its parent directory) if missing.

    Raises
    ------
    StoreError
        The file cannot be opened, is not a SQLite database, is another program's database, or
        was written by a newer seizure-bench.

    Examples
    --------
    >>> with ResultStore(tmp / "results.db") as store:  # doctest: +SKIP
    ...     store.create_run(RunRecord("r1", "run", "eegnet", "chbmit", "prediction", "loocv"))
    """

    def __init__(self, path: str | Path):
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise StoreError(f"cannot create the directory of results store {self.path}: {e.strerror}") from e
        if self.path.is_dir():
            raise StoreError(
                f"results store path {self.path} is a directory; pass a file path such as {self.path / 'results.db'}"
            )
        exists = self.path.exists()
        # SQLite writes the file and, in WAL mode, creates files beside it: both must be writable.
        # (os.access also sees read-only file systems, which stop even root.)
        self.read_only = (exists and not os.access(self.path, os.W_OK)) or not os.access(self.path.parent, os.W_OK)
        if self.read_only and not exists:
            raise StoreError(
                f"cannot create results store {self.path}: its folder is read-only; pass --store a writable path"
            )
        try:
            self._conn = self._connect()
        except sqlite3.Error as e:
            raise StoreError(f"cannot open results store {self.path}: {e}") from e
        try:
            self._quick_check()
            self._init_schema()
            self._admit_scored_kind()
        except sqlite3.DatabaseError as e:
            self._conn.close()
            mapped = self._store_error(e)
            if mapped is e:  # e.g. "file is not a database"
                mapped = StoreError(
                    f"{self.path} is not a readable seizure-bench results store ({e}); "
                    "move it away or choose another store path"
                )
            raise mapped from e
        except StoreError:
            self._conn.close()
            raise

    def _connect(self) -> sqlite3.Connection:
        # Autocommit mode: transactions are opened explicitly in _transaction().
        if not self.read_only:
            return sqlite3.connect(str(self.path), timeout=30.0, isolation_level=None)
        uri = "file:" + quote(str(self.path.resolve()))
        conn = sqlite3.connect(uri + "?mode=ro", uri=True, timeout=30.0, isolation_level=None)
        try:
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
            return conn
        except sqlite3.OperationalError:
            # A WAL store in a read-only folder: its shared-memory file cannot be created. The
            # last writer checkpointed the WAL on close, so reading the file alone is complete.
            conn.close()
            return sqlite3.connect(uri + "?immutable=1", uri=True, timeout=30.0, isolation_level=None)

    def _quick_check(self) -> None:
        key = str(self.path.resolve())
        if key in _CHECKED:
            return
        rows = self._conn.execute("PRAGMA quick_check").fetchall()
        if [tuple(r) for r in rows] != [("ok",)]:
            more = f" and {len(rows) - 1} more problem(s)" if len(rows) > 1 else ""
            raise StoreError(self._damaged(f"SQLite quick_check: {rows[0][0]}{more}"))
        _CHECKED.add(key)

    def _damaged(self, detail: str) -> str:
        return (
            f"results store {self.path} is damaged ({detail}); nothing was read from or written to it. "
            f"Restore it from a backup, or move it aside (e.g. mv {self.path} {self.path}.damaged) "
            "to start a new store"
        )

    def _store_error(self, e: sqlite3.Error) -> Exception:
        """The one-line error for a SQLite failure, or ``e`` itself when it is not the user's to fix."""
        code = (getattr(e, "sqlite_errorcode", None) or 0) & 0xFF
        text = str(e).lower()
        if code == sqlite3.SQLITE_FULL or "disk is full" in text:
            return StoreError(
                f"results store {self.path}: the disk is full ({e}); this write was rolled back and "
                "everything stored before is intact. Free some space and run the same command again to resume"
            )
        if code == sqlite3.SQLITE_READONLY or "readonly" in text or "read-only" in text:
            return self._read_only_error(str(e))
        if code == sqlite3.SQLITE_CORRUPT or "malformed" in text:
            return StoreError(self._damaged(str(e)))
        if code == sqlite3.SQLITE_IOERR or "disk i/o error" in text:
            return StoreError(
                f"results store {self.path}: the disk failed a write ({e}); this write was rolled back. "
                "Check the disk and its free space, then run the same command again to resume"
            )
        return e

    def _read_only_error(self, why: str = "") -> StoreError:
        detail = f" ({why})" if why else ""
        return StoreError(
            f"results store {self.path} is read-only{detail}; nothing was written. Make the file and its "
            "folder writable, or pass --store a writable path (reading it, e.g. for report, still works)"
        )

    def require_writable(self) -> None:
        """Refuse, before any work, a command that will write into a read-only store."""
        if self.read_only:
            raise self._read_only_error("file or folder not writable")

    # -- lifecycle ---------------------------------------------------------------------------

    def _init_schema(self) -> None:
        conn = self._conn
        conn.execute("PRAGMA foreign_keys = ON")
        # With WAL, NORMAL still never corrupts the file; only the last commits may be lost on power
        # failure, and a lost fold is simply re-run on resume.
        conn.execute("PRAGMA synchronous = NORMAL")
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"results store {self.path} has schema version {version}, newer than this seizure-bench "
                f"({SCHEMA_VERSION}); upgrade seizure-bench"
            )
        if 0 < version < SCHEMA_VERSION:
            if not self.read_only:  # a read-only store is read as it is (missing columns read as defaults)
                self._migrate(version)
            return
        if version == 0:
            tables = conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
            if tables:
                raise StoreError(
                    f"{self.path} is a SQLite database but not a seizure-bench results store; choose another store path"
                )
            mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            if str(mode).lower() != "wal":
                log.warning("results store %s: WAL journaling unavailable (journal_mode=%s)", self.path, mode)
            with self._transaction():
                # Another process may have created the schema while we waited for the lock.
                if conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION:
                    return
                for stmt in _SCHEMA.split(";"):
                    if stmt.strip():
                        conn.execute(stmt)
                conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    def _migrate(self, version: int) -> None:
        """Bring a store written by an older seizure-bench up to :data:`SCHEMA_VERSION` in place.

        Only additive changes: every result already stored stays readable and unchanged.
        """
        conn = self._conn
        with self._transaction():
            current = conn.execute("PRAGMA user_version").fetchone()[0]  # another process may have won
            if current < 2 and "probs" not in _columns(conn, "scores"):
                conn.execute("ALTER TABLE scores ADD COLUMN probs TEXT")
            if current < 3 and "resumed" not in _columns(conn, "folds"):
                conn.execute("ALTER TABLE folds ADD COLUMN resumed INTEGER NOT NULL DEFAULT 0")
            conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        log.info("results store %s upgraded from schema %d to %d", self.path, version, SCHEMA_VERSION)

    def _admit_scored_kind(self) -> None:
        """Let a store made before scored hypothesis sets hold them: its ``runs`` table is rebuilt
        with the wider kind check, rows unchanged. Older versions read such a store as before, so the
        schema version stays; a read-only store is left as it is (nothing can be stored there)."""
        conn = self._conn

        def table_sql() -> str:
            row = conn.execute("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'runs'").fetchone()
            return row[0] if row else "'scored'"

        if self.read_only or "'scored'" in table_sql():
            return
        create = _SCHEMA[_SCHEMA.index("CREATE TABLE runs (") : _SCHEMA.index("CREATE TABLE folds (")]
        conn.execute("PRAGMA foreign_keys = OFF")  # folds and metrics refer to runs while it is replaced
        try:
            with self._transaction():
                if "'scored'" in table_sql():  # another process did it while we waited for the lock
                    return
                cols = ", ".join(f'"{r[1]}"' for r in conn.execute("PRAGMA table_info(runs)"))
                conn.execute(create.replace("CREATE TABLE runs (", "CREATE TABLE runs_new (").rstrip().rstrip(";"))
                conn.execute(f"INSERT INTO runs_new ({cols}) SELECT {cols} FROM runs")
                conn.execute("DROP TABLE runs")
                conn.execute("ALTER TABLE runs_new RENAME TO runs")
        finally:
            conn.execute("PRAGMA foreign_keys = ON")
        log.info("results store %s: runs table now admits scored hypothesis sets", self.path)

    def close(self) -> None:
        """Close the connection (idempotent)."""
        self._conn.close()

    def __enter__(self) -> ResultStore:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        if self.read_only:
            raise self._read_only_error("file or folder not writable")
        # IMMEDIATE takes the write lock up front, so a second writer waits (timeout) instead of
        # failing half-way through its transaction.
        try:
            self._conn.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as e:
            raise self._store_error(e) from e
        try:
            yield self._conn
            self._conn.execute("COMMIT")
        except BaseException as exc:
            if self._conn.in_transaction:  # SQLite may already have rolled back (e.g. disk full)
                try:
                    self._conn.execute("ROLLBACK")
                except sqlite3.Error:
                    pass
            if isinstance(exc, sqlite3.Error):
                mapped = self._store_error(exc)
                if mapped is not exc:
                    raise mapped from exc
            raise

    # -- runs --------------------------------------------------------------------------------

    @staticmethod
    def _run_values(rec: RunRecord) -> list[Any]:
        values = []
        for name in _RUN_FIELDS:
            v = getattr(rec, name)
            if name in _JSON_RUN_FIELDS:
                v = _dumps(v)
            elif name == "synthetic":
                v = int(bool(v))
            values.append(v)
        return values

    @staticmethod
    def _run_from_row(row: sqlite3.Row | tuple) -> RunRecord:
        d = dict(zip(_RUN_FIELDS, row))
        for name in _JSON_RUN_FIELDS:
            d[name] = json.loads(d[name]) if d[name] else ({} if name != "exclusions" else [])
        d["synthetic"] = bool(d["synthetic"])
        return RunRecord(**d)

    def create_run(self, rec: RunRecord) -> RunRecord:
        """Insert a run; if ``rec.run_id`` is already stored, leave it untouched.

        Returns
        -------
        RunRecord
            The stored record (the existing one when the run id was already present), so a
            resumed run picks up its original settings.
        """
        if rec.kind not in RUN_KINDS:
            raise ValueError(f"run kind must be one of {RUN_KINDS}, got {rec.kind!r}")
        if rec.status not in RUN_STATUSES:
            raise ValueError(f"run status must be one of {RUN_STATUSES}, got {rec.status!r}")
        if not rec.created_at:
            rec = RunRecord(**{**asdict(rec), "created_at": utc_now()})
        cols = ", ".join(f'"{c}"' for c in _RUN_FIELDS)
        marks = ", ".join("?" for _ in _RUN_FIELDS)
        with self._transaction() as conn:
            conn.execute(f"INSERT OR IGNORE INTO runs ({cols}) VALUES ({marks})", self._run_values(rec))
        return self.get_run(rec.run_id)

    def set_process(self, run_id: str, process: dict[str, Any], fold_isolation: dict[str, str] | None = None) -> None:
        """Record the process writing a run and its heartbeat in ``provenance["process"]``
        (read by :func:`effective_status`), and how newly stored folds ran
        (``provenance["fold_isolation"]``, so an interrupted session's folds keep theirs)."""
        with self._transaction() as conn:
            row = conn.execute("SELECT provenance FROM runs WHERE run_id = ?", (run_id,)).fetchone()
            if row is not None:
                prov = json.loads(row[0] or "{}")
                prov["process"] = process
                if fold_isolation:
                    prov["fold_isolation"] = {**prov.get("fold_isolation", {}), **fold_isolation}
                conn.execute("UPDATE runs SET provenance = ? WHERE run_id = ?", (_dumps(prov), run_id))

    def get_run(self, run_id: str) -> RunRecord | None:
        """The run with this exact id, or ``None``."""
        cols = ", ".join(f'"{c}"' for c in _RUN_FIELDS)
        row = self._conn.execute(f"SELECT {cols} FROM runs WHERE run_id = ?", (run_id,)).fetchone()
        return self._run_from_row(row) if row else None

    def update_run(self, run_id: str, **fields_: Any) -> RunRecord:
        """Set some fields of a stored run (e.g. ``status="complete", finished_at=utc_now()``).

        Returns
        -------
        RunRecord
            The updated record.
        """
        unknown = sorted(set(fields_) - set(_RUN_FIELDS) | ({"run_id"} & set(fields_)))
        if unknown:
            raise TypeError(f"update_run() cannot set {unknown}; settable fields: {_RUN_FIELDS[1:]}")
        if "status" in fields_ and fields_["status"] not in RUN_STATUSES:
            raise ValueError(f"run status must be one of {RUN_STATUSES}, got {fields_['status']!r}")
        if not fields_:
            rec = self.get_run(run_id)
        else:
            sets, values = [], []
            for name, v in fields_.items():
                if name in _JSON_RUN_FIELDS:
                    v = _dumps(v)
                elif name == "synthetic":
                    v = int(bool(v))
                sets.append(f'"{name}" = ?')
                values.append(v)
            with self._transaction() as conn:
                cur = conn.execute(f"UPDATE runs SET {', '.join(sets)} WHERE run_id = ?", [*values, run_id])
            rec = self.get_run(run_id) if cur.rowcount else None
        if rec is None:
            raise StoreError(f"no run '{run_id}' in results store {self.path}")
        return rec

    def list_runs(
        self,
        dataset: str | None = None,
        task: str | None = None,
        protocol: str | None = None,
        kind: str | None = None,
    ) -> list[RunRecord]:
        """Runs matching every given filter, oldest first."""
        where, values = [], []
        for name, v in (("dataset", dataset), ("task", task), ("protocol", protocol), ("kind", kind)):
            if v is not None:
                where.append(f"{name} = ?")
                values.append(v)
        cols = ", ".join(f'"{c}"' for c in _RUN_FIELDS)
        sql = f"SELECT {cols} FROM runs"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY created_at, run_id"
        return [self._run_from_row(r) for r in self._conn.execute(sql, values)]

    def resolve(self, ref: str) -> RunRecord:
        """Find a result set from what a user typed.

        ``ref`` may be a run id, the display name of a reported result set (exact, then
        case-insensitive), or a prefix of exactly one run id.

        Raises
        ------
        StoreError
            No result set matches, or several do (the message lists them).
        """
        rec = self.get_run(ref)
        if rec is not None:
            return rec
        runs = self.list_runs()
        reported = [r for r in runs if r.kind == "reported"]
        for same in (lambda r: r.display_name == ref, lambda r: r.display_name.lower() == ref.lower()):
            hits = [r for r in reported if same(r)]
            if len(hits) == 1:
                return hits[0]
            if hits:
                raise StoreError(f"'{ref}' names {len(hits)} reported result sets; use a run id: {_listing(hits)}")
        hits = [r for r in runs if r.run_id.startswith(ref)]
        if len(hits) == 1:
            return hits[0]
        if hits:
            raise StoreError(f"'{ref}' is the prefix of {len(hits)} run ids; type more of one: {_listing(hits)}")
        names = [r.run_id for r in runs] + [r.display_name for r in reported]
        close = _closest(ref, names)
        known = (
            (f" Closest: {', '.join(close)}." if close else "") + " `seizure-bench results list` shows all."
            if runs
            else " The store is empty."
        )
        raise StoreError(f"unknown run '{ref}': no result set '{ref}' in {self.path}.{known}")

    # -- folds and scores ----------------------------------------------------------------------

    def save_fold(self, run_id: str, fold: FoldResult, scores: pd.DataFrame | None = None) -> None:
        """Store one fold and its window scores in a single transaction.

        Any earlier version of the fold (a failed attempt, a re-run) is replaced. If anything goes
        wrong part-way, nothing of the fold is written and a previous version stays as it was.

        Parameters
        ----------
        scores
            One row per test window with columns ``patient, recording, start, end, label, score,
            pred`` (a ``fold_id`` column, if present, must equal ``fold.fold_id``); ``None`` for a
            failed fold.
        """
        if fold.status not in FOLD_STATUSES:
            raise ValueError(f"fold status must be one of {FOLD_STATUSES}, got {fold.status!r}")
        values = [
            run_id,
            fold.fold_id,
            fold.patient,
            fold.status,
            _dumps(fold.metrics),
            fold.error,
            fold.traceback,
            int(fold.n_train),
            int(fold.n_test),
            float(fold.fit_seconds),
            float(fold.predict_seconds),
            int(bool(fold.leakage_ok)),
            int(bool(fold.resumed)),
        ]
        with self._transaction() as conn:
            conn.execute("DELETE FROM scores WHERE run_id = ? AND fold_id = ?", (run_id, fold.fold_id))
            conn.execute("DELETE FROM folds WHERE run_id = ? AND fold_id = ?", (run_id, fold.fold_id))
            try:
                # Columns named: a store upgraded later (columns added) still takes this row.
                conn.execute(
                    f"INSERT INTO folds (run_id, {', '.join(_FOLD_FIELDS)}) VALUES ({', '.join('?' * len(values))})",
                    values,
                )
            except sqlite3.IntegrityError as e:
                raise StoreError(f"cannot save fold '{fold.fold_id}': no run '{run_id}' in {self.path} ({e})") from e
            if scores is not None and len(scores):
                conn.executemany(
                    "INSERT INTO scores "
                    '(run_id, fold_id, patient, recording, start, "end", label, score, pred, probs) '
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    _score_rows(run_id, fold.fold_id, scores),
                )

    def fold_ids(self, run_id: str, status: str | None = None) -> set[str]:
        """Ids of the stored folds of a run, optionally only those with ``status``."""
        sql, values = "SELECT fold_id FROM folds WHERE run_id = ?", [run_id]
        if status is not None:
            sql += " AND status = ?"
            values.append(status)
        return {r[0] for r in self._conn.execute(sql, values)}

    def folds(self, run_id: str) -> list[FoldResult]:
        """Stored folds of a run in ``fold_id`` order (metrics stored as null read back as NaN)."""
        have = _columns(self._conn, "folds")  # a read-only store of an older schema lacks some
        cols = ", ".join(c if c in have else f"0 AS {c}" for c in _FOLD_FIELDS)
        out = []
        sql = f"SELECT {cols} FROM folds WHERE run_id = ? ORDER BY fold_id"
        for row in self._conn.execute(sql, (run_id,)):
            d = dict(zip(_FOLD_FIELDS, row))
            d["metrics"] = {k: _float_or_nan(v) for k, v in json.loads(d["metrics"]).items()}
            d["leakage_ok"], d["resumed"] = bool(d["leakage_ok"]), bool(d["resumed"])
            out.append(FoldResult(**d))
        return out

    def scores(self, run_id: str, *, probs: bool = False) -> pd.DataFrame:
        """All window scores of a run, by fold then in the order they were saved.

        With ``probs``, a ``probs`` column holds each window's class probabilities (a list) for
        multi-class runs and ``None`` for binary ones.
        """
        import pandas as pd

        extra = "" if not probs else ", probs" if "probs" in _columns(self._conn, "scores") else ", NULL AS probs"
        cur = self._conn.execute(
            f'SELECT fold_id, patient, recording, start, "end", label, score, pred{extra} FROM scores '
            "WHERE run_id = ? ORDER BY fold_id, rowid",
            (run_id,),
        )
        df = pd.DataFrame(cur.fetchall(), columns=list(SCORE_COLUMNS) + (["probs"] if probs else []))
        if probs:
            df["probs"] = [None if v is None else json.loads(v) for v in df["probs"]]
        return df.astype({"start": float, "end": float, "label": int, "score": float, "pred": int})

    def label_pred_counts(self, run_id: str) -> pd.DataFrame:
        """Number of window scores per (true class, predicted class) of a run: columns ``label``,
        ``pred``, ``n``.

        Counted by SQLite (``GROUP BY``), so a run of millions of windows gives its confusion
        matrix without loading its scores.
        """
        import pandas as pd

        cur = self._conn.execute(
            "SELECT label, pred, COUNT(*) FROM scores WHERE run_id = ? GROUP BY label, pred ORDER BY label, pred",
            (run_id,),
        )
        return pd.DataFrame(cur.fetchall(), columns=["label", "pred", "n"]).astype(int)

    def score_histogram(self, run_id: str, bins: int = 100) -> pd.DataFrame:
        """Number of window scores per (patient, true class, predicted class, score bin) of a run:
        columns ``patient``, ``label``, ``pred``, ``bin``, ``n``; bin ``b`` holds scores in
        ``[b / bins, (b + 1) / bins)``, a score of 1 the last bin.

        Counted by SQLite in one scan, so a run of millions of windows gives its ROC curves and (summed
        over patients and bins) the counts of :meth:`label_pred_counts` without loading its scores.
        """
        import pandas as pd

        cur = self._conn.execute(
            "SELECT patient, label, pred, CAST(MIN(MAX(score, 0.0), 1.0) * ? AS INTEGER) AS b, COUNT(*) "
            "FROM scores WHERE run_id = ? GROUP BY patient, label, pred, b ORDER BY patient, label, pred, b",
            (bins, run_id),
        )
        df = pd.DataFrame(cur.fetchall(), columns=["patient", "label", "pred", "bin", "n"])
        df["bin"] = df["bin"].clip(upper=bins - 1)
        return df.astype({"label": int, "pred": int, "bin": int, "n": int})

    def recordings_scored(self, run_id: str, patient: str) -> pd.DataFrame:
        """The recordings of one patient of a run that have window scores: columns ``recording``,
        ``n`` (windows) and ``n_positive`` (windows whose true class is not 0), by recording."""
        import pandas as pd

        cur = self._conn.execute(
            "SELECT recording, COUNT(*), SUM(label != 0) FROM scores WHERE run_id = ? AND patient = ? "
            "GROUP BY recording ORDER BY recording",
            (run_id, patient),
        )
        return pd.DataFrame(cur.fetchall(), columns=["recording", "n", "n_positive"]).astype(
            {"n": int, "n_positive": int}
        )

    def recording_scores(self, run_id: str, patient: str, recording: str) -> pd.DataFrame:
        """The window scores of one recording of a run: columns ``start``, ``end``, ``label``,
        ``score``, ``pred``, by start time (one recording at a time keeps a long run out of memory)."""
        import pandas as pd

        cur = self._conn.execute(
            'SELECT start, "end", label, score, pred FROM scores WHERE run_id = ? AND patient = ? AND recording = ? '
            "ORDER BY start, rowid",
            (run_id, patient, recording),
        )
        df = pd.DataFrame(cur.fetchall(), columns=["start", "end", "label", "score", "pred"])
        return df.astype({"start": float, "end": float, "label": int, "score": float, "pred": int})

    # -- per-patient metrics and summary -------------------------------------------------------

    def save_patient_metrics(self, run_id: str, df: pd.DataFrame) -> None:
        """Replace a run's per-patient metrics (index patient, one column per metric)."""
        rows = _metric_rows(run_id, df)
        with self._transaction() as conn:
            self._replace_rows(conn, "patient_metrics", run_id, rows)

    def _replace_rows(self, conn: sqlite3.Connection, table: str, run_id: str, rows: list[tuple]) -> None:
        """Replace a run's rows of ``patient_metrics`` or ``summary`` inside the open transaction."""
        conn.execute(f"DELETE FROM {table} WHERE run_id = ?", (run_id,))
        if not rows:
            return
        try:
            conn.executemany(f"INSERT INTO {table} VALUES ({', '.join('?' * len(rows[0]))})", rows)
        except sqlite3.IntegrityError as e:
            what = "per-patient metrics" if table == "patient_metrics" else table
            raise StoreError(f"cannot save {what}: no run '{run_id}' in {self.path} ({e})") from e

    def patient_metrics(self, run_id: str) -> pd.DataFrame:
        """Per-patient metrics of a run: index patient (sorted), metrics as columns, NULL as NaN."""
        import pandas as pd

        cur = self._conn.execute("SELECT patient, metric, value FROM patient_metrics WHERE run_id = ?", (run_id,))
        long = pd.DataFrame(cur.fetchall(), columns=["patient", "metric", "value"])
        if long.empty:
            return pd.DataFrame(index=pd.Index([], name="patient"), dtype=float)
        long["value"] = long["value"].astype(float)
        wide = long.pivot(index="patient", columns="metric", values="value").sort_index()
        order = [m for m in METRICS if m in wide.columns]
        order += sorted(c for c in wide.columns if c not in METRICS)
        wide = wide[order]
        wide.columns.name = None
        return wide

    def save_summary(self, run_id: str, df: pd.DataFrame) -> None:
        """Replace a run's summary (index metric; columns mean, std, ci_low, ci_high, n)."""
        rows = _summary_rows(run_id, df)
        with self._transaction() as conn:
            self._replace_rows(conn, "summary", run_id, rows)

    def create_result_set(self, rec: RunRecord, per_patient: pd.DataFrame, summary: pd.DataFrame) -> RunRecord:
        """Store a finished result set (its record, per-patient metrics and summary) in one
        transaction: an interruption leaves all of it or none. A run id already stored is refused."""
        if rec.kind not in RUN_KINDS:
            raise ValueError(f"run kind must be one of {RUN_KINDS}, got {rec.kind!r}")
        metric_rows, summary_rows = _metric_rows(rec.run_id, per_patient), _summary_rows(rec.run_id, summary)
        cols = ", ".join(f'"{c}"' for c in _RUN_FIELDS)
        marks = ", ".join("?" for _ in _RUN_FIELDS)
        with self._transaction() as conn:
            try:
                conn.execute(f"INSERT INTO runs ({cols}) VALUES ({marks})", self._run_values(rec))
            except sqlite3.IntegrityError:
                raise StoreError(f"{rec.run_id} is already in {self.path}") from None
            self._replace_rows(conn, "patient_metrics", rec.run_id, metric_rows)
            self._replace_rows(conn, "summary", rec.run_id, summary_rows)
        return self.get_run(rec.run_id)

    def summary(self, run_id: str) -> pd.DataFrame:
        """A run's summary: index metric (in saved order), columns mean, std, ci_low, ci_high, n."""
        import pandas as pd

        cur = self._conn.execute(
            "SELECT metric, mean, std, ci_low, ci_high, n FROM summary WHERE run_id = ? ORDER BY rowid",
            (run_id,),
        )
        df = pd.DataFrame(cur.fetchall(), columns=["metric", *SUMMARY_COLUMNS]).set_index("metric")
        return df.astype({c: float for c in SUMMARY_COLUMNS[:-1]} | {"n": int})

    def summary_means(self) -> dict[str, dict[str, float]]:
        """``{run_id: {metric: mean over patients}}`` of every run, without pandas (for ``results list``)."""
        out: dict[str, dict[str, float]] = {}
        for run_id, metric, mean in self._conn.execute("SELECT run_id, metric, mean FROM summary ORDER BY rowid"):
            out.setdefault(run_id, {})[metric] = _float_or_nan(mean)
        return out


def _metric_rows(run_id: str, df: pd.DataFrame) -> list[tuple]:
    import pandas as pd

    rows = []
    for patient, rec in df.iterrows():
        for metric, value in rec.items():
            v = pd.to_numeric(value, errors="coerce")
            rows.append((run_id, str(patient), str(metric), None if pd.isna(v) else float(v)))
    return rows


def _summary_rows(run_id: str, df: pd.DataFrame) -> list[tuple]:
    import pandas as pd

    missing = [c for c in SUMMARY_COLUMNS if c not in df.columns]
    if missing:
        raise ValueError(f"summary lacks columns {missing}")
    rows = []
    for metric, r in df.iterrows():
        stats = [None if pd.isna(r[c]) else float(r[c]) for c in SUMMARY_COLUMNS[:-1]]
        rows.append((run_id, str(metric), *stats, int(r["n"])))
    return rows


def _score_rows(run_id: str, fold_id: str, scores: pd.DataFrame) -> Iterator[tuple]:
    """Rows for the scores table; raises ValueError on missing columns or a foreign fold id."""
    import pandas as pd

    needed = [c for c in SCORE_COLUMNS if c != "fold_id"]
    missing = [c for c in needed if c not in scores.columns]
    if missing:
        raise ValueError(f"scores of fold '{fold_id}' lack columns {missing}")
    if "fold_id" in scores.columns and not (scores["fold_id"].astype(str) == str(fold_id)).all():
        raise ValueError(f"scores passed for fold '{fold_id}' contain rows of other folds")
    probs = scores["probs"].tolist() if "probs" in scores.columns else [None] * len(scores)
    for r, pr in zip(scores[needed].itertuples(index=False, name=None), probs):
        patient, recording, start, end, label, score, pred = r
        yield (
            run_id,
            fold_id,
            None if pd.isna(patient) else str(patient),
            None if pd.isna(recording) else str(recording),
            float(start),
            float(end),
            int(label),
            float(score),
            int(pred),
            None if pr is None else json.dumps([round(float(v), 7) for v in pr]),
        )


def _closest(ref: str, names: list[str], n: int = 5) -> list[str]:
    """Up to ``n`` names most like ``ref``, whole or by their start (run ids are long)."""
    import difflib

    def score(name: str) -> float:
        return max(difflib.SequenceMatcher(None, ref.lower(), x.lower()).ratio() for x in (name, name[: len(ref)]))

    scored = sorted(((score(x), x) for x in dict.fromkeys(names) if x), key=lambda t: (-t[0], t[1]))
    return [f"'{x}'" for s, x in scored[:n] if s >= 0.6]


def _listing(runs: list[RunRecord], limit: int = 10) -> str:
    shown = [f"{r.run_id} ({r.label})" if r.display_name else r.run_id for r in runs[:limit]]
    more = f", ... ({len(runs) - limit} more)" if len(runs) > limit else ""
    return ", ".join(shown) + more
