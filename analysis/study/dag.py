"""The study's steps as a DAG of files: what each step reads and writes.

One declaration, read by the task runner (:mod:`analysis.pipeline`, which
adds the action of each step and runs them with doit) and by the book
(:mod:`analysis.study.booktools`: which step and which ``resilience`` command
recreate a table, the reproduce appendix's list of steps).
"""
from __future__ import annotations

from pathlib import Path

from .. import paths

__all__ = ["STEPS", "HEAVY", "SECTIONS", "step_files", "synthetic_export", "truth_file"]

#: Steps whose committed outputs CI may reuse (``--use-committed-results``): the heavy ones.
HEAVY = ("measurement", "structural", "moderation", "robustness", "weighting", "power", "manifest")

#: Step names in execution order.
STEPS = (
    "instrument", "simulate", "ingest", "screen", "sample", "configurational", "measurement",
    "structural", "moderation", "robustness", "weighting", "power", "manifest", "report", "book", "privacy",
)

_PKG = paths.ROOT / "analysis"


def _modules(*names: str) -> list[str]:
    """Source files a step depends on: modules (``study/ingest.py``) or packages (``sem``)."""
    files: list[Path] = []
    for name in names:
        target = _PKG / name
        if target.is_dir():
            files.extend(sorted(target.rglob("*.py")))
        else:
            files.append(target)
    files.extend([_PKG / "io.py", _PKG / "paths.py", _PKG / "errors.py", _PKG / "_determinism.py"])
    return sorted({str(f) for f in files if f.exists()})


def synthetic_export(layout: paths.Layout, settings: dict) -> Path:
    """The synthetic platform export the simulate step writes (``data/raw/synthetic/<format>_synthetic.csv``)."""
    fmt = settings["synthetic"].get("format", "wjx")
    suffix = {"wjx": ".csv", "kobo": ".csv", "csv": ".csv"}[fmt]
    return layout.raw / "synthetic" / f"{fmt}_synthetic{suffix}"


def truth_file(layout, settings) -> Path:
    """The declared truth beside the synthetic export (``*.truth.json``)."""
    export = synthetic_export(layout, settings)
    return export.with_name(export.stem + ".truth.json")


#: The ``study.yaml`` sections each step reads: it reruns when they change, and only then.
SECTIONS = {
    "simulate": ("synthetic",), "ingest": ("synthetic",), "screen": ("screening",),
    "configurational": ("configurational",), "measurement": ("measurement",), "structural": ("structural",),
    "moderation": ("moderation", "structural", "synthetic"), "weighting": ("synthetic",),
    "robustness": ("structural", "robustness"), "power": ("power",),
    "manifest": ("synthetic", "structural", "power"),
    "report": ("project", "structural"),
}


def step_files(layout: paths.Layout = paths.DEFAULT, settings: dict | None = None) -> dict:
    """Every step's inputs and outputs: ``{step: {"file_dep": [...], "targets": [...]}}`` for ``layout``.

    ``file_dep`` lists the data files, the settings files and the source
    modules the step reads (a changed module reruns the step); the
    ``study.yaml`` sections each step reads are :data:`SECTIONS`.
    """
    from .settings import load_settings

    settings = settings if settings is not None else load_settings(layout.config)
    export = synthetic_export(layout, settings)
    processed = layout.processed
    analysis_data = processed / "analysis.parquet"
    res = layout.results
    instrument_in = [str(layout.instrument), *_modules("study/instrument.py")]
    index = {s: res / s / "index.json" for s in ("data", "configurational", "measurement", "structural", "moderation",
                                                 "robustness", "weighting", "power")}

    tasks = {
        "instrument": dict(
            file_dep=instrument_in + _modules("study/render.py", "study/seed.py", "study/typography.py"),
            targets=[str(layout.generated_instrument / "index.json")],
        ),
        "simulate": dict(
            file_dep=instrument_in + [str(layout.population_model)]
            + _modules("study/population.py", "study/simulate.py", "study/exports.py"),
            targets=[str(export), str(truth_file(layout, settings)), str(export.with_name("community_frame.csv"))],
        ),
        "ingest": dict(
            file_dep=[str(export)] + instrument_in + _modules("study/ingest.py", "study/exports.py", "study/deidentify.py"),
            targets=[str(processed / "responses.parquet"), str(processed / "ingest_report.json")],
        ),
        "screen": dict(
            file_dep=instrument_in + [str(processed / "responses.parquet")]
            + _modules("study/screen.py", "study/ingest.py", "psychometrics/screening.py"),
            targets=[str(analysis_data), str(processed / "flags.csv"), str(processed / "screening_report.csv")],
        ),
        "sample": dict(
            file_dep=instrument_in + [str(analysis_data), str(processed / "flags.csv"), str(processed / "ingest_report.json"),
                                      str(truth_file(layout, settings))] + _modules("study/sample.py", "psychometrics/screening.py"),
            targets=[str(index["data"])],
        ),
        "configurational": dict(
            file_dep=instrument_in + [str(analysis_data), str(processed / "ingest_report.json"),
                                      str(layout.population_model)]
            + _modules("study/configurational.py", "study/population.py", "study/multilevel.py", "study/settings.py",
                       "psychometrics/qca.py", "psychometrics/nca.py", "study/style.py", "results.py"),
            targets=[str(index["configurational"])],
        ),
        "measurement": dict(
            file_dep=instrument_in + [str(analysis_data)]
            + _modules("sem", "psychometrics", "study/measurement.py", "study/style.py", "results.py"),
            targets=[str(index["measurement"])],
        ),
        "structural": dict(
            file_dep=instrument_in + [str(analysis_data)]
            + _modules("sem", "psychometrics", "study/structural.py", "study/multilevel.py", "study/diagrams.py", "study/style.py", "results.py"),
            targets=[str(index["structural"])],
        ),
        "moderation": dict(
            file_dep=instrument_in + [str(analysis_data), str(layout.population_model)]
            + _modules("sem", "psychometrics", "study/moderation.py", "study/structural.py", "study/population.py",
                       "study/simulate.py", "study/power.py", "study/style.py", "results.py"),
            targets=[str(index["moderation"])],
        ),
        "robustness": dict(
            file_dep=instrument_in + [str(analysis_data)]
            + _modules("sem", "study/robustness.py", "study/structural.py", "results.py"),
            targets=[str(index["robustness"])],
        ),
        "weighting": dict(
            file_dep=instrument_in + [str(analysis_data), str(export.with_name("community_frame.csv"))]
            + _modules("sem", "study/weighting.py", "study/multilevel.py", "study/robustness.py", "study/structural.py",
                       "results.py"),
            targets=[str(index["weighting"])],
        ),
        "power": dict(
            file_dep=instrument_in + [str(layout.population_model)]
            + _modules("sem", "psychometrics", "study/power.py", "study/population.py", "study/simulate.py", "study/style.py"),
            targets=[str(index["power"])],
        ),
    }
    results_indexes = [str(p) for p in index.values()]
    manifest_inputs = [str(layout.config), str(layout.instrument), str(layout.population_model), str(export)]
    tasks["manifest"] = dict(
        file_dep=results_indexes + manifest_inputs + _modules("manifest.py"),
        targets=[str(layout.manifest)],
    )
    tasks["report"] = dict(
        file_dep=results_indexes + [str(layout.book / "references.bib")]
        + _modules("study/report.py", "study/typography.py", "study/tables.py", "study/diagrams.py", "study/glossary.py",
                   "study/moderation.py", "study/population.py", "results.py"),
        targets=[str(layout.reports / "stage_report.docx")],
    )
    book_sources = sorted(str(p) for p in layout.book.rglob("*") if p.is_file() and "_build" not in p.parts
                          and p.suffix in {".md", ".yml", ".bib", ".py", ".ipynb", ".css", ".png", ".svg"})
    tasks["book"] = dict(
        file_dep=book_sources + results_indexes + [str(layout.manifest), str(layout.generated_instrument / "index.json"),
                                                   str(processed / "screening_report.csv")]
        + _modules("bookbuild.py", "study/tables.py", "study/diagrams.py", "study/booktools.py", "study/glossary.py",
                   "study/instrument.py", "study/checklist.py", "study/moderation.py", "study/population.py", "study/dag.py",
                   "results.py"),
        targets=[str(layout.book_html / "index.html")],
    )
    tasks["privacy"] = dict(
        file_dep=[str(layout.book_html / "index.html"), str(layout.manifest), str(processed / "responses.parquet"),
                  str(analysis_data)] + _modules("study/deidentify.py"),
        targets=[],
    )
    return tasks
