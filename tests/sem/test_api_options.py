"""The options of ``sem()`` a study step needs (issue 14, point 2: "everything reachable").

Truths: two-stage ML is, by definition, ML fitted to rows whose moments are the
EM estimates (``analysis.sem.twostage.exact_moment_data``), so ``sem(...,
missing="two.stage")`` must equal that fit made by hand to the last bit, and its
bootstrap must equal ``bootstrap(fit, rows=<the incomplete rows>)``; the bootstrap
inside ``sem()`` must draw exactly what ``analysis.sem.bootstrap.bootstrap`` draws
with the same seed, cluster labels and interval options; every interval type
must land in ``ci_lower/ci_upper`` as ``bootstrap_estimates(..., interval=)``
places it; ``se=`` must name the covariance matrix as lavaan does.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.sem import sem
from analysis.sem.bootstrap import INTERVAL_COLUMNS, bootstrap, bootstrap_estimates, interval_options
from analysis.sem.twostage import exact_moment_data

MED = """
  visual =~ x1 + x2 + x3
  textual =~ x4 + x5 + x6
  speed =~ x7 + x8 + x9
  textual ~ a*visual
  speed ~ b*textual + c*visual
  ind := a*b
"""
OV = [f"x{i}" for i in range(1, 10)]


@pytest.fixture(scope="module")
def data(hs):
    """HolzingerSwineford1939 with 30 clusters of about 10 rows and 4% of the answers missing."""
    d = hs.copy()
    d["cl"] = np.arange(len(d)) // 10
    rng = np.random.default_rng(14)
    x = d[OV].to_numpy(float, copy=True)
    x[rng.random(x.shape) < 0.04] = np.nan
    d[OV] = x
    return d


@pytest.fixture(scope="module")
def complete(hs):
    d = hs.copy()
    d["cl"] = np.arange(len(d)) // 10
    return d


# --------------------------------------------------------------------------
# missing = "two.stage"
# --------------------------------------------------------------------------
def test_two_stage_is_ml_on_the_exact_moment_rows(data):
    fit = sem(MED, data, missing="two.stage")
    assert fit.options["missing"] == "two.stage" and fit.options["se"] == "standard"
    by_hand = sem(MED, exact_moment_data(data, fit.stats.ov_names))
    np.testing.assert_array_equal(fit.theta, by_hand.theta)
    pd.testing.assert_frame_equal(fit.estimates, by_hand.estimates)
    assert fit.fit["chisq"] == by_hand.fit["chisq"] and fit.stats.ntotal == len(data)
    # the alias, and the incomplete rows the fit keeps for its bootstrap
    alias = sem(MED, data, missing="two-stage")
    np.testing.assert_array_equal(alias.theta, fit.theta)
    assert alias.options["missing"] == "two.stage"
    np.testing.assert_array_equal(fit.incomplete_rows[0], data[fit.stats.ov_names].to_numpy(float))
    assert np.isnan(fit.incomplete_rows[0]).any()


def test_two_stage_drops_rows_without_any_value(data):
    empty = data.iloc[:2].copy()
    empty[OV] = np.nan
    fit = sem(MED, pd.concat([data, empty], ignore_index=True), missing="two.stage")
    ref = sem(MED, data, missing="two.stage")
    np.testing.assert_array_equal(fit.theta, ref.theta)
    assert fit.stats.n_dropped == 2 and fit.stats.ntotal == len(data)


def test_two_stage_bootstrap_resamples_the_incomplete_rows(data):
    fit = sem(MED, data, missing="two.stage")
    by_hand = sem(MED, exact_moment_data(data, fit.stats.ov_names))
    rows = data[fit.stats.ov_names].to_numpy(float)
    ours = bootstrap(fit, n_boot=8, seed=3, n_jobs=1)
    ref = bootstrap(by_hand, n_boot=8, seed=3, n_jobs=1, rows=rows)
    assert ours.method == ref.method == "two-stage-em"
    np.testing.assert_array_equal(ours.theta, ref.theta)
    # ... and so does sem(..., bootstrap=) itself
    inside = sem(MED, data, missing="two.stage", bootstrap=8, seed=3, n_jobs=1)
    np.testing.assert_array_equal(inside.bootstrap.theta, ref.theta)


# --------------------------------------------------------------------------
# se =
# --------------------------------------------------------------------------
def test_se_options_name_the_covariance_matrix(complete):
    standard = sem(MED, complete)
    assert standard.options["se"] == "standard"
    np.testing.assert_array_equal(sem(MED, complete, se="standard").vcov, standard.vcov)
    robust = sem(MED, complete, se="robust")
    np.testing.assert_allclose(robust.vcov, sem(MED, complete, estimator="MLR").vcov, rtol=1e-12)
    assert not np.allclose(robust.vcov, standard.vcov)
    free = complete.pipe(lambda d: sem(MED, d, se="none")).estimates.query("op != ':=' and se != 0")
    assert free.empty or free["se"].isna().all()
    assert np.isnan(sem(MED, complete, se="none").vcov).all()


def test_cluster_keeps_lavaans_robust_cluster_default_unless_se_says_otherwise(complete):
    default = sem(MED, complete, cluster="cl")
    explicit = sem(MED, complete, cluster="cl", se="robust.cluster")
    assert default.options["se"] == explicit.options["se"] == "robust.cluster"
    np.testing.assert_array_equal(default.vcov, explicit.vcov)
    assert "chisq_scaled" in default.fit.index          # Yuan-Bentler test, as lavaan's MLR
    plain = sem(MED, complete)
    standard = sem(MED, complete, cluster="cl", se="standard")
    assert standard.options["se"] == "standard" and standard.options["cluster"] == "cl"
    np.testing.assert_allclose(standard.theta, plain.theta, rtol=1e-12)
    np.testing.assert_allclose(standard.vcov, plain.vcov, rtol=1e-12)
    assert "chisq_scaled" not in standard.fit.index
    paths = lambda f: f.estimates.query("op == '~'")["se"].to_numpy()  # noqa: E731
    assert not np.allclose(paths(default), paths(plain), rtol=1e-3)   # cluster-robust differs


def test_se_bootstrap_is_the_covariance_of_the_draws(complete):
    fit = sem(MED, complete, se="bootstrap", bootstrap=20, seed=1, n_jobs=1)
    used = fit.bootstrap.theta[fit.bootstrap.used]
    np.testing.assert_allclose(fit.vcov, np.cov(used, rowvar=False, ddof=1), rtol=1e-12)
    # se="standard" with draws: the model-based vcov, the bootstrap's se and interval in the estimates
    std = sem(MED, complete, se="standard", bootstrap=20, seed=1, n_jobs=1)
    np.testing.assert_array_equal(std.vcov, sem(MED, complete).vcov)
    a = std.estimates.query("label == 'a'").iloc[0]
    assert a["se"] == pytest.approx(np.std(used[:, std.bootstrap.names.index("textual~visual")], ddof=1))
    # without se=, draws mean bootstrap SEs (as before)
    assert sem(MED, complete, bootstrap=5, seed=1, n_jobs=1).options["se"] == "bootstrap"


# --------------------------------------------------------------------------
# bootstrap =, cluster =, seed =, ci_type =
# --------------------------------------------------------------------------
def test_cluster_bootstrap_inside_sem_equals_bootstrap_of_the_fit(complete):
    inside = sem(MED, complete, cluster="cl", se="standard", bootstrap=25, seed=7, n_jobs=1)
    outside = bootstrap(sem(MED, complete), n_boot=25, seed=7, n_jobs=1, exclude_improper=False,
                        cluster=complete["cl"].to_numpy())
    assert inside.bootstrap.unit == outside.unit == "cluster"
    np.testing.assert_array_equal(inside.bootstrap.theta, outside.theta)
    np.testing.assert_array_equal(inside.bootstrap.status, outside.status)
    # rows, not clusters, without cluster=
    rows = sem(MED, complete, bootstrap=25, seed=7, n_jobs=1)
    ref = bootstrap(sem(MED, complete), n_boot=25, seed=7, n_jobs=1, exclude_improper=False)
    assert rows.bootstrap.unit == "row"
    np.testing.assert_array_equal(rows.bootstrap.theta, ref.theta)
    # counts of failed and improper draws in .fit and to_dict(), as before
    d = inside.to_dict()["fit"]
    assert d["n_boot"] == 25 and d["n_boot_ok"] + d["n_boot_failed"] <= 25


def test_two_stage_cluster_bootstrap_equals_the_study_call(data):
    """What ``run_structural`` did by hand: fit the EM rows, resample incomplete rows by cluster."""
    inside = sem(MED, data, missing="two.stage", se="standard", cluster="cl", bootstrap=12, seed=4,
                 ci_type="symmetric-t", exclude_improper=True, n_jobs=1)
    by_hand = sem(MED, exact_moment_data(data, inside.stats.ov_names))
    ref = bootstrap(by_hand, n_boot=12, seed=4, n_jobs=1, rows=data[inside.stats.ov_names].to_numpy(float),
                    cluster=data["cl"].to_numpy(), exclude_improper=True, studentize=True)
    np.testing.assert_array_equal(inside.bootstrap.theta, ref.theta)
    np.testing.assert_array_equal(inside.bootstrap.se, ref.se)
    pd.testing.assert_frame_equal(inside.estimates, bootstrap_estimates(by_hand, ref, interval="symmetric-t"))
    assert inside.bootstrap.exclude_improper


@pytest.mark.parametrize("ci_type", list(INTERVAL_COLUMNS))
def test_every_ci_type_reaches_ci_lower_and_ci_upper(complete, ci_type):
    fit = sem(MED, complete, cluster="cl", se="standard", bootstrap=30, seed=11, ci_type=ci_type, n_jobs=1)
    assert fit.options["ci_type"] == ci_type
    est = fit.estimates
    ref = bootstrap_estimates(sem(MED, complete), bootstrap(sem(MED, complete), n_boot=30, seed=11, n_jobs=1,
                                                            exclude_improper=False, cluster=complete["cl"].to_numpy(),
                                                            **interval_options(ci_type)), interval=ci_type)
    pd.testing.assert_frame_equal(est, ref)
    iv = fit.bootstrap.intervals().set_index("name")
    lo, hi = INTERVAL_COLUMNS[ci_type]
    ind = est.query("lhs == 'ind'").iloc[0]
    assert (ind["ci_lower"], ind["ci_upper"]) == (iv.loc["ind", lo], iv.loc["ind", hi])
    if ci_type == "symmetric-t":
        assert ind["ci_upper"] - ind["est"] == pytest.approx(ind["est"] - ind["ci_lower"])
    assert ind["se"] == pytest.approx(fit.bootstrap.draws["ind"].std(ddof=1))


# --------------------------------------------------------------------------
# combinations that do not go together
# --------------------------------------------------------------------------
@pytest.mark.parametrize("kwargs, message", [
    (dict(se="robust.cluster"), r"se='robust.cluster' needs cluster="),
    (dict(se="sandwich"), r"se must be one of"),
    (dict(ci_type="bca"), r"ci_type='bca' chooses a bootstrap interval: give bootstrap > 0"),
    (dict(bootstrap=5, ci_type="studentized"), r"ci_type must be one of"),
    (dict(se="bootstrap"), r"se='bootstrap' needs bootstrap > 0"),
    (dict(se="none", bootstrap=5), r"se='none' asks for no standard errors"),
    (dict(exclude_improper=True), r"exclude_improper applies to bootstrap draws"),
    (dict(bootstrap=-1), r"bootstrap must be a number of draws"),
    (dict(missing="everything"), r"missing must be one of"),
    (dict(missing="pairwise"), r"missing='pairwise' is not available for estimator ML"),
    (dict(missing="two.stage", se="robust"), r"se='robust' is not available with missing='two.stage'"),
    (dict(missing="two.stage", cluster="cl"), r"se='robust.cluster' is not available with missing='two.stage'"),
    (dict(missing="two.stage", estimator="MLR"), r"estimator='MLR' is not available"),
    (dict(cluster="cl", se="standard", test="satorra.bentler"), r"test='satorra.bentler' is available with"),
    (dict(cluster="cl", group="school", bootstrap=5), r"cluster bootstrap is implemented for single-group"),
    (dict(cluster="nope"), r"cluster column 'nope' is not in the data"),
])
def test_bad_combinations_say_what_is_wrong(data, kwargs, message):
    with pytest.raises(ValueError, match=message):
        sem(MED, data if kwargs.get("missing") == "two.stage" else data.dropna(subset=OV), n_jobs=1, **kwargs)


# --------------------------------------------------------------------------
# one resolved, frozen set of options; immutable results
# --------------------------------------------------------------------------
def test_options_are_resolved_once_and_frozen():
    import dataclasses

    from analysis.sem.options import Options

    o = Options.resolve(missing="ml", cluster="cl")
    # aliases resolved, lavaan's defaults with cluster=: cluster-robust SEs and the Yuan-Bentler test
    assert (o.missing, o.se, o.test, o.interval) == ("fiml", "robust.cluster", "yuan.bentler.mplus", None)
    with pytest.raises(dataclasses.FrozenInstanceError):
        o.se = "standard"
    # sampling weights turn ML into MLR; draws give bootstrap SEs and the percentile interval
    assert Options.resolve(sampling_weights="w").se == "robust"
    assert (Options.resolve(bootstrap=10).se, Options.resolve(bootstrap=10).interval) == ("bootstrap", "percentile")
    assert Options.resolve(cluster="cl", se="robust").se == "robust.cluster"
    for bad, kind in ((dict(se="robust.cluster"), ValueError), (dict(ci_type="bca"), ValueError),
                      (dict(missing="two.stage", se="robust"), ValueError),
                      (dict(sampling_weights="w", bootstrap=5), NotImplementedError),
                      (dict(two_level=True), ValueError), (dict(fixed_x=False), NotImplementedError)):
        with pytest.raises(kind):
            Options.resolve(**bad)


def test_results_are_immutable_and_with_methods_return_new_ones(complete):
    fit = sem(MED, complete, cluster="cl", se="standard")
    with pytest.raises(AttributeError, match="immutable"):
        fit.theta = fit.theta * 0
    with pytest.raises(TypeError):
        fit.options["missing"] = "fiml"
    with pytest.raises(ValueError):
        fit.theta[0] = 0.0
    boot = bootstrap(fit, n_boot=20, seed=3, n_jobs=1, cluster=fit.cluster_labels[0], exclude_improper=False,
                     **interval_options("bc"))
    inside = sem(MED, complete, cluster="cl", se="standard", bootstrap=20, seed=3, ci_type="bc", n_jobs=1)
    attached = fit.with_bootstrap(boot, "bc")
    assert fit.bootstrap is None and attached.bootstrap is boot and attached is not fit
    pd.testing.assert_frame_equal(attached.estimates, inside.estimates)
    assert dict(attached.options) == dict(inside.options)
    assert (attached.options["bootstrap"], attached.options["ci_type"]) == (20, "bc")
    # a result survives pickling and copying (worker processes, caches) and stays immutable
    import copy
    import pickle

    for other in (pickle.loads(pickle.dumps(attached)), copy.deepcopy(attached)):
        pd.testing.assert_frame_equal(other.estimates, attached.estimates)
        assert dict(other.options) == dict(attached.options)
        with pytest.raises(AttributeError, match="immutable"):
            other.converged = False
        with pytest.raises(TypeError):
            other.options["se"] = "none"
    # the same model at other values: the fit is untouched, the statistics follow the values
    moved = fit.with_theta(fit.theta * 1.01)
    assert moved.fit["chisq"] > fit.fit["chisq"]
    np.testing.assert_array_equal(fit.estimates["est"], sem(MED, complete, cluster="cl", se="standard").estimates["est"])
