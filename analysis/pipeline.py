"""The study as a DAG of file-based steps, run by doit.

Why doit (and not Snakemake): the steps are Python functions of this package,
so doit's Python task dictionaries call them directly with no shell layer and
no second language; doit decides what is up to date from the MD5 of each
step's input files (data, settings *and* the source modules of the step), so
a changed input or source reruns exactly the steps downstream of it, and a
second run with nothing changed executes nothing.  It is a single pure-Python
dependency.

Atomicity: every file is written through :mod:`analysis.io` (temporary file
+ rename), and each step's last act is to write ``index.json`` listing what it
wrote with sha256 hashes.  doit records a step as done only after it returns,
so a run killed halfway reruns the step next time.

The steps (``resilience reproduce STEP`` brings one step and its upstream up
to date)::

    instrument  survey/instrument.yaml      -> survey/generated/
    simulate    data/population_model.yaml  -> data/raw/synthetic/
    ingest      data/raw/synthetic/...      -> data/processed/responses.*
    screen      data/processed/responses    -> data/processed/analysis.parquet, flags
    sample      processed + truth           -> results/data/
    configurational analysis.parquet + population model -> results/configurational/ (fsQCA, NCA, planted truth)
    measurement analysis.parquet            -> results/measurement/
    structural  analysis.parquet            -> results/structural/
    moderation  analysis.parquet + population model -> results/moderation/ (moderated mediation, recovery)
    robustness  analysis.parquet            -> results/robustness/
    weighting   analysis.parquet + sampling frame -> results/weighting/ (design weights, weighted model)
    power       population model            -> results/power/
    manifest    results/                    -> results/manifest.json
    report      results/                    -> reports/
    book        results/ + book/            -> book/_build/html
    privacy     processed, results, book    -> (fails on any identifier)
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

from . import paths
from .io import sha256, write_json
from .study.dag import HEAVY, SECTIONS, STEPS, step_files, synthetic_export, truth_file

__all__ = ["STEPS", "HEAVY", "task_definitions", "run"]


def _write_index(out_dir: Path, written) -> Path:
    """Record what a step wrote (relative path -> sha256); written last, atomically."""
    out_dir = Path(out_dir)
    entries = {}
    for p in sorted({Path(p) for p in written or []}):
        if p.exists() and p.name != "index.json":
            # relative to the step's folder (``../figures/x.png`` for a figure), never absolute, so the
            # index is the same in any clone
            entries[Path(os.path.relpath(p, out_dir)).as_posix()] = sha256(p)
    return write_json(out_dir / "index.json", {"files": entries})


# --------------------------------------------------------------------------
# actions (each imports its study module lazily so `resilience --help` is fast)
# --------------------------------------------------------------------------
def _act_instrument(layout):
    from .study.render import render

    _write_index(layout.generated_instrument, render(layout.generated_instrument))


def _act_simulate(layout, settings):
    from .study.simulate import simulate_to_file

    syn = settings["synthetic"]
    simulate_to_file(
        n=syn["n"], communities=syn["communities"], seed=syn["seed"], fmt=syn.get("format", "wjx"),
        out=synthetic_export(layout, settings),
    )


def _act_ingest(layout, settings):
    from .study.ingest import ingest

    ingest(synthetic_export(layout, settings), layout.processed)


def _act_screen(layout, settings):
    from .study.ingest import export_labelled
    from .study.screen import screen

    screen(layout.processed, settings["screening"])
    export_labelled(layout.processed)  # .sav / .dta with labels for SPSS/AMOS and Stata users


def _act_sample(layout, settings):
    from .study.sample import run_sample

    out = layout.results / "data"
    _write_index(out, run_sample(layout.processed, out, truth=truth_file(layout, settings)))


def _act_configurational(layout, settings):
    from .study.configurational import run_configurational

    out = layout.results / "configurational"
    _write_index(out, run_configurational(layout.processed, out, settings, figures_dir=layout.figures))


def _act_measurement(layout, settings):
    from .study.measurement import run_measurement

    out = layout.results / "measurement"
    _write_index(out, run_measurement(analysis_data=layout.processed / "analysis.parquet", out_dir=out,
                                      config=settings, figures_dir=layout.figures))


def _act_structural(layout, settings):
    from .study.structural import run_structural

    out = layout.results / "structural"
    _write_index(out, run_structural(analysis_data=layout.processed / "analysis.parquet", out_dir=out,
                                     config=settings, figures_dir=layout.figures))


def _act_moderation(layout, settings):
    from .study.moderation import run_moderation

    out = layout.results / "moderation"
    _write_index(out, run_moderation(analysis_data=layout.processed / "analysis.parquet", out_dir=out,
                                     config=settings, figures_dir=layout.figures))


def _act_weighting(layout, settings):
    from .study.weighting import run_weighting

    out = layout.results / "weighting"
    frame = synthetic_export(layout, settings).with_name("community_frame.csv")
    _write_index(out, run_weighting(analysis_data=layout.processed / "analysis.parquet", out_dir=out,
                                    frame_path=frame))


def _act_robustness(layout, settings):
    from .study.robustness import run_robustness

    out = layout.results / "robustness"
    _write_index(out, run_robustness(analysis_data=layout.processed / "analysis.parquet", out_dir=out,
                                     config=settings))


def _act_power(layout, settings):
    from .study.power import run_power

    out = layout.results / "power"
    _write_index(out, run_power(out_dir=out, config=settings, figures_dir=layout.figures))


def _act_manifest(layout):
    from .manifest import write_manifest

    write_manifest(layout)


def _act_report(layout):
    from .study.report import write_report

    write_report(layout.reports, results_dir=layout.results)


def _act_book(layout):
    from .bookbuild import build_book

    build_book(layout)


def _act_privacy(layout):
    from .study.deidentify import scan_for_identifiers

    targets = [layout.processed, layout.results, layout.book_html]
    findings = scan_for_identifiers([t for t in targets if t.exists()])
    if findings:
        for f in findings:
            print(f, file=sys.stderr)
        raise RuntimeError(f"{len(findings)} identifier-shaped value(s) reached processed data, results or the book")


# --------------------------------------------------------------------------
def task_definitions(layout: paths.Layout = paths.DEFAULT, settings: dict | None = None) -> dict:
    """Return doit task dictionaries keyed by step name, for ``layout``.

    The files of each step come from :func:`analysis.study.dag.step_files`;
    this adds the action, and the ``study.yaml`` sections the step reads
    (:data:`analysis.study.dag.SECTIONS`) as doit's ``config_changed``.
    """
    from doit.tools import config_changed

    from .study.settings import load_settings

    settings = settings if settings is not None else load_settings(layout.config)
    with_settings = {  # steps whose action also takes the settings
        "simulate": _act_simulate, "ingest": _act_ingest, "screen": _act_screen, "sample": _act_sample,
        "configurational": _act_configurational, "measurement": _act_measurement, "structural": _act_structural,
        "moderation": _act_moderation, "robustness": _act_robustness, "weighting": _act_weighting,
        "power": _act_power,
    }
    layout_only = {"instrument": _act_instrument, "manifest": _act_manifest, "report": _act_report,
                   "book": _act_book, "privacy": _act_privacy}
    tasks = {}
    for name, files in step_files(layout, settings).items():
        act = (with_settings[name], [layout, settings]) if name in with_settings else (layout_only[name], [layout])
        tasks[name] = dict(actions=[act], **files, verbosity=2, doc=name)
        if name in SECTIONS:
            tasks[name]["uptodate"] = [config_changed({k: settings.get(k) for k in SECTIONS[name]})]
    tasks["privacy"]["uptodate"] = []
    return tasks


def _loader_namespace(layout, settings, skip: tuple = ()):
    defs = task_definitions(layout, settings)
    ns = {"DOIT_CONFIG": {"dep_file": str(layout.root / ".doit.db"), "backend": "json",
                           "verbosity": 2, "default_tasks": [s for s in STEPS if s not in skip]}}
    for name, d in defs.items():
        if name in skip:
            continue
        ns[f"task_{name}"] = (lambda d=d: d)
        ns[f"task_{name}"].__name__ = f"task_{name}"
    return ns


def run(targets=(), layout: paths.Layout = paths.DEFAULT, force: bool = False, verbose: bool = True,
        skip: tuple = (), settings: dict | None = None, use_committed: bool = False,
        parallel: dict | None = None) -> int:
    """Bring ``targets`` (default: every step) up to date; return doit's exit status.

    Parameters
    ----------
    targets : sequence of str
        Step names from :data:`STEPS`; empty means all.
    layout : analysis.paths.Layout
        Where generated files go (a temporary layout is used by ``verify``).
    force : bool
        Rerun the named steps even if doit considers them up to date.
    skip : tuple of str
        Steps to leave out entirely (``verify`` skips the book and report).
    use_committed : bool
        Take the committed outputs of the heavy steps (:data:`HEAVY`) as they
        are instead of recomputing them, when their ``index.json`` exists
        (CI builds the book this way; ``resilience verify`` checks those
        files against the manifest).
    parallel : dict, optional
        ``jobs``, ``backend``, ``scheduler`` from the command line (None
        values: not given); they win over ``study.yaml``'s ``parallel:``
        section.  Where the bootstrap and Monte Carlo draws run never changes
        a result, so this section is in no step's ``config_changed`` and
        changing it reruns nothing.
    """
    from . import _parallel
    from .study.settings import load_settings

    from doit.cmd_base import ModuleTaskLoader
    from doit.doit_cmd import DoitMain

    unknown = [t for t in targets if t not in STEPS]
    if unknown:
        raise ValueError(f"unknown step(s) {', '.join(unknown)}; the steps are: {', '.join(STEPS)}")
    if use_committed:
        have = {"manifest": layout.manifest.exists()}
        for step in HEAVY[:-1]:
            have[step] = (layout.results / step / "index.json").exists()
        skip = tuple(skip) + tuple(s for s in HEAVY if have[s])
    ns = _loader_namespace(layout, settings, skip)
    layout.root.mkdir(parents=True, exist_ok=True)
    argv = ["run"]
    if force:
        argv.append("--always-execute")
    argv.extend(targets)
    main = DoitMain(ModuleTaskLoader(ns), config_filenames=())
    file_settings = settings if settings is not None else load_settings(layout.config)
    par = _parallel.resolve(file_settings.get("parallel"), **(parallel or {}))
    # the steps' bootstraps and Monte Carlo runs use this session (a Dask LocalCluster starts at the first of them);
    # every step's fits run with one BLAS thread whatever the environment says (analysis/_determinism.py)
    with _parallel.blas_threads(1), _parallel.session(**par):
        return main.run(argv)
