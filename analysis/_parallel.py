"""The one chunked map of the package: every resampler's draws go through here.

The bootstrap (:mod:`analysis.sem.bootstrap`), the Monte Carlo power study
(:func:`analysis.psychometrics.power.monte_carlo`) and the recovery script
(``validation/recovery.py``) split their work into chunks and call
:func:`chunked_map`, which

* runs each chunk with one BLAS thread (:func:`blas_threads`, the one place
  where the package limits BLAS threads: the fits are small dense problems,
  and a threaded BLAS under several workers oversubscribes the cores);
* runs the chunks on one of two backends: ``"local"`` (joblib's worker
  processes on this machine, loky; one job runs in-process) or ``"dask"``
  (a :mod:`dask.distributed` cluster: a ``LocalCluster`` started for the
  purpose, or a running scheduler given by its address);
* shows one tqdm progress bar on either backend, advanced as chunks finish;
* returns the chunks' results in the order of the chunks, whatever order
  they finished in.

Results never depend on the backend, the number of workers or the chunking:
the callers draw every resampling index or seed up front (per draw) and a
chunk's result depends only on its own draws.  A Dask worker that dies is
replaced and its chunks are recomputed by the scheduler (its
``allowed-failures``), with the same result.

Why ``Client.submit`` and not joblib's Dask backend: with joblib 1.6.0 and
distributed 2026.8.0, ``Parallel(backend="dask")`` (the form joblib documents)
passes joblib's ``nesting_level`` through to ``Client.submit`` and every task
fails with ``TypeError: Batch.__call__() got an unexpected keyword argument
'nesting_level'``; only the ``parallel_config(backend="dask")`` form works, and
it auto-batches and auto-scatters in ways we do not need.  The futures API is
the engine's own, has ordered gathering, retries lost work and needs nothing
of ours beyond this file.

Which backend a call uses: its own ``backend=`` / ``n_jobs=`` arguments when
given, else those of the innermost :func:`session` (the ``resilience``
command opens one from ``--jobs/--backend/--scheduler`` or ``study.yaml``'s
``parallel:`` section), else two local workers.
"""
from __future__ import annotations

import logging
import math
import uuid
from dataclasses import dataclass

__all__ = ["BACKENDS", "DEFAULT_JOBS", "Session", "blas_threads", "chunked_map", "chunk_spans", "resolve",
           "session", "active", "workers"]

#: The backends: joblib worker processes on this machine, or a Dask cluster.
BACKENDS = ("local", "dask")
#: Workers when nothing says otherwise (this machine has two cores).
DEFAULT_JOBS = 2
#: Seconds to wait for a Dask scheduler given by its address.
CONNECT_TIMEOUT = 10

_ALIASES = {"loky": "local", "joblib": "local", "distributed": "dask"}


def blas_threads(n: int = 1):
    """Limit BLAS (and OpenMP) to ``n`` threads in this process.

    Returns threadpoolctl's limiter: use it as a context manager
    (``with blas_threads(1): ...``) or call ``restore_original_limits()`` on it.

    Examples
    --------
    >>> with blas_threads(1):
    ...     pass
    """
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=int(n))


def _call(func, shared, chunk):
    """One chunk in a worker (or in-process): ``func(shared, chunk)`` with one BLAS thread."""
    with blas_threads(1):
        return func(shared, chunk)


def _identity(x):
    return x


# --------------------------------------------------------------------------
# settings and sessions
# --------------------------------------------------------------------------
def _check_backend(backend) -> str:
    name = _ALIASES.get(str(backend).lower(), str(backend).lower())
    if name not in BACKENDS:
        from .errors import InputError

        raise InputError(f"the parallel backend must be one of {', '.join(BACKENDS)}, not {backend!r}")
    return name


def resolve(config: dict | None = None, *, jobs=None, backend=None, scheduler=None) -> dict:
    """Parallel settings: the command line's values over ``study.yaml``'s ``parallel:`` over the defaults.

    Parameters
    ----------
    config : dict, optional
        The ``parallel:`` section of ``study.yaml`` (``jobs``, ``backend``,
        ``scheduler``), or the whole settings dict holding it.
    jobs, backend, scheduler : optional
        Values given on the command line (None: not given).

    Returns
    -------
    dict
        ``{"jobs": int, "backend": "local"|"dask", "scheduler": str|None}``.
        A scheduler address implies the Dask backend unless a backend was set
        on the same level.

    Examples
    --------
    >>> resolve({"jobs": 4, "backend": "local"}, backend="dask")
    {'jobs': 4, 'backend': 'dask', 'scheduler': None}
    >>> resolve(None, scheduler="tcp://127.0.0.1:8786")["backend"]
    'dask'
    """
    from .errors import InputError

    cfg = dict(config or {})
    if "parallel" in cfg or {"synthetic", "structural", "power"} & set(cfg):  # the whole study.yaml
        cfg = dict(cfg.get("parallel") or {})
    unknown = sorted(set(cfg) - {"jobs", "backend", "scheduler"})
    if unknown:
        raise InputError(f"parallel: unknown setting(s) {', '.join(unknown)} (jobs, backend, scheduler)",
                         file="study.yaml")
    if scheduler is not None and backend is None:
        backend = "dask"
    file_backend = cfg.get("backend") or ("dask" if cfg.get("scheduler") else "local")
    out_backend = _check_backend(backend if backend is not None else file_backend)
    out_scheduler = scheduler if scheduler is not None else cfg.get("scheduler")
    if out_backend == "local" and scheduler is not None:
        raise InputError("--scheduler needs --backend dask")
    if out_backend == "local":
        out_scheduler = None
    j = jobs if jobs is not None else cfg.get("jobs", DEFAULT_JOBS)
    try:
        j = int(j)
    except (TypeError, ValueError):
        raise InputError(f"parallel jobs must be a whole number, not {j!r}") from None
    if j < 1:
        raise InputError(f"parallel jobs must be at least 1, not {j}")
    return {"jobs": j, "backend": out_backend, "scheduler": str(out_scheduler) if out_scheduler else None}


@dataclass
class Session:
    """Where chunks run: a backend, a number of workers and (Dask) a client.

    Attributes
    ----------
    jobs : int
        Local worker processes, or workers of a ``LocalCluster`` this session
        starts (with a scheduler address the cluster decides).
    backend : str
        ``"local"`` or ``"dask"``.
    scheduler : str or None
        Address of a running Dask scheduler (``tcp://HOST:PORT``); None with
        ``"dask"``: start a ``LocalCluster`` of ``jobs`` worker processes
        (one thread each) at first use and close it with the session.
    """

    jobs: int = DEFAULT_JOBS
    backend: str = "local"
    scheduler: str | None = None
    _client: object = None
    _cluster: object = None
    _environ: dict | None = None

    def client(self):
        """The Dask client (connected, or with its LocalCluster started, on first call)."""
        if self._client is None:
            if self.scheduler is None:
                self._environ = _nanny_environ()
            self._client, self._cluster = _connect(self.scheduler, self.jobs)
        return self._client

    def workers(self) -> int:
        """Worker threads the chunks can run on (for chunk sizes)."""
        if self.backend != "dask":
            return self.jobs
        try:
            return max(1, sum(self.client().nthreads().values()))
        except Exception:  # pragma: no cover - a cluster that lost all workers
            return self.jobs

    def close(self) -> None:
        """Close the client and the LocalCluster this session started (never a scheduler it only joined)."""
        client, cluster = self._client, self._cluster
        self._client = self._cluster = None
        try:
            if client is not None:
                client.close()
            if cluster is not None:
                cluster.close()
        finally:
            if self._environ is not None:  # what the LocalCluster's nannies set in this process's environment
                import os

                for key, value in self._environ.items():
                    if value is None:
                        os.environ.pop(key, None)
                    else:
                        os.environ[key] = value
                self._environ = None


_STACK: list[Session] = []


def active() -> Session | None:
    """The innermost open :func:`session`, or None."""
    return _STACK[-1] if _STACK else None


class session:  # noqa: N801 - used as a context manager, like open()
    """Open a parallel session: the calls inside use its backend and workers.

    Parameters
    ----------
    jobs : int, optional
        Workers (default 2).
    backend : str, optional
        ``"local"`` (default) or ``"dask"``.
    scheduler : str, optional
        Address of a running Dask scheduler; implies ``backend="dask"``.  It
        is contacted at once, so an unreachable one fails here with one
        :class:`~analysis.errors.InputError` (without it, the Dask backend's
        ``LocalCluster`` starts at the first chunked map and not before).

    Examples
    --------
    >>> with session(jobs=1) as s:
    ...     chunked_map(lambda shared, c: [shared * x for x in c], 10, [[1, 2], [3]])
    [[10, 20], [30]]
    """

    def __init__(self, jobs=None, backend=None, scheduler=None):
        cfg = resolve(None, jobs=jobs, backend=backend, scheduler=scheduler)
        self.session = Session(**cfg)

    def __enter__(self) -> Session:
        if self.session.scheduler is not None:
            self.session.client()
        _STACK.append(self.session)
        return self.session

    def __exit__(self, *exc) -> None:
        if _STACK and _STACK[-1] is self.session:
            _STACK.pop()
        self.session.close()


def _nanny_environ() -> dict:
    """This process's values of the variables a Dask nanny sets in it before it spawns a worker."""
    import os

    import dask
    import distributed  # noqa: F401 - loads distributed's configuration defaults

    keys = set(dask.config.get("distributed.nanny.pre-spawn-environ", {})) | {"PYTHONHASHSEED"}
    return {k: os.environ.get(k) for k in keys}


def _connect(scheduler, jobs):
    """A Dask client: to ``scheduler``, or to a LocalCluster of ``jobs`` single-threaded worker processes."""
    from .errors import InputError

    try:
        from distributed import Client, LocalCluster
    except ImportError:  # pragma: no cover - dask[distributed] is a dependency
        raise InputError("the dask backend needs dask[distributed]: pip install 'dask[distributed]'") from None
    if scheduler:
        try:
            return Client(scheduler, timeout=_timeout(), set_as_default=False), None
        except (OSError, TimeoutError, ValueError, TypeError) as exc:
            reason = " ".join(str(exc).split()) or type(exc).__name__
            raise InputError(f"cannot reach the Dask scheduler at {scheduler}: {reason}") from None
    import dask

    # Dask's nanny starts workers with MALLOC_TRIM_THRESHOLD_=65536 (to give memory back to the OS), which
    # makes glibc trim and re-fault the heap at every freed array: 200 studentized cluster-bootstrap refits of
    # the study model took 1.14 s instead of 0.89 s with it; our workers live for one run, so they keep
    # glibc's default
    with dask.config.set({"distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None}):
        cluster = LocalCluster(n_workers=int(jobs), threads_per_worker=1, processes=True, dashboard_address=None,
                               scheduler_kwargs={"dashboard_address": ":0"},  # no dashboard; http port: any free
                               silence_logs=logging.ERROR)
    try:
        return Client(cluster, set_as_default=False), cluster
    except BaseException:  # pragma: no cover
        cluster.close()
        raise


def _timeout():
    """Seconds to wait for a scheduler: Dask's ``distributed.comm.timeouts.connect`` when set, else 10 s."""
    import dask

    value = dask.config.get("distributed.comm.timeouts.connect", None)
    return CONNECT_TIMEOUT if value in (None, "30s") else value


def _effective(n_jobs: int) -> int:
    """joblib's reading of ``n_jobs``: a negative value counts back from the number of CPUs + 1."""
    import os

    n = int(n_jobs)
    return n if n >= 1 else max(1, (os.cpu_count() or 1) + 1 + n)


def workers(n_jobs=None, backend=None) -> int:
    """Workers a map with these arguments would use (for chunk sizes; never changes a result)."""
    s = active()
    b = _check_backend(backend) if backend is not None else (s.backend if s else "local")
    if b == "dask" and s is not None and s.backend == "dask":
        return s.workers()
    if n_jobs is not None:
        return _effective(n_jobs)
    return s.jobs if s is not None else DEFAULT_JOBS


def chunk_spans(n: int, size: int | None = None, *, n_jobs=None, backend=None, per_worker: int = 8) -> list:
    """``(start, end)`` of the chunks of ``n`` items: ``size`` each, by default about ``per_worker`` per worker.

    Examples
    --------
    >>> chunk_spans(10, 4)
    [(0, 4), (4, 8), (8, 10)]
    """
    if size is None:
        size = max(1, math.ceil(n / (per_worker * workers(n_jobs, backend))))
    size = max(1, int(size))
    return [(s, min(n, s + size)) for s in range(0, n, size)]


# --------------------------------------------------------------------------
# the map
# --------------------------------------------------------------------------
def chunked_map(func, shared, chunks, *, sizes=None, n_jobs=None, backend=None, progress: bool = False,
                desc: str | None = None, unit: str = "draw") -> list:
    """``[func(shared, chunk) for chunk in chunks]``, in parallel, in order.

    Parameters
    ----------
    func : callable
        ``func(shared, chunk) -> result``; a module-level function (it is
        pickled to the workers).
    shared : object
        What every chunk needs (a prepared job, a replication function):
        sent once to each local task, once to the Dask cluster.
    chunks : sequence
        The chunks; their results come back in this order.
    sizes : sequence of int, optional
        Draws in each chunk, for the progress bar (default 1 each).
    n_jobs : int, optional
        Local workers (``1``: in-process).  Default: the active session's,
        else 2.  With the Dask backend the cluster's workers are used.
    backend : str, optional
        ``"local"`` or ``"dask"``.  Default: the active session's, else
        ``"local"``.  ``"dask"`` outside a Dask session starts (and closes) a
        ``LocalCluster`` of ``n_jobs`` workers for this one call.
    progress : bool
        Show a tqdm progress bar (on either backend).
    desc, unit : str
        The bar's label and unit.

    Returns
    -------
    list
        One result per chunk, in the order of ``chunks``.

    Examples
    --------
    >>> import operator
    >>> chunked_map(operator.add, [0], [[1], [2, 3]], n_jobs=1)
    [[0, 1], [0, 2, 3]]
    """
    chunks = list(chunks)
    sizes = [1] * len(chunks) if sizes is None else [int(s) for s in sizes]
    if len(sizes) != len(chunks):
        raise ValueError(f"{len(sizes)} sizes for {len(chunks)} chunks")
    s = active()
    name = _check_backend(backend) if backend is not None else (s.backend if s is not None else "local")
    jobs = int(n_jobs) if n_jobs is not None else (s.jobs if s is not None else DEFAULT_JOBS)
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=sum(sizes), desc=desc, unit=unit, leave=False)
    try:
        if not chunks:
            return []
        if name == "local":
            return _map_local(func, shared, chunks, sizes, jobs, bar)
        if s is not None and s.backend == "dask":
            return _map_dask(s.client(), func, shared, chunks, sizes, bar, desc)
        with session(jobs=jobs, backend="dask") as own:
            return _map_dask(own.client(), func, shared, chunks, sizes, bar, desc)
    finally:
        if bar is not None:
            bar.close()


def _map_local(func, shared, chunks, sizes, jobs, bar) -> list:
    from joblib import Parallel, delayed

    out = []
    with Parallel(n_jobs=_effective(jobs), return_as="generator") as par:
        for size, part in zip(sizes, par(delayed(_call)(func, shared, c) for c in chunks)):
            out.append(part)
            if bar is not None:
                bar.update(size)
    return out


def _map_dask(client, func, shared, chunks, sizes, bar, desc) -> list:
    from distributed import as_completed

    token = uuid.uuid4().hex[:12]
    label = (desc or getattr(func, "__name__", "chunk")).replace(" ", "_")
    # the shared object is a task of its own (not scattered data): if the worker holding it dies, the
    # scheduler recomputes it from the task, as it does every chunk lost with a worker
    shared_f = client.submit(_identity, shared, key=f"{label}-shared-{token}", pure=False)
    futures = [client.submit(_call, func, shared_f, c, key=f"{label}-{i}-{token}", pure=False)
               for i, c in enumerate(chunks)]
    where = {f.key: i for i, f in enumerate(futures)}
    out = [None] * len(futures)
    try:
        for fut in as_completed(futures, loop=client.loop):
            i = where[fut.key]
            out[i] = fut.result()
            if bar is not None:
                bar.update(sizes[i])
    except BaseException:
        client.cancel(futures + [shared_f])
        raise
    return out
