"""Discriminant validity: HTMT and the Fornell-Larcker criterion."""
from __future__ import annotations

import numpy as np
import pandas as pd

from .descriptives import _select
from .reliability import cfa_reliability, model_matrices

__all__ = ["htmt", "fornell_larcker"]


def htmt(data: pd.DataFrame, scales: dict, *, htmt2: bool = True, absolute: bool = True) -> pd.DataFrame:
    """Heterotrait-monotrait ratio of correlations.

    Parameters
    ----------
    data : pandas.DataFrame
        Item responses (listwise deletion over all listed items, as semTools).
    scales : dict
        Scale code -> list of item codes (at least two items each).
    htmt2 : bool
        Geometric means (HTMT2, Roemer et al. 2021; semTools 0.5.6's default)
        instead of arithmetic means (Henseler et al. 2015).
    absolute : bool
        Use absolute correlations (always so for ``htmt2``).

    Returns
    -------
    pandas.DataFrame
        Square matrix, scales as index and columns; 1 on the diagonal.

    Notes
    -----
    With :math:`\\bar r_{ij}` the mean of the heterotrait correlations
    between the items of scales :math:`i, j` and :math:`\\bar r_{ii}` the mean
    of the monotrait correlations within scale :math:`i` (off-diagonal):

    .. math:: HTMT_{ij} = \\frac{\\bar r_{ij}}{\\sqrt{\\bar r_{ii}\\,\\bar r_{jj}}},

    with geometric means for HTMT2. Values above .85 (or .90) question
    discriminant validity. In R: ``semTools::htmt(model, data)``.

    References
    ----------
    .. [1] Henseler, J., Ringle, C. M., & Sarstedt, M. (2015). A new criterion
       for assessing discriminant validity in variance-based structural
       equation modeling. *JAMS*, 43(1), 115-135.
    .. [2] Roemer, E., Schuberth, F., & Henseler, J. (2021). HTMT2: An improved
       criterion for assessing discriminant validity in structural equation
       modeling. *Industrial Management & Data Systems*, 121(12), 2637-2650.
    """
    if len(scales) < 2:
        raise ValueError("HTMT needs at least two scales")
    items = [i for its in scales.values() for i in its]
    frame = _select(data, items).dropna()
    if len(frame) < 3:
        raise ValueError("too few complete rows for HTMT")
    r = frame.corr()
    if absolute or htmt2:
        r = r.abs()
    codes = list(scales)

    def mean_block(a, b, same):
        block = r.loc[list(scales[a]), list(scales[b])].to_numpy()
        if same:
            block = block[~np.eye(len(block), dtype=bool)]
        block = block.ravel()
        if block.size == 0:
            raise ValueError(f"scale {a!r} needs at least two items for HTMT")
        return float(np.exp(np.mean(np.log(block)))) if htmt2 else float(np.mean(block))

    mono = {c: mean_block(c, c, True) for c in codes}
    out = np.eye(len(codes))
    for i, a in enumerate(codes):
        for j, b in enumerate(codes):
            if i != j:
                out[i, j] = mean_block(a, b, False) / np.sqrt(mono[a] * mono[b])
    return pd.DataFrame(out, index=codes, columns=codes)


def fornell_larcker(result, data: pd.DataFrame) -> pd.DataFrame:
    """Fornell-Larcker table: sqrt(AVE) on the diagonal, latent correlations below and above.

    Parameters
    ----------
    result : analysis.sem.SEMResult
        A fitted single-group CFA.
    data : pandas.DataFrame
        The data it was fitted to (for AVE's observed variances).

    Returns
    -------
    pandas.DataFrame
        Square matrix over the factors with indicators: diagonal
        :math:`\\sqrt{AVE_f}`, off-diagonal model-implied latent correlations.

    Notes
    -----
    Discriminant validity holds for factor :math:`f` when
    :math:`\\sqrt{AVE_f} > |\\rho_{fg}|` for every other factor :math:`g`.
    AVE as :func:`analysis.psychometrics.reliability.cfa_reliability`.

    References
    ----------
    .. [1] Fornell, C., & Larcker, D. F. (1981). Evaluating structural
       equation models with unobservable variables and measurement error.
       *Journal of Marketing Research*, 18(1), 39-50.
    """
    rel = cfa_reliability(result, data).set_index("factor")
    cov = model_matrices(result.estimates)["cov_lv"].loc[rel.index, rel.index].to_numpy()
    sd = np.sqrt(np.diag(cov))
    cor = cov / np.outer(sd, sd)
    np.fill_diagonal(cor, np.sqrt(rel["ave"].to_numpy()))
    return pd.DataFrame(cor, index=list(rel.index), columns=list(rel.index))
