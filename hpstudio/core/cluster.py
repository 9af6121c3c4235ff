"""Running fold tasks on a Dask cluster: other machines, or a local cluster of processes.

``DaskExecutor`` is the ``Executor`` the study loop already knows, backed by
``dask.distributed``. The dataset is scattered to every worker once per study and each
fold task refers to that copy, so a task carries only parameters, as with the local pool.
Results stream back as they finish; a worker that dies has its tasks re-run by Dask on
the others, and a fold is handed back at most once whatever happens underneath.

Dask is an optional extra (``pip install 'hpstudio[dask]'``): nothing here imports it
until a cluster executor is made, so the core stays importable without it.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import queue
import re
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from hpstudio.core.errors import HpstudioError
from hpstudio.core.evaluate import EvaluationContext, FoldTask, evaluate_fold
from hpstudio.core.executor import Executor
from hpstudio.core.records import FoldResult

if TYPE_CHECKING:
    from distributed import Client, Future

DEFAULT_TIMEOUT = 10.0
MISSING_DASK = "--cluster needs Dask: pip install 'hpstudio[dask]'"
# A task whose worker dies is re-run by Dask itself; this bounds our own re-submissions
# after errors Dask gives up on (lost data, a task cancelled behind our back).
_MAX_ATTEMPTS = 3
# evaluate_fold never raises for a fit that fails; a retry only covers transient trouble
# such as a worker that could not deserialise the task while it was starting up.
_TASK_RETRIES = 2
_N_WORKERS_TTL = 1.0  # seconds
_LOCAL = re.compile(r"local(?::(?P<n>\S+))?", re.IGNORECASE)


@dataclass(frozen=True)
class ClusterAddress:
    """Where to run: a scheduler's address, or the size of a cluster to start locally."""

    scheduler: str | None = None
    local_workers: int | None = None

    @property
    def label(self) -> str:
        if self.scheduler is not None:
            return self.scheduler
        return f"local:{self.local_workers}"


def parse_cluster_address(text: str) -> ClusterAddress:
    """``tcp://HOST:8786`` (any Dask address) or ``local:N``; ``local`` alone uses every core."""
    text = (text or "").strip()
    if not text:
        raise HpstudioError("--cluster: give a scheduler address such as tcp://HOST:8786, "
                            "or local:N for a local cluster of N worker processes")
    match = _LOCAL.fullmatch(text)
    if match:
        raw = match.group("n")
        if raw is None:
            return ClusterAddress(local_workers=os.cpu_count() or 1)
        if not raw.isdigit() or int(raw) < 1:
            raise HpstudioError(f"--cluster {text}: expected local:N with N a whole number ≥ 1")
        return ClusterAddress(local_workers=int(raw))
    return ClusterAddress(scheduler=text)


def import_distributed() -> Any:
    """``dask.distributed``, or the one-line error that says how to install it."""
    try:
        import distributed
    except ImportError:
        raise HpstudioError(MISSING_DASK) from None
    return distributed


def make_cluster_executor(address: str, *, timeout: float | None = None) -> DaskExecutor:
    """Connect to the scheduler at ``address``, or start ``local:N``; fail fast with a message.

    Connecting here, before the study is created, means a wrong address is reported at
    once instead of leaving a failed study behind in the history. ``timeout`` (seconds,
    default ``DEFAULT_TIMEOUT``) bounds the connection attempt.
    """
    return DaskExecutor(parse_cluster_address(address), timeout=timeout)


def _worker_versions() -> dict[str, str]:
    """Runs on each worker: what it would evaluate folds with."""
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for package in ("hpstudio", "scikit-learn"):
        try:
            out[package] = version(package)
        except PackageNotFoundError:
            out[package] = "missing"
    return out


def _executing_keys(dask_worker: Any) -> list[Any]:
    """Runs on each worker: the keys of the tasks its threads are computing right now."""
    state = getattr(dask_worker, "state", None)
    running = set(getattr(state, "executing", ())) | set(getattr(state, "long_running", ()))
    return [ts.key for ts in running]


class DaskExecutor(Executor):
    """Fold tasks as Dask futures, streamed back through done-callbacks.

    Done-callbacks feed a thread-safe queue, so ``results(timeout)`` waits on that queue
    without a round trip to the scheduler per poll and without needing a default client
    (``distributed.wait`` and ``as_completed`` do need one, and the study loop's timeout
    applies to each call rather than to the whole iteration).
    """

    def __init__(self, target: ClusterAddress | str | Client, *,
                 timeout: float | None = None) -> None:
        self._timeout = DEFAULT_TIMEOUT if timeout is None else timeout
        self._address: ClusterAddress | None = None
        self._owns_client = True
        self._client: Client | None = None
        self._cluster: Any = None
        self._futures: dict[Future, tuple[FoldTask, int]] = {}
        self._done: queue.SimpleQueue[Future] = queue.SimpleQueue()
        self._delivered: set[tuple[int, int]] = set()
        self._spared: set[Any] = set()  # running when a stop came; they finish and report
        self._context: EvaluationContext | None = None
        self._data: Future | None = None
        self._data_source: tuple[Any, ...] | None = None
        self._token = ""
        self._n_workers_asked = (-math.inf, 1)  # (when, how many)
        if isinstance(target, str):
            target = parse_cluster_address(target)
        if isinstance(target, ClusterAddress):
            self._address = target
            self._connect()
        else:  # a Client the caller made and will close
            self._owns_client = False
            self._client = target

    # ----- connection -------------------------------------------------------------------
    @property
    def label(self) -> str:
        """Where the folds run, for messages."""
        if self._address is not None:
            return self._address.label
        return str(getattr(getattr(self._client, "scheduler", None), "address", "the cluster"))

    @property
    def client(self) -> Client:
        """The Dask client, connecting again if a previous ``close`` let it go."""
        if self._client is None:
            self._connect()
        assert self._client is not None
        return self._client

    @property
    def scheduler_address(self) -> str:
        return str(self.client.scheduler.address)

    def _connect(self) -> None:
        assert self._address is not None
        distributed = import_distributed()
        address = self._address
        if address.local_workers is not None:
            n = address.local_workers
            try:
                # Loopback only: a local cluster is for this machine, not for the network.
                self._cluster = distributed.LocalCluster(
                    n_workers=n, threads_per_worker=1, processes=True, host="127.0.0.1",
                    dashboard_address="127.0.0.1:0", silence_logs=logging.ERROR)
                self._client = distributed.Client(self._cluster, set_as_default=False,
                                                  timeout=self._timeout)
            except Exception as exc:
                self._shutdown()
                raise HpstudioError(f"cannot start a local Dask cluster of {n} workers: "
                                    f"{exc}") from None
            return
        try:
            self._client = distributed.Client(address.scheduler, timeout=self._timeout,
                                              set_as_default=False)
        except Exception as exc:
            raise HpstudioError(
                f"cannot reach the Dask scheduler at {address.scheduler}: {exc}; start one with "
                f"`dask scheduler` and workers with `dask worker {address.scheduler} --nthreads "
                "1`, or check the address (tcp://HOST:8786) and the firewall"
            ) from None
        try:
            self._check_workers()
        except HpstudioError:
            self._shutdown()
            raise
        except Exception as exc:
            self._shutdown()
            raise HpstudioError(f"cannot use the Dask cluster at {address.scheduler}: "
                                f"{type(exc).__name__}: {exc}") from None

    def _check_workers(self) -> None:
        """Refuse a cluster without workers, or whose workers would compute differently."""
        client = self._client
        assert client is not None
        try:
            client.wait_for_workers(1, timeout=self._timeout)
        except Exception:
            raise HpstudioError(
                f"the Dask scheduler at {self.label} has no workers; start some with "
                f"`dask worker {self.label} --nthreads 1` on the machines that should run folds"
            ) from None
        here = _worker_versions()
        found = client.run(_worker_versions, on_error="return")
        if any(isinstance(v, BaseException) for v in found.values()):
            time.sleep(1.0)  # a worker still starting up can fail once; ask again before judging
            found = client.run(_worker_versions, on_error="return")
        problems = []
        for worker, versions in sorted(found.items()):
            if isinstance(versions, BaseException):  # it could not even import hpstudio
                problems.append(f"{worker} failed to load hpstudio "
                                f"({type(versions).__name__}: {versions})")
            elif not isinstance(versions, dict) or versions.get("hpstudio") == "missing":
                problems.append(f"{worker} has no hpstudio")
            elif versions != here:
                problems.append(f"{worker} has hpstudio {versions['hpstudio']} with scikit-learn "
                                f"{versions['scikit-learn']}")
        if problems:
            raise HpstudioError(
                f"Dask workers at {self.label} cannot run this study: {'; '.join(problems)}. "
                f"Install hpstudio {here['hpstudio']} with scikit-learn {here['scikit-learn']} "
                "on every worker, so scores agree with a local run"
            )

    # ----- Executor ---------------------------------------------------------------------
    @property
    def n_workers(self) -> int:
        """Worker threads in the cluster now: each runs one fold at a time.

        Asking costs a round trip to the scheduler and the study loop asks often, so the
        answer is reused for a second; workers come and go more slowly than that.
        """
        asked, count = self._n_workers_asked
        if time.monotonic() - asked < _N_WORKERS_TTL:
            return count
        try:
            count = max(1, sum(self.client.nthreads().values()))
        except HpstudioError:
            raise
        except Exception as exc:
            raise self._lost(exc) from None
        self._n_workers_asked = (time.monotonic(), count)
        return count

    @property
    def in_flight(self) -> int:
        return len(self._futures)

    def start(self, context: EvaluationContext, X: Any, y: Any,
              groups: Any = None) -> EvaluationContext:
        self._futures.clear()
        self._done = queue.SimpleQueue()
        self._delivered.clear()
        self._spared.clear()
        self._token = uuid.uuid4().hex[:12]
        self._data_source = (X, y) if groups is None else (X, y, groups)
        self._scatter()
        assert self._data is not None
        # The cache key of the workers' prepared state names this copy of the data.
        self._context = replace(context, data_path=f"dask://{self._data.key}")
        return self._context

    def _scatter(self) -> None:
        """Copy the dataset to every worker once; workers that join later fetch it from them."""
        assert self._data_source is not None
        key = f"hpstudio-data-{self._token}-{uuid.uuid4().hex[:6]}"
        try:
            futures = self.client.scatter({key: self._data_source}, broadcast=True,
                                          timeout=max(self._timeout, 60))
        except HpstudioError:
            raise
        except Exception as exc:
            raise HpstudioError(f"cannot send the dataset to the Dask workers at {self.label}: "
                                f"{exc}") from None
        self._data = futures[key]

    def submit(self, task: FoldTask) -> None:
        self._submit(task, 0)

    def _submit(self, task: FoldTask, attempt: int) -> None:
        assert self._context is not None, "start() first"
        # Explicit unique keys: equal parameters in two trials must stay two tasks.
        key = f"evaluate_fold-{self._token}-{task.trial_number}-{task.fold}-{attempt}"
        try:
            future = self.client.submit(evaluate_fold, self._context, task, data=self._data,
                                        key=key, pure=False, retries=_TASK_RETRIES)
        except HpstudioError:
            raise
        except Exception as exc:
            raise self._lost(exc) from None
        self._futures[future] = (task, attempt)
        future.add_done_callback(self._done.put)

    def results(self, timeout: float | None) -> list[FoldResult]:
        if not self._futures:
            return []
        ready: list[Future] = []
        try:
            ready.append(self._done.get(timeout=timeout))
        except queue.Empty:
            return []
        with contextlib.suppress(queue.Empty):
            while True:
                ready.append(self._done.get_nowait())
        finished: list[tuple[Future, FoldTask, int]] = []
        failed: list[tuple[Future, FoldTask, int]] = []
        for future in ready:
            entry = self._futures.pop(future, None)
            if entry is None:
                continue  # cancelled by us, or already handled
            task, attempt = entry
            (finished if future.status == "finished" else failed).append((future, task, attempt))
        out = self._gather(finished)
        for future, task, attempt in failed:
            result = self._handle_failure(future, task, attempt)
            if result is not None:
                out.append(result)
        return [result for result in out if self._first_time(result)]

    def _gather(self, finished: list[tuple[Future, FoldTask, int]]) -> list[FoldResult]:
        if not finished:
            return []
        futures = [future for future, _, _ in finished]
        try:
            values = self.client.gather(futures)
        except Exception as exc:
            if self.client.status != "running":
                raise self._lost(exc) from None
            # One of them vanished between finishing and being fetched: handle each alone.
            values = []
            for future, task, attempt in finished:
                try:
                    values.append(future.result(timeout=self._timeout))
                except Exception:
                    result = self._handle_failure(future, task, attempt)
                    if result is not None:
                        values.append(result)
        for future in futures:
            future.release()  # a dead worker's results must not be recomputed for nothing
        return list(values)

    def _handle_failure(self, future: Future, task: FoldTask, attempt: int) -> FoldResult | None:
        """Re-submit a fold that Dask could not finish, or report why it keeps failing."""
        distributed = import_distributed()
        if self.client.status != "running":  # the scheduler went away, with all its state
            raise self._lost(RuntimeError(f"client {self.client.status}"))
        try:
            exc: BaseException | None = future.exception(timeout=self._timeout)
        except Exception as error:  # cancelled futures raise instead of returning
            exc = error
        future.release()
        if isinstance(exc, distributed.KilledWorker):
            # Dask already re-ran it after each death: the fold itself brings workers down.
            return _failed(task, f"the Dask workers running this fold died repeatedly, most "
                                 f"likely out of memory ({type(exc).__name__}: {exc})",
                           self._metrics())
        if attempt + 1 >= _MAX_ATTEMPTS:
            return _failed(task, f"the Dask cluster could not run this fold "
                                 f"({type(exc).__name__}: {exc})", self._metrics())
        if self._data is None or self._data.status != "finished":
            self._scatter()  # every worker holding the dataset is gone
        self._submit(task, attempt + 1)
        return None

    def _first_time(self, result: FoldResult) -> bool:
        ident = (result.trial_number, result.fold)
        if ident in self._delivered:
            return False
        self._delivered.add(ident)
        return True

    def cancel_pending(self) -> None:
        """Cancel the folds not yet started; folds computing now finish and are reported.

        The scheduler does not know which of a worker's assigned tasks are running, so the
        workers are asked once; afterwards the loop's repeated calls find nothing to do.
        """
        pending = [f for f in self._futures if not f.done() and f.key not in self._spared]
        if not pending:
            return
        try:
            running = {key for keys in self.client.run(_executing_keys, on_error="return")
                       .values() if isinstance(keys, list) for key in keys}
        except Exception:
            running = set()
        self._spared.update(f.key for f in pending if f.key in running)
        doomed = [f for f in pending if f.key not in running]
        for future in doomed:
            del self._futures[future]
        if doomed:
            with contextlib.suppress(Exception):
                self.client.cancel(doomed)

    def close(self) -> None:
        """Drop this study's tasks and data; close the client and any cluster it started.

        Never raises: it runs in the study loop's ``finally``, which must still record
        how the study ended.
        """
        futures = list(self._futures)
        self._futures.clear()
        self._done = queue.SimpleQueue()
        data, self._data, self._data_source = self._data, None, None
        if self._client is not None:
            with contextlib.suppress(Exception):
                if futures:
                    self._client.cancel(futures)
                if data is not None:
                    self._client.cancel([data])
        if self._owns_client:
            self._shutdown()

    def _shutdown(self) -> None:
        client, cluster = self._client, self._cluster
        self._client = self._cluster = None
        self._n_workers_asked = (-math.inf, 1)
        if client is not None:
            with contextlib.suppress(Exception):
                client.close(timeout=self._timeout)
        if cluster is not None:
            with contextlib.suppress(Exception):
                cluster.close(timeout=max(self._timeout, 20))

    def _metrics(self) -> list[str]:
        return [] if self._context is None else list(self._context.scorers)

    def _lost(self, exc: BaseException) -> HpstudioError:
        return HpstudioError(
            f"lost the Dask scheduler at {self.label} ({type(exc).__name__}: {exc}); finished "
            "trials are saved: resume the study once the cluster is back"
        )


def _failed(task: FoldTask, error: str, metrics: Iterable[str]) -> FoldResult:
    now = time.time()
    return FoldResult(task.trial_number, task.fold, dict.fromkeys(metrics, math.nan), None,
                      0.0, 0.0, now, now, "", error, task.rung)
