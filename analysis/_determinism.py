"""Pin what makes floating-point results depend on the machine, before numpy loads.

The same code, data and seeds give results that differ in their last bits
from one machine to another when the order of the floating-point operations
differs.  Three things set that order here:

* **BLAS threads.**  A threaded matrix product splits its sums between
  threads; one thread fixes the order.  ``OPENBLAS_NUM_THREADS``,
  ``OMP_NUM_THREADS`` and ``MKL_NUM_THREADS`` are set to 1 (the Makefile
  exports the same), and :func:`analysis.pipeline.run` and the resampling
  workers (:func:`analysis._parallel.blas_threads`) also hold BLAS at one
  thread while they run, whatever the environment says.
* **The BLAS kernel.**  OpenBLAS picks its kernels for the processor it runs
  on (``SkylakeX`` with AVX-512, ``Haswell`` with AVX2, ``Zen``...), and the
  kernels block and accumulate differently.  On every x86-64 processor with
  AVX2 and FMA (Intel since 2013, AMD since 2015) ``OPENBLAS_CORETYPE`` is set
  to ``Haswell``, so every such machine runs the same kernels.
* **numpy's SIMD loops.**  numpy picks among compiled loops by processor
  features; its AVX-512 loops (``exp``, ``log``, ``sqrt``...) can round
  differently from its AVX2 ones.  ``NPY_DISABLE_CPU_FEATURES`` switches off
  the targets above AVX2 (x86-64-v3), which every AVX2 machine then shares.

Measured on this study's WLSMV fit (see :data:`analysis.io.PRECISION`): each
of these changes moves standard errors by up to 4e-11 (relative) and the
smallest p-values by up to 1.2e-8, enough to change the tenth significant
digit that the results files used to carry; with all three pinned, two AVX2
machines run the same instructions in the same order.  What is not pinned:
processors without AVX2, ARM (``aarch64``, Apple silicon), and the C
library's ``libm`` (its version comes with the operating system); there the
written precision (:data:`analysis.io.PRECISION`) absorbs the noise, and
``resilience verify`` compares at that precision.

A variable already set in the environment is left alone (set
``OPENBLAS_CORETYPE`` or ``NPY_DISABLE_CPU_FEATURES`` to an empty string to
let the libraries choose), so the pins are defaults, not a cage.  This module
imports nothing but the standard library: the ``resilience`` command calls
:func:`pin_environment` before anything imports numpy.
"""
from __future__ import annotations

import os
import platform
import sys

__all__ = ["THREAD_VARIABLES", "OPENBLAS_CORETYPE", "NUMPY_DISABLED", "cpu_flags", "pinned_environment",
           "pin_environment", "blas_pinned"]

#: Thread-count variables of OpenBLAS, OpenMP and MKL, each set to 1.
THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
#: The OpenBLAS kernel set every x86-64 processor with AVX2 and FMA runs.
OPENBLAS_CORETYPE = "Haswell"
#: numpy's dispatch targets above x86-64-v3 (AVX2), switched off.
NUMPY_DISABLED = "X86_V4 AVX512_ICL AVX512_SPR"
#: Processor flags (``/proc/cpuinfo``) the Haswell kernels need.
_HASWELL_FLAGS = frozenset({"avx", "avx2", "fma"})


def cpu_flags(cpuinfo: str = "/proc/cpuinfo") -> frozenset:
    """The processor's feature flags from ``/proc/cpuinfo`` (empty where there is none).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> f = pathlib.Path(tempfile.mkdtemp()) / "cpuinfo"
    >>> _ = f.write_text("processor : 0\\nflags : fpu sse2 avx avx2 fma\\n")
    >>> sorted(cpu_flags(f))
    ['avx', 'avx2', 'fma', 'fpu', 'sse2']
    """
    try:
        with open(cpuinfo, encoding="utf-8", errors="replace") as fh:
            for line in fh:
                key, _, value = line.partition(":")
                if key.strip() == "flags":
                    return frozenset(value.split())
    except OSError:
        pass
    return frozenset()


def pinned_environment(machine: str | None = None, flags: frozenset | None = None) -> dict:
    """The variables :func:`pin_environment` sets on ``machine`` with processor ``flags``.

    Parameters
    ----------
    machine : str, optional
        ``platform.machine()`` (default: this machine's).
    flags : frozenset, optional
        Processor flags (default: :func:`cpu_flags`).

    Examples
    --------
    >>> pinned_environment("x86_64", frozenset({"avx", "avx2", "fma"}))["OPENBLAS_CORETYPE"]
    'Haswell'
    >>> sorted(pinned_environment("x86_64", frozenset({"sse2"})))  # no AVX2: only the threads
    ['MKL_NUM_THREADS', 'OMP_NUM_THREADS', 'OPENBLAS_NUM_THREADS']
    >>> sorted(pinned_environment("aarch64", frozenset()))
    ['MKL_NUM_THREADS', 'OMP_NUM_THREADS', 'OPENBLAS_NUM_THREADS']
    """
    machine = (machine if machine is not None else platform.machine()).lower()
    out = {name: "1" for name in THREAD_VARIABLES}
    if machine in ("x86_64", "amd64"):
        flags = cpu_flags() if flags is None else flags
        if _HASWELL_FLAGS <= set(flags):
            out["OPENBLAS_CORETYPE"] = OPENBLAS_CORETYPE
            out["NPY_DISABLE_CPU_FEATURES"] = NUMPY_DISABLED
    return out


def pin_environment(environ=None) -> dict:
    """Set :func:`pinned_environment`'s variables in ``environ`` where they are not set yet.

    Call it before numpy (or anything importing numpy) is imported: OpenBLAS
    and numpy read these variables when they load.  Called after numpy has
    loaded in this process, it sets only the thread counts: the kernel
    choices would reach the worker processes it starts but not itself, and
    in-process and worker draws would differ in their last bits.

    Parameters
    ----------
    environ : MutableMapping, optional
        Default ``os.environ``.

    Returns
    -------
    dict
        The variables this call set.

    Examples
    --------
    >>> env = {"OMP_NUM_THREADS": "4"}
    >>> set_now = pin_environment(env)
    >>> env["OMP_NUM_THREADS"], env["OPENBLAS_NUM_THREADS"], "OMP_NUM_THREADS" in set_now
    ('4', '1', False)
    """
    environ = os.environ if environ is None else environ
    # numpy already loaded here (e.g. `main()` called inside a test session): this process keeps the kernels
    # it loaded, so pinning them now would give only its worker processes other kernels than its own draws
    late = environ is os.environ and "numpy" in sys.modules
    done = {}
    for name, value in pinned_environment().items():
        if late and name not in THREAD_VARIABLES:
            continue
        if name not in environ:
            environ[name] = value
            done[name] = value
    if environ is os.environ and not late and all(environ.get(v) == "1" for v in THREAD_VARIABLES):
        global _BLAS_PINNED
        _BLAS_PINNED = True
    return done


_BLAS_PINNED = False


def blas_pinned() -> bool:
    """True when :func:`pin_environment` set one BLAS thread before numpy loaded in this process (then the
    libraries read it themselves and no run-time limit is needed)."""
    return _BLAS_PINNED
