"""The robust (sandwich) statistics accumulate casewise scores in blocks of rows.

Truth: the cross-product of the whole ``N x (p + p*)`` score matrix
(``fiml.casewise_scores``, the matrix lavaan forms), with cluster sums and the
G/(G-1) factor, must equal the sum over the row blocks to rounding; blocks are
forced small here so that many of them (and clusters split across blocks)
are summed.
"""
from __future__ import annotations

import numpy as np
import pytest

from analysis.sem import fiml, robust, sem

HS = "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nspeed =~ x7 + x8 + x9"


@pytest.fixture(scope="module")
def fit(hs):
    d = hs.copy()
    x = d[[f"x{i}" for i in range(1, 10)]].to_numpy(float, copy=True)
    x[np.random.default_rng(3).random(x.shape) < 0.05] = np.nan
    d[[f"x{i}" for i in range(1, 10)]] = x
    d["w"] = np.random.default_rng(4).uniform(0.5, 2.0, len(d))
    return sem(HS, d, missing="fiml", sampling_weights="w")


@pytest.mark.parametrize("clustered", [False, True])
def test_blockwise_cross_products_equal_the_whole_matrix(fit, monkeypatch, clustered):
    mp = fit.objective.patterns[0]
    sigma, mu = fit.implied[0]
    mu = np.asarray(mu)
    w = robust._weights(fit.objective, 0)
    whole = fiml.casewise_scores(mp, mu, sigma) * w[:, None]
    cl = (np.arange(mp.nobs) * 7) % 23 if clustered else None  # clusters scattered over the blocks
    want = robust._crossprod_scores(whole, cl)
    monkeypatch.setattr(fiml, "_CHUNK", 17)
    blocks = list(robust._moment_score_blocks(fit.objective, 0, mp, mu, sigma, True))
    assert len(blocks) == -(-mp.nobs // 17)
    got = robust._score_crossprod(iter(blocks), cl)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12 * np.abs(want).max())
    # the whole matrix is never needed: a post-multiplied block keeps its row count
    post = np.eye(whole.shape[1])[:, :4]
    rows, block = next(robust._moment_score_blocks(fit.objective, 0, mp, mu, sigma, True, post=post))
    np.testing.assert_allclose(block, whole[rows][:, :4], rtol=1e-12, atol=1e-14)


def _naive_scores(x, mu, sigma):
    """Row by row from the definition: the gradient of each row's normal log-density over its observed
    variables w.r.t. (mu, vech Sigma), off-diagonal entries of Sigma counted twice (lavaan's scores)."""
    n, p = x.shape
    r, c = np.triu_indices(p)[1], np.triu_indices(p)[0]          # lavaan's vech order, column by column
    out = np.zeros((n, p + len(r)))
    for i in range(n):
        o = ~np.isnan(x[i])
        inv = np.linalg.inv(sigma[np.ix_(o, o)])
        wo = np.zeros((p, p))
        wo[np.ix_(o, o)] = inv
        z = np.zeros(p)
        z[o] = inv @ (x[i, o] - mu[o])
        g = 0.5 * (np.outer(z, z) - wo)
        out[i, :p] = z
        out[i, p:] = np.where(r == c, 1.0, 2.0) * g[r, c]
    return out


def test_scores_match_their_definition_and_any_subset_of_columns(fit, monkeypatch):
    mp = fit.objective.patterns[0]
    sigma, mu = fit.implied[0]
    sigma, mu = np.asarray(sigma), np.asarray(mu)
    want = _naive_scores(mp.data, mu, sigma)
    monkeypatch.setattr(fiml, "_CHUNK", 29)
    got = np.vstack([b for _, b in fiml.casewise_score_blocks(mp, mu, sigma)])
    np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)
    cols = np.array([50, 3, 9, 0, 53, 12, 11])                      # variances, means, covariances, mixed order
    part = np.vstack([b for _, b in fiml.casewise_score_blocks(mp, mu, sigma, columns=cols)])
    np.testing.assert_allclose(part, want[:, cols], rtol=1e-10, atol=1e-12)
    # a 0/1 selection as the post-multiplier takes the same columns without the product
    post = np.zeros((want.shape[1], 3))
    post[[9, 20, 1], [0, 1, 2]] = 1.0
    rows, block = next(robust._moment_score_blocks(fit.objective, 0, mp, mu, sigma, True, post=post))
    w = robust._weights(fit.objective, 0)
    np.testing.assert_allclose(block, (want[rows] * w[rows, None])[:, [9, 20, 1]], rtol=1e-10, atol=1e-12)
