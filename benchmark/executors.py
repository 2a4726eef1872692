"""Where the folds of a run execute: in this process, in local worker processes, or on a Dask cluster.

An executor only runs a picklable function over picklable items and hands the results back in
the order they finish; it never touches the results store. The runner commits every result from
the main process, so one writer keeps the store's per-fold transactions and resume guarantees
whatever executes the folds.

A Dask cluster (``--executor dask --scheduler tcp://HOST:PORT``) must see the same files as the
main process at the same paths (a shared file system): the items carry paths of window memmaps,
never window data, and each worker reads them itself. A task whose worker dies is re-run by the
scheduler on another worker (Dask's ``distributed.scheduler.allowed-failures``); a task that raises
is retried ``retries`` times; one that still fails comes back as an :class:`Outcome` with its error.
"""

from __future__ import annotations

import logging
import pickle
import socket
import struct
import sys
import time
import traceback as tb
import uuid
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from multiprocessing import get_context
from typing import Any
from urllib.parse import urlsplit

import benchmark.threads as thread_rule
from benchmark.errors import BenchmarkError

log = logging.getLogger(__name__)

EXECUTORS = ("local", "dask")
#: Seconds to wait for a Dask scheduler before giving up with a one-line error.
CONNECT_TIMEOUT_S = 5.0
#: Re-runs of a Dask task that raised (a dead worker is handled by the scheduler's own re-runs).
DASK_RETRIES = 2


@dataclass
class Outcome:
    """One item's result: ``value`` when it ran, else ``error`` (the exception) and its traceback."""

    item: Any
    value: Any = None
    error: BaseException | None = None
    traceback: str = ""


class Executor(ABC):
    """Runs ``fn`` over items and yields an :class:`Outcome` per item as each finishes.

    Use as a context manager: leaving it releases processes or the cluster connection and cancels
    what has not finished (an interrupted run loses only the folds in flight).
    """

    #: torch CPU threads each fold should use (None: leave the process's default).
    threads_per_fold: int | None = None

    @abstractmethod
    def map(
        self, fn: Callable[[Any], Any], items: Sequence[Any], key: Callable[[Any], str] | None = None
    ) -> Iterator[Outcome]:
        """Yield the outcome of ``fn(item)`` for every item, in the order they finish.

        ``key`` names an item (e.g. its fold id) where the executor shows task names.
        """

    @abstractmethod
    def describe(self) -> dict[str, Any]:
        """What executed the run, for the run's provenance (no credentials)."""

    def close(self) -> None:
        """Release what the executor holds."""

    def __enter__(self) -> Executor:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class LocalExecutor(Executor):
    """Folds in this process (``jobs == 1``) or in a pool of ``jobs`` spawned processes.

    Exceptions from ``fn`` propagate (the runner's fold function stores adapter errors itself, so
    an exception here is a bug or an interruption, which must stop the run).

    Parameters
    ----------
    jobs
        Processes; 1 runs every item in this process, one after the other.
    threads
        torch threads per fold (``--threads``); by default the cores available to this process
        shared between the ``jobs`` processes (:func:`benchmark.threads.threads_per_fold`).
    """

    def __init__(self, jobs: int = 1, threads: int | None = None):
        self.jobs = jobs
        self.threads = threads
        self.threads_per_fold = thread_rule.threads_per_fold(jobs, threads)

    def map(self, fn, items, key=None):
        if self.jobs <= 1:
            for item in items:
                yield Outcome(item, fn(item))
            return
        # spawn: forked workers may inherit a torch thread pool in a broken state.
        with ProcessPoolExecutor(self.jobs, mp_context=get_context("spawn")) as pool:
            futures = {pool.submit(fn, item): item for item in items}
            try:
                for fut in as_completed(futures):
                    yield Outcome(futures[fut], fut.result())
            finally:
                for fut in futures:
                    fut.cancel()

    def describe(self):
        # threads_per_fold: --threads as given (None: the default rule); threads: what each fold used.
        return {
            "executor": "local",
            "jobs": self.jobs,
            "threads_per_fold": self.threads,
            "threads": self.threads_per_fold,
            "omp_wait_policy": thread_rule.wait_policy(),
        }


class DaskExecutor(Executor):
    """Folds as tasks on an existing Dask cluster (:class:`distributed.Client` to ``scheduler``).

    Tasks are submitted with ``pure=False`` (a fold is never a cached value) under a key made of
    the item's name and a random suffix, so two runs on one cluster never share tasks.

    Parameters
    ----------
    scheduler
        Address of the scheduler, e.g. ``tcp://10.0.0.5:8786``.
    threads
        torch threads per fold (None: the worker's default; Dask workers start with
        ``OMP_NUM_THREADS=1``).
    timeout
        Seconds to wait for the scheduler.
    retries
        Re-runs of a task that raised.
    """

    def __init__(
        self,
        scheduler: str,
        threads: int | None = None,
        timeout: float = CONNECT_TIMEOUT_S,
        retries: int = DASK_RETRIES,
    ):
        try:
            from distributed import Client
        except ImportError as exc:  # pragma: no cover - dask[distributed] is a dependency
            raise BenchmarkError("--executor dask needs dask.distributed; install 'dask[distributed]'.") from exc
        self.address = public_address(scheduler)
        self.threads_per_fold = threads
        self.retries = retries
        probe_scheduler(scheduler, timeout)
        try:
            self.client = Client(scheduler, timeout=timeout, set_as_default=False)
        except (OSError, TimeoutError, ValueError) as exc:
            raise BenchmarkError(
                f"could not reach the Dask scheduler at {self.address} within {timeout:g} s; "
                "check --scheduler and that the scheduler is running."
            ) from exc
        except MemoryError as exc:  # a TLS service that is not Dask: its bytes read as a frame length
            raise BenchmarkError(
                f"no Dask scheduler answered at {self.address} (the service there does not speak Dask's protocol); "
                "check --scheduler (a Dask scheduler's address, e.g. tcp://10.0.0.5:8786)."
            ) from exc
        info = self.client.scheduler_info(n_workers=-1)
        workers = info.get("workers", {})
        self.n_workers = len(workers)
        self.n_threads = sum(int(w.get("nthreads", 0)) for w in workers.values())
        if not self.n_workers:
            log.warning("the Dask cluster at %s has no workers yet; folds wait until one joins", self.address)

    def map(self, fn, items, key=None):
        from distributed import as_completed as dask_as_completed

        run = uuid.uuid4().hex[:8]
        futures = {}
        for i, item in enumerate(items):
            name = key(item) if key else str(i)
            fut = self.client.submit(fn, item, key=f"seizure-bench-{name}-{run}", pure=False, retries=self.retries)
            futures[fut] = item
        try:
            for fut in dask_as_completed(list(futures), loop=self.client.loop):
                item = futures[fut]
                if fut.status == "finished":
                    yield Outcome(item, fut.result())
                    continue
                if fut.status == "error":
                    exc = fut.exception()
                    trace = "".join(tb.format_exception(type(exc), exc, fut.traceback()))
                else:  # cancelled, e.g. by another client of a shared cluster
                    exc, trace = RuntimeError(f"Dask task {fut.key} was {fut.status}"), ""
                yield Outcome(item, error=exc, traceback=trace)
                fut.release()
        finally:
            self.client.cancel(list(futures))

    def run_on_workers(self, fn: Callable[..., Any], *args: Any) -> dict[str, Any]:
        """``fn(*args)`` on every worker now in the cluster, keyed by worker address.

        A worker that could not answer (one restarting or leaving) is left out with a warning.
        """
        found = self.client.run(fn, *args, on_error="return")
        for addr, value in list(found.items()):
            if isinstance(value, BaseException):
                log.warning("Dask worker %s did not answer (%s); not checked", addr, value)
                del found[addr]
        return found

    def describe(self):
        return {
            "executor": "dask",
            "scheduler": self.address,
            "workers": self.n_workers,
            "worker_threads": self.n_threads,
            "threads_per_fold": self.threads_per_fold,
        }

    def close(self):
        self.client.close()


def public_address(address: str) -> str:
    """``scheme://host:port`` of a scheduler address, without user, password, path or query."""
    parts = urlsplit(address if "://" in address else f"tcp://{address}")
    host = parts.hostname or ""
    if ":" in host:  # IPv6
        host = f"[{host}]"
    try:
        port = parts.port
    except ValueError:
        port = None
    return f"{parts.scheme}://{host}" + (f":{port}" if port is not None else "")


#: Largest first message a Dask scheduler is believed to send (its handshake is about 60 bytes).
MAX_HANDSHAKE_BYTES = 1 << 16


def probe_scheduler(scheduler: str, timeout: float = CONNECT_TIMEOUT_S) -> None:
    """Refuse, in one line and within about ``timeout`` seconds, an address where no Dask scheduler answers.

    A Dask server speaks first: on a new connection it sends its handshake as one message of
    Dask's TCP framing (an 8-byte little-endian length; then the number of frames and each frame's
    length, 8 bytes each; then the frames, the first a msgpack map). This reads that message with a
    deadline and a size bound, so that another service on the port (an HTTP server, a database)
    is named as such instead of ``distributed.Client`` taking its bytes for a frame length and
    trying to allocate exabytes. ``tls://`` addresses are only connected to here (the bytes are
    encrypted); :class:`DaskExecutor` catches what the client raises there.
    """
    address = public_address(scheduler)
    parts = urlsplit(scheduler if "://" in scheduler else f"tcp://{scheduler}")
    hint = "check --scheduler (a Dask scheduler's address, e.g. tcp://10.0.0.5:8786) and that the scheduler is running."
    deadline = time.monotonic() + timeout
    try:
        sock = socket.create_connection((parts.hostname, parts.port), timeout=timeout)
    except OSError as exc:
        raise BenchmarkError(
            f"could not reach the Dask scheduler at {address} ({exc.strerror or exc}); {hint}"
        ) from None
    with sock:
        if parts.scheme != "tcp":
            return
        import msgpack  # a dependency of distributed

        def read(n: int) -> bytes:
            buf = bytearray()
            while len(buf) < n:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError
                sock.settimeout(left)
                chunk = sock.recv(n - len(buf))
                if not chunk:
                    raise EOFError
                buf += chunk
            return bytes(buf)

        try:
            # Our side of the handshake, as a Dask client sends it: a service that waits for a
            # request (HTTP) then answers, and a Dask scheduler is not left waiting.
            hello = msgpack.packb(
                {"compression": None, "python": list(sys.version_info[:3]), "pickle-protocol": pickle.HIGHEST_PROTOCOL}
            )
            body = struct.pack("<QQ", 1, len(hello)) + hello
            sock.settimeout(max(0.01, deadline - time.monotonic()))
            sock.sendall(struct.pack("<Q", len(body)) + body)
            (size,) = struct.unpack("<Q", read(8))
            if not 16 <= size <= MAX_HANDSHAKE_BYTES:
                raise ValueError
            body = read(size)
            (n_frames,) = struct.unpack_from("<Q", body)
            head = 8 * (1 + n_frames)
            if not 1 <= n_frames <= 64 or head > size:
                raise ValueError
            lengths = struct.unpack_from(f"<{n_frames}Q", body, 8)
            if sum(lengths) < size - head or lengths[0] > size - head:
                raise ValueError
            if not isinstance(msgpack.unpackb(body[head : head + lengths[0]]), dict):
                raise ValueError
        except TimeoutError:
            raise BenchmarkError(
                f"no Dask scheduler answered at {address} within {timeout:g} s (a connection opened, "
                f"no Dask handshake came); {hint}"
            ) from None
        except EOFError:
            raise BenchmarkError(
                f"no Dask scheduler answered at {address} (the service there closed the connection "
                f"without a Dask handshake); {hint}"
            ) from None
        except Exception:  # anything else it sent, or a reset connection
            raise BenchmarkError(
                f"no Dask scheduler answered at {address} (the service there does not speak Dask's protocol); {hint}"
            ) from None


def check_options(
    kind: str, jobs: int = 1, scheduler: str | None = None, *, probe: bool = True, timeout: float = CONNECT_TIMEOUT_S
) -> None:
    """Refuse an inconsistent executor choice before any data is read.

    Parameters
    ----------
    kind
        ``"local"`` or ``"dask"``.
    jobs, scheduler
        ``--jobs`` (local only) and ``--scheduler`` (dask only).
    probe
        For dask, also check that a Dask scheduler answers there (:func:`probe_scheduler`), so an
        unreachable or wrong address fails now rather than after the windows are built.
    """
    if kind not in EXECUTORS:
        raise BenchmarkError(f"unknown executor '{kind}'; choose one of {', '.join(EXECUTORS)}.")
    if kind == "local":
        if scheduler:
            raise BenchmarkError("--scheduler needs --executor dask (the local executor runs folds on this machine).")
        return
    if not scheduler:
        raise BenchmarkError(
            "--executor dask needs --scheduler tcp://HOST:PORT (the address of a running Dask scheduler)."
        )
    if jobs != 1:
        raise BenchmarkError(
            "--jobs applies to --executor local; a Dask cluster runs as many folds at once as its workers have threads."
        )
    parts = urlsplit(scheduler if "://" in scheduler else f"tcp://{scheduler}")
    if parts.scheme not in ("tcp", "tls"):
        raise BenchmarkError(
            f"--scheduler must be tcp://HOST:PORT or tls://HOST:PORT, got {public_address(scheduler)}."
        )
    try:
        port = parts.port
    except ValueError:
        port = None
    if parts.username or parts.password or parts.path.strip("/") or parts.query:
        raise BenchmarkError(
            "--scheduler takes only scheme, host and port, e.g. tcp://10.0.0.5:8786 (no user, password, path or query)."
        )
    if not parts.hostname or port is None:
        raise BenchmarkError(
            f"--scheduler must name a host and port, e.g. tcp://10.0.0.5:8786; got {public_address(scheduler)}."
        )
    if probe:
        probe_scheduler(scheduler, timeout)


def make_executor(
    kind: str = "local", jobs: int = 1, scheduler: str | None = None, threads: int | None = None
) -> Executor:
    """The executor for ``--executor kind`` (see :func:`check_options` for the rules).

    Parameters
    ----------
    kind
        ``"local"`` (processes on this machine; the default) or ``"dask"`` (an existing cluster).
    jobs
        Local processes (1: in this process).
    scheduler
        Dask scheduler address.
    threads
        torch threads per fold.
    """
    check_options(kind, jobs, scheduler, probe=False)
    if kind == "dask":
        return DaskExecutor(scheduler, threads=threads)
    return LocalExecutor(jobs, threads)
