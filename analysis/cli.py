"""The ``resilience`` command: a thin face over the study layer.

Each subcommand parses its arguments, calls one study function and prints
what it did.  Errors in the user's input (:class:`analysis.errors.InputError`,
``ValueError``, a missing file) are printed as one line naming the file, row
and column, with exit status 2 and no traceback.  A model that does not
converge, or converges to an improper solution, exits with status 3.

Run ``resilience --help`` or ``resilience <command> --help``.
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

# One BLAS thread per process (the SEM fits are small dense problems, and the bootstrap and
# Monte Carlo steps use both cores through worker processes; a threaded BLAS on top of that
# oversubscribes a 2-core machine several-fold), one BLAS kernel and one set of numpy SIMD loops
# on every x86-64 machine with AVX2, so that results do not depend on the machine: set before
# numpy loads (analysis/_determinism.py).
from ._determinism import pin_environment

pin_environment()

from . import paths
from .errors import FitError, InputError

__all__ = ["main", "build_parser"]

EXIT_INPUT = 2
EXIT_FIT = 3
EXIT_VERIFY = 1


# --------------------------------------------------------------------------
# subcommands
# --------------------------------------------------------------------------
def _cmd_reproduce(args) -> int:
    from .pipeline import run

    return run(targets=args.steps, layout=paths.DEFAULT, force=args.force, verbose=not args.quiet,
               use_committed=args.use_committed_results,
               parallel={"jobs": args.jobs, "backend": args.backend, "scheduler": args.scheduler})


def _cmd_verify(args) -> int:
    from .manifest import verify

    from .pipeline import run

    report = verify(layout=paths.DEFAULT, recompute=not args.no_recompute, keep=args.keep, run=run)
    for line in report.lines():
        print(line)
    return 0 if report.ok else EXIT_VERIFY


def _cmd_instrument(args) -> int:
    from .study import instrument as ins

    if args.action == "check":
        violations = ins.check_instrument(path=args.path)
        for v in violations:
            print(v)
        if violations:
            print(f"{len(violations)} problem(s) in {args.path}", file=sys.stderr)
            return EXIT_INPUT
        print(f"{args.path}: instrument OK")
        return 0
    from .study.render import render

    written = render(Path(args.out), path=args.path)
    for p in written:
        print(p)
    return 0


def _cmd_simulate(args) -> int:
    from .study.simulate import simulate_to_file

    export, truth = simulate_to_file(
        n=args.n, communities=args.communities, seed=args.seed, fmt=args.format, out=Path(args.out)
    )
    print(f"wrote {export}\nwrote {truth}\n(synthetic data: simulated from {paths.DEFAULT.population_model.name})")
    return 0


def _cmd_ingest(args) -> int:
    from .study.ingest import ingest

    report = ingest([Path(p) for p in args.raw], Path(args.out),
                    consent_enforced_at_entry=args.consent_enforced_at_entry)
    print(report)
    return 0


def _cmd_screen(args) -> int:
    from .study.screen import screen
    from .study.settings import load_settings

    report = screen(Path(args.processed), load_settings()["screening"])
    print(report)
    return 0


def _cmd_scan(args) -> int:
    from .study.deidentify import scan_for_identifiers

    missing = [p for p in args.paths if not Path(p).exists()]
    if missing:
        raise InputError("no such file or folder", file=missing[0])
    findings = scan_for_identifiers([Path(p) for p in args.paths])
    for f in findings:
        print(f)
    if findings:
        print(f"{len(findings)} identifier-shaped value(s) found (the values are not shown)", file=sys.stderr)
        return EXIT_INPUT
    print("no identifiers found")
    return 0


def _cmd_fit(args) -> int:
    import pandas as pd

    model_path = Path(args.model)
    if not model_path.exists():
        raise InputError("model file not found", file=model_path)
    data_path = Path(args.data)
    if not data_path.exists():
        raise InputError("data file not found", file=data_path)
    from .sem import sem

    data = pd.read_parquet(data_path) if data_path.suffix == ".parquet" else pd.read_csv(data_path)
    ordered = None
    if args.ordered:
        ordered = True if args.ordered == "all" else [s.strip() for s in args.ordered.split(",") if s.strip()]
    group_equal = tuple(s.strip() for s in (args.group_equal or "").split(",") if s.strip())
    group_partial = tuple(s.strip() for s in (args.group_partial or "").split(",") if s.strip())
    import contextlib

    from . import _parallel
    from ._determinism import blas_pinned

    par = _parallel.resolve(None, jobs=args.jobs, backend=args.backend, scheduler=args.scheduler)
    # One BLAS thread, as the environment set at the top of this module gives the `resilience` script, so the
    # command gives the same bits however it is called (in-process, numpy may have loaded a threaded BLAS;
    # where the environment was set before numpy loaded, the run-time limit is not needed).
    threads = contextlib.nullcontext() if blas_pinned() else _parallel.blas_threads(1)
    # The bootstrap's draws run in the session's workers: local processes, or a Dask cluster (a LocalCluster
    # started here and closed on the way out, or the scheduler at --scheduler); the results are the same.
    with threads, _parallel.session(**par):
        result = sem(
            model_path.read_text(encoding="utf-8"),
            data,
            estimator=args.estimator,
            ordered=ordered,
            missing=args.missing,
            group=args.group,
            group_equal=group_equal,
            group_partial=group_partial,
            se=args.se,
            bootstrap=args.bootstrap,
            seed=args.seed,
            ci_type=args.ci_type,
            exclude_improper=args.exclude_improper,
            cluster=args.cluster,
            sampling_weights=args.weights,
            progress=args.progress if args.progress is not None else sys.stderr.isatty(),
            n_jobs=par["jobs"],
        )
        probe = None
        if args.probe:
            probe = _probe(result, data, args.probe, args.probe_at, quiet=args.quiet, figure=args.probe_figure)
        if args.json:
            from .io import write_json

            write_json(args.json, _fit_payload(result, probe))
            print(f"wrote {args.json}")
        if not args.quiet:
            print(result.summary())
        if not result.converged or result.issues:
            for issue in result.issues:
                print(f"warning: {issue}", file=sys.stderr)
            return EXIT_FIT
        return 0


def _fit_payload(result, probe=None) -> dict:
    """What ``resilience fit --json`` writes: the result, its options, the probing and the bootstrap counts."""
    payload = result.to_dict()
    payload["options"] = {k: result.options.get(k) for k in (
        "estimator", "missing", "se", "cluster", "group", "bootstrap", "seed", "ci_type", "exclude_improper",
        "sampling_weights")}
    if probe is not None:
        payload["probe"] = probe
    boot = getattr(result, "bootstrap", None)
    if boot is not None:  # the draws behind the estimates' se and ci_lower/ci_upper (as the study's bootstrap.csv)
        payload["bootstrap"] = {**boot.counts(), "method": boot.method, "unit": boot.unit,
                                "interval": result.options.get("ci_type"), "seed": boot.seed,
                                "exclude_improper": boot.exclude_improper}
    return payload


def _probe(result, data, spec: str, at: str | None, *, quiet: bool, figure: str | None = None) -> dict:
    """``--probe Y,X,W``: simple slopes of X on Y at values of W and the Johnson-Neyman interval."""
    from .sem.interactions import johnson_neyman, simple_slopes

    names = _names(spec)
    if len(names) != 3:
        raise ValueError(f"--probe needs three names, outcome,focal,moderator (e.g. y,x,w), not {spec!r}.")
    y, x, w = names
    if w not in data.columns:
        raise ValueError(f"--probe: the moderator {w!r} is not a column of the data.")
    if at:
        try:
            values = [float(v) for v in _names(at)]
        except ValueError:
            raise ValueError(f"--probe-at needs numbers separated by commas, not {at!r}.") from None
    else:  # mean - SD, mean, mean + SD of the moderator (SD with n - 1, as R's sd())
        m, sd = float(data[w].mean()), float(data[w].std())
        values = [m - sd, m, m + sd]
    slopes = simple_slopes(result, y, x, w, at=values)
    jn = johnson_neyman(result, y, x, w)
    if figure:
        import numpy as np

        from .study import style
        from .study.diagrams import conditional_effect_figure

        lo, hi = float(data[w].min()), float(data[w].max())
        curve = simple_slopes(result, y, x, w, at=np.linspace(lo, hi, 61))
        style.save_figure(conditional_effect_figure(curve, bounds=(jn.lower, jn.upper), xlabel=w,
                                                    ylabel=f"{x} → {y}"), figure)
        print(f"wrote {figure}")
    if not quiet:
        print(f"Conditional effect of {x} on {y} at values of {w}:")
        print(slopes.to_string(index=False, float_format=lambda v: f"{v:.4f}"))
        print(f"Johnson-Neyman interval (95%): {jn.describe()}.")
    return {"slopes": slopes.to_dict(orient="records"),
            "johnson_neyman": {"lower": jn.lower, "upper": jn.upper, "inside": jn.inside,
                               "significant_everywhere": jn.significant_everywhere}}


def _read_data(path: Path):
    """A data file (.csv or .parquet) as a DataFrame; InputError when it is missing or unreadable."""
    import pandas as pd

    if not path.exists():
        raise InputError("data file not found", file=path)
    try:
        return pd.read_parquet(path) if path.suffix == ".parquet" else pd.read_csv(path)
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        raise InputError(f"not a readable data table ({type(exc).__name__})", file=path) from None


def _names(text: str | None) -> list[str]:
    return [t.strip() for t in (text or "").split(",") if t.strip()]


def _need_columns(data, columns, path: Path) -> None:
    missing = [c for c in columns if c not in data.columns]
    if missing:
        raise InputError(f"column(s) not in the data: {', '.join(missing)}", file=path, row=1, column=missing[0])


def _pairs(values, flag: str) -> dict:
    """``["A=1,2,3", ...]`` or ``"A=1,B=0"`` as ``{"A": "1,2,3"}`` / ``{"A": "1", "B": "0"}``."""
    out = {}
    for text in values:
        name, sep, value = text.partition("=")
        if not sep or not name.strip() or not value.strip():
            raise InputError(f"{flag} expects NAME=VALUE, got {text!r}")
        out[name.strip()] = value.strip()
    return out


def _num(x, spec: str = ".3f") -> str:
    """A number for the terminal; NA for a missing or undefined one."""
    return "NA" if x is None or x != x else format(x, spec)


def _cmd_qca(args) -> int:
    from .io import write_json
    from .psychometrics.qca import qca

    path = Path(args.data)
    data = _read_data(path)
    conditions = _names(args.conditions)
    if not conditions:
        raise InputError("--conditions names no column")
    calibrate = {}
    for name, value in _pairs(args.calibrate or [], "--calibrate").items():
        try:
            e, c, i = (float(v) for v in value.split(","))
        except ValueError:
            raise InputError(f"--calibrate {name}= expects three numbers: exclusion,crossover,inclusion") from None
        calibrate[name] = (e, c, i)
    directional = None
    if args.directional:
        pairs = {}
        for part in args.directional:
            pairs.update(_pairs(_names(part), "--directional"))
        bad = {k: v for k, v in pairs.items() if v not in ("1", "0", "-")}
        if bad:
            raise InputError(f"--directional values are 1, 0 or -, got {bad}")
        directional = {k: (v if v == "-" else int(v)) for k, v in pairs.items()}
    _need_columns(data, [args.outcome, *conditions, *calibrate], path)
    result = qca(data, args.outcome, conditions, calibrate=calibrate or None, incl_cut=args.incl_cut,
                 n_cut=args.n_cut, pri_cut=args.pri_cut, directional=directional)
    write_json(args.json, result)
    print(f"fsQCA of {args.outcome} on {', '.join(conditions)} (incl.cut = {args.incl_cut:g}, n.cut = {args.n_cut}, "
          f"pri.cut = {args.pri_cut:g}): {len(result['truth_table'])} observed configurations")
    for kind in ("complex", "parsimonious", "intermediate"):
        for k, sol in enumerate(result["solutions"][kind], 1):
            print(f"  {kind} M{k}: {sol['expression'] or '(none)'}   consistency {_num(sol['consistency'])}, "
                  f"coverage {_num(sol['coverage'])}")
    print(f"wrote {args.json}")
    return 0


def _cmd_nca(args) -> int:
    from .io import write_json
    from .psychometrics.nca import nca

    path = Path(args.data)
    data = _read_data(path)
    conditions = _names(args.conditions)
    ceilings = _names(args.ceilings)
    if not conditions:
        raise InputError("--conditions names no column")
    _need_columns(data, [args.outcome, *conditions], path)
    result = nca(data, args.outcome, conditions, ceilings=tuple(ceilings), permutations=args.permutations,
                 seed=args.seed)
    write_json(args.json, result)
    print(f"NCA of {args.outcome}: " + ("no permutation test" if not args.permutations
                                         else f"{args.permutations} permutations, seed {args.seed}"))
    for r in result["results"]:
        p = "" if r["p_value"] is None else f", p = {r['p_value']:.3f}"
        print(f"  {r['condition']:<12} {r['ceiling']:<7} d = {_num(r['effect_size'])}, "
              f"accuracy {_num(r['accuracy'], '.1f')}%{p}")
    print(f"wrote {args.json}")
    return 0


def _cmd_report(args) -> int:
    from .study.report import write_report

    path = write_report(Path(args.out))
    print(f"wrote {path}")
    return 0


def _cmd_manifest(args) -> int:
    from .manifest import write_manifest

    path = write_manifest(paths.DEFAULT)
    print(f"wrote {path}")
    return 0


# --------------------------------------------------------------------------
def _parallel_options(s, jobs_default: str, backend_default: str) -> None:
    """--jobs/--backend/--scheduler: where the bootstrap and Monte Carlo draws run (never what they give)."""
    s.add_argument("--jobs", type=int, default=None, metavar="K",
                   help=f"worker processes for the bootstrap and Monte Carlo draws (default: {jobs_default}); "
                        "with --backend dask and no --scheduler, the workers of the LocalCluster started for the run")
    s.add_argument("--backend", choices=["local", "dask"], default=None,
                   help=f"local worker processes, or a dask.distributed cluster (default: {backend_default}); "
                        "the results are identical for a given seed")
    s.add_argument("--scheduler", default=None, metavar="tcp://HOST:PORT",
                   help="a running Dask scheduler to send the draws to (implies --backend dask; default: start a "
                        "LocalCluster and close it afterwards)")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``resilience`` (exposed for the docs and tests)."""
    p = argparse.ArgumentParser(
        prog="resilience",
        description="Reproduce, verify and extend the community-resilience study (城市基层党组织引领社区韧性治理).",
    )
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    s = sub.add_parser("reproduce", help="run the whole study (only the steps whose inputs changed)")
    s.add_argument("steps", nargs="*", help="steps to bring up to date (default: all)")
    s.add_argument("--force", action="store_true", help="rerun the named steps even if up to date")
    s.add_argument("--quiet", action="store_true")
    s.add_argument("--use-committed-results", action="store_true",
                   help="reuse the committed outputs of the heavy steps (measurement, structural, moderation, robustness, weighting, power) "
                        "instead of recomputing them; check them with `resilience verify --no-recompute`")
    _parallel_options(s, "study.yaml parallel: jobs, else 2", "study.yaml parallel: backend, else local")
    s.set_defaults(func=_cmd_reproduce)

    s = sub.add_parser("verify", help="recompute the study in a temporary folder and compare with results/manifest.json")
    s.add_argument("--no-recompute", action="store_true", help="only check the committed files against the manifest")
    s.add_argument("--keep", action="store_true", help="keep the temporary recomputation")
    s.set_defaults(func=_cmd_verify)

    s = sub.add_parser("instrument", help="check or render the survey instrument")
    s.add_argument("action", choices=["check", "render"])
    s.add_argument("--path", type=Path, default=paths.DEFAULT.instrument, help="instrument YAML")
    s.add_argument("--out", type=Path, default=paths.DEFAULT.generated_instrument, help="render: output folder")
    s.set_defaults(func=_cmd_instrument)

    s = sub.add_parser("simulate", help="draw a synthetic sample in a survey platform's export format")
    s.add_argument("--n", type=int, required=True)
    s.add_argument("--communities", type=int, default=60)
    s.add_argument("--seed", type=int, required=True)
    s.add_argument("--format", choices=["wjx", "kobo", "csv"], default="wjx")
    s.add_argument("--out", required=True)
    s.set_defaults(func=_cmd_simulate)

    s = sub.add_parser("ingest", help="validate and de-identify raw exports into processed data",
                       description="Read one or several downloads of the survey (问卷星 or KoboToolbox CSV/XLSX, "
                                   "codebook CSV, SPSS .sav; or a folder of them), keep consenting records, "
                                   "replace identifiers, quarantine faulty records and account for every record.")
    s.add_argument("raw", nargs="+", help="export file(s) or a folder of exports")
    s.add_argument("--out", default=str(paths.DEFAULT.processed), help="output folder (default data/processed)")
    s.add_argument("--consent-enforced-at-entry", action="store_true",
                   help="the exports have no consent column because the platform let nobody answer without "
                        "agreeing (recorded in the ingest report); without it such exports are refused")
    s.set_defaults(func=_cmd_ingest)

    s = sub.add_parser("screen", help="flag careless, speeding, outlying and duplicated responses")
    s.add_argument("processed", nargs="?", default=str(paths.DEFAULT.processed))
    s.set_defaults(func=_cmd_screen)

    s = sub.add_parser("scan", help="fail if anything shaped like a personal identifier (phone, ID number, name, "
                                    "address, e-mail, WeChat ID, IP, coordinates) is in the given files")
    s.add_argument("paths", nargs="+")
    s.set_defaults(func=_cmd_scan)

    s = sub.add_parser("fit", help="fit a lavaan-syntax model to a data file")
    s.add_argument("model", help="model file in lavaan syntax (.lav)")
    s.add_argument("data", help="data file (.csv or .parquet)")
    s.add_argument("--estimator", default="ML", choices=["ML", "MLR", "DWLS", "WLSMV"])
    s.add_argument("--ordered", nargs="?", const="all", default=None, help="ordinal indicators: all, or a comma list")
    s.add_argument("--missing", default="listwise", choices=["listwise", "fiml", "ml", "two.stage", "two-stage"],
                   help="listwise (default), fiml (alias ml), or two.stage (alias two-stage): ML fitted to the EM "
                        "moments; its bootstrap resamples the incomplete rows and redoes the EM in every draw")
    s.add_argument("--se", default=None, choices=["standard", "robust", "robust.cluster", "bootstrap", "none"],
                   help="standard errors as lavaan names them (default: robust.cluster with --cluster, bootstrap "
                        "with --bootstrap, else standard); with --bootstrap the estimates' se and intervals are "
                        "the bootstrap's")
    s.add_argument("--group", default=None)
    s.add_argument("--group-equal", default=None, help="e.g. loadings,intercepts")
    s.add_argument("--group-partial", default=None,
                   help="parameters freed from --group-equal (lavaan's group.partial), comma-separated, "
                        "e.g. \"visual=~x2,x3~1\" (spaces optional)")
    s.add_argument("--bootstrap", type=int, default=0,
                   help="number of bootstrap resamples (whole clusters with --cluster, else rows)")
    s.add_argument("--ci-type", default=None, choices=["percentile", "bc", "bca", "t", "symmetric-t"],
                   help="the bootstrap interval in ci_lower/ci_upper (default percentile); bca adds the jackknife "
                        "acceleration, t and symmetric-t studentize every draw by its own sandwich SE")
    s.add_argument("--exclude-improper", action="store_true",
                   help="leave draws with a negative variance out of the bootstrap SEs and intervals "
                        "(default: kept, as lavaan; counted either way)")
    s.add_argument("--seed", type=int, default=None, help="seed of the bootstrap")
    s.add_argument("--cluster", default=None,
                   help="cluster column: a two-level model when the syntax has level: blocks, "
                        "else cluster-robust standard errors (lavaan's cluster =) unless --se says otherwise; "
                        "with --bootstrap whole clusters are resampled")
    s.add_argument("--weights", default=None, metavar="COL",
                   help="sampling-weight column (lavaan's sampling.weights): weights normalised to sum to N, "
                        "weighted moments, ML becomes MLR (robust SEs, Yuan-Bentler test); complete data")
    s.add_argument("--probe", default=None, metavar="Y,X,W",
                   help="for a model with Y ~ X + W + X:W: simple slopes of X at values of W and the "
                        "Johnson-Neyman interval")
    s.add_argument("--probe-at", default=None, metavar="V1,V2,...",
                   help="moderator values for --probe (default: mean - SD, mean, mean + SD)")
    s.add_argument("--probe-figure", default=None, metavar="PNG",
                   help="with --probe: draw the conditional effect over the moderator's range with its 95%% "
                        "band and the Johnson-Neyman bounds")
    s.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                   help="progress bar of the bootstrap (default: when the terminal shows it)")
    _parallel_options(s, "2", "local")
    s.add_argument("--json", default=None, help="write fit and estimates as JSON here")
    s.add_argument("--quiet", action="store_true", help="do not print the summary")
    s.set_defaults(func=_cmd_fit)

    s = sub.add_parser("qca", help="fuzzy-set QCA: necessity, truth table and solutions (definitions of R's QCA)")
    s.add_argument("data", help="data file (.csv or .parquet), one row per case")
    s.add_argument("--outcome", required=True)
    s.add_argument("--conditions", required=True, help="comma-separated condition columns, in the order to print")
    s.add_argument("--calibrate", action="append", metavar="COL=E,C,I",
                   help="calibrate COL by the direct method from exclusion, crossover, inclusion (repeatable; "
                        "allowed on the outcome); other columns must be memberships in [0, 1]")
    s.add_argument("--incl-cut", type=float, default=0.8, help="consistency cut-off of the truth table (default 0.8)")
    s.add_argument("--n-cut", type=int, default=1, help="minimum cases of a configuration (default 1)")
    s.add_argument("--pri-cut", type=float, default=0.0, help="minimum PRI of a positive configuration (default 0)")
    s.add_argument("--directional", action="append", metavar="A=1,B=0,C=-",
                   help="directional expectations for the intermediate solution: 1, 0 or - per condition")
    s.add_argument("--json", required=True, help="write the result as JSON here")
    s.set_defaults(func=_cmd_qca)

    s = sub.add_parser("nca", help="Necessary Condition Analysis (definitions of R's NCA)")
    s.add_argument("data", help="data file (.csv or .parquet), one row per case")
    s.add_argument("--outcome", required=True)
    s.add_argument("--conditions", required=True, help="comma-separated condition columns")
    s.add_argument("--ceilings", default="ce_fdh,cr_fdh", help="ceiling lines (default ce_fdh,cr_fdh)")
    s.add_argument("--permutations", type=int, default=0, help="approximate permutation test draws (default: none)")
    s.add_argument("--seed", type=int, default=None, help="seed of the permutation test")
    s.add_argument("--json", required=True, help="write the result as JSON here")
    s.set_defaults(func=_cmd_nca)

    s = sub.add_parser("report", help="write the Chinese stage report (DOCX)")
    s.add_argument("--out", default=str(paths.DEFAULT.reports))
    s.set_defaults(func=_cmd_report)

    s = sub.add_parser("manifest", help="rewrite results/manifest.json from the results files")
    s.set_defaults(func=_cmd_manifest)
    return p


def _safe(message) -> str:
    """A message with every identifier-shaped part (in a file name, say) replaced by its tag, on one line."""
    from .study.deidentify import mask_identifiers

    return " ".join(mask_identifiers(str(message)).split("\n"))


def main(argv=None) -> int:
    """Entry point of the ``resilience`` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        code = int(args.func(args) or 0)
        sys.stdout.flush()  # a closed pipe shows here, not in the interpreter's exit
        return code
    except InputError as exc:
        print(f"resilience: error: {_safe(exc)}", file=sys.stderr)
        return EXIT_INPUT
    except FitError as exc:
        print(f"resilience: model not estimated: {exc}", file=sys.stderr)
        return EXIT_FIT
    except FileNotFoundError as exc:
        print(f"resilience: error: {_safe(exc)}", file=sys.stderr)
        return EXIT_INPUT
    except (ValueError, NotImplementedError) as exc:  # options that do not go together, or not implemented
        print(f"resilience: error: {_safe(exc)}", file=sys.stderr)
        return EXIT_INPUT
    except BrokenPipeError:
        # the reader of our output went away (``resilience ... | head``): say so once, quietly
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
        except OSError:  # pragma: no cover
            pass
        print("resilience: error: <stdout>: the output pipe was closed before everything was printed",
              file=sys.stderr)
        return EXIT_INPUT
    except OSError as exc:
        where = exc.filename or "?"
        print(f"resilience: error: {_safe(where)}: {exc.strerror or type(exc).__name__}", file=sys.stderr)
        return EXIT_INPUT
    except KeyboardInterrupt:
        print("resilience: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
