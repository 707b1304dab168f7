"""The `resilience` command: bad input is one line, exit status 2, no traceback."""
import subprocess
import sys

import pytest

from analysis.cli import main


def _run(*args):
    return subprocess.run([sys.executable, "-m", "analysis.cli", *args], capture_output=True, text=True)


def test_help_lists_every_command():
    out = _run("--help").stdout
    for cmd in ("reproduce", "verify", "instrument", "simulate", "ingest", "screen", "fit", "report", "scan"):
        assert cmd in out


def test_missing_model_file_is_a_clean_error(tmp_path):
    proc = _run("fit", str(tmp_path / "nope.lav"), str(tmp_path / "nope.csv"))
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert "nope.lav" in proc.stderr and "not found" in proc.stderr


def test_unknown_step_is_a_clean_error(capsys):
    assert main(["reproduce", "no-such-step"]) == 2
    err = capsys.readouterr().err
    assert "unknown step" in err and "instrument" in err


def test_fit_bootstrap_json_matches_lavaan_percentile_interval(tmp_path):
    """`resilience fit --bootstrap` on PoliticalDemocracy, ind := a*b, vs lavaan's 5,000-draw interval."""
    import json
    from pathlib import Path

    import pandas as pd

    ref_dir = Path(__file__).parent / "reference"
    model = tmp_path / "poldem.lav"
    model.write_text(
        "ind60 =~ x1 + x2 + x3\ndem60 =~ y1 + y2 + y3 + y4\ndem65 =~ y5 + y6 + y7 + y8\n"
        "dem60 ~ a*ind60\ndem65 ~ c*ind60 + b*dem60\n"
        "y1 ~~ y5\ny2 ~~ y4 + y6\ny3 ~~ y7\ny4 ~~ y8\ny6 ~~ y8\nind := a*b\n"
    )
    out = tmp_path / "fit.json"
    proc = _run("fit", str(model), str(ref_dir / "data" / "PoliticalDemocracy.csv"),
                "--bootstrap", "600", "--seed", "7", "--json", str(out), "--quiet")
    assert proc.returncode == 0, proc.stderr
    payload = json.loads(out.read_text())
    fit = payload["fit"]
    assert fit["n_boot"] == 600
    assert fit["n_boot_ok"] + fit["n_boot_failed"] == 600
    assert 0 < fit["n_boot_improper"] < 600  # lavaan flags about a third of these draws inadmissible
    (ind,) = [r for r in payload["estimates"] if r["op"] == ":="]
    lav = pd.read_csv(ref_dir / "lavaan" / "poldem_boot_estimates.csv")
    lav = lav[(lav["lhs"] == "ind") & (lav["op"] == ":=")].iloc[0]
    # 600 draws: the Monte Carlo SE of a 2.5% / 97.5% quantile here is about 0.03 / 0.06
    assert abs(ind["ci_lower"] - lav["ci_lower"]) < 0.1
    assert abs(ind["ci_upper"] - lav["ci_upper"]) < 0.2
    assert abs(ind["se"] - lav["se"]) < 0.05
    assert ind["ci_lower"] < ind["est"] < ind["ci_upper"]


def test_fit_two_level_model_with_cluster_matches_lavaan(tmp_path):
    """`resilience fit --cluster` with level: blocks gives lavaan's two-level estimates (paths_sat)."""
    import json
    from pathlib import Path

    import pandas as pd

    ref_dir = Path(__file__).parent / "reference"
    lav = pd.read_csv(ref_dir / "lavaan" / "twolevel_paths_sat_estimates.csv")
    lav = lav[lav["op"] == "~"]
    lines = []
    for level in (1, 2):
        lines.append(f"level: {level}")
        for lhs, sub in lav[lav["level"] == level].groupby("lhs", sort=False):
            lines.append(f"  {lhs} ~ " + " + ".join(sub["rhs"]))
        lines.append("  m1 ~~ m2 + m3 + m4\n  m2 ~~ m3 + m4\n  m3 ~~ m4")
    model = tmp_path / "twolevel.lav"
    model.write_text("\n".join(lines) + "\n")
    data = ref_dir / "data" / "twolevel_paths.csv"
    out = tmp_path / "fit.json"
    proc = _run("fit", str(model), str(data), "--cluster", "cluster", "--json", str(out), "--quiet")
    assert proc.returncode == 0, proc.stderr
    est = pd.DataFrame(json.loads(out.read_text())["estimates"])
    got = est[est["op"] == "~"].set_index(["level", "lhs", "rhs"])["est"]
    want = lav.set_index(["level", "lhs", "rhs"])["est"]
    pd.testing.assert_series_equal(got.loc[want.index], want, rtol=1e-3, check_names=False)
    no_cluster = _run("fit", str(model), str(data), "--quiet")
    assert no_cluster.returncode == 2 and "cluster" in no_cluster.stderr and "Traceback" not in no_cluster.stderr


def test_fit_product_terms_weights_and_probe_match_lavaan(tmp_path):
    """resilience fit with x:w, --weights and --probe: lavaan's numbers (tests/reference/lavaan_moderation.R)."""
    import json
    from pathlib import Path

    import pandas as pd

    ref = Path(__file__).resolve().parent / "reference"
    model = tmp_path / "simple.lav"
    model.write_text("y ~ b1*x + b2*w + b3*x:w\n", encoding="utf-8")
    probe = pd.read_csv(ref / "lavaan" / "mod_probe.csv")
    out = tmp_path / "fit.json"
    at = ",".join(f"{v!r}" for v in probe["w"])
    r = _run("fit", str(model), str(ref / "data" / "modmed.csv"), "--probe", "y,x,w", "--probe-at", at,
             "--probe-figure", str(tmp_path / "probe.png"), "--json", str(out))
    assert r.returncode == 0, r.stderr
    assert "Johnson-Neyman" in r.stdout and (tmp_path / "probe.png").stat().st_size > 0
    payload = json.loads(out.read_text())
    slopes = pd.DataFrame(payload["probe"]["slopes"])  # JSON holds 6 significant digits (analysis.io.PRECISION)
    assert slopes["slope"].to_numpy() == pytest.approx(probe["slope"].to_numpy(), rel=1e-5)
    assert slopes["se"].to_numpy() == pytest.approx(probe["se"].to_numpy(), rel=1e-5)
    assert payload["probe"]["johnson_neyman"]["lower"] == pytest.approx(probe["jn_lower"].iloc[0], rel=1e-5)
    # the weighted fit: lavaan's sampling.weights (MLR), cluster-robust
    wfit = tmp_path / "w.json"
    r = _run("fit", str(model), str(ref / "data" / "modmed.csv"), "--weights", "wt", "--quiet", "--json", str(wfit))
    assert r.returncode == 0, r.stderr
    w = json.loads(wfit.read_text())
    assert w["options"]["sampling_weights"] == "wt" and w["options"]["estimator"] == "MLR"
    # weights with the bootstrap are refused in one line
    r = _run("fit", str(model), str(ref / "data" / "modmed.csv"), "--weights", "wt", "--bootstrap", "5")
    assert r.returncode == 2 and "Traceback" not in r.stderr and len(r.stderr.strip().splitlines()) == 1
