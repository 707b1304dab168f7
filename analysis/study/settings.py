"""The run settings of the study (``study.yaml``): sample sizes, rules, seeds."""
from __future__ import annotations

from pathlib import Path

import yaml

from .. import paths
from ..errors import InputError

__all__ = ["load_settings"]

_REQUIRED = ("synthetic", "screening", "measurement", "structural", "power")


def load_settings(path=None) -> dict:
    """Read ``study.yaml`` and check that every section is present.

    Parameters
    ----------
    path : path-like, optional
        Defaults to ``paths.DEFAULT.config``.

    Returns
    -------
    dict
        One key per section (``synthetic``, ``screening``, ``measurement``,
        ``structural``, ``power``).

    Examples
    --------
    >>> load_settings()["synthetic"]["n"] > 0
    True
    """
    path = Path(path) if path is not None else paths.DEFAULT.config
    try:
        settings = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError("settings file not found", file=path) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise InputError(f"not valid YAML: {getattr(exc, 'problem', exc)}", file=path,
                         row=None if mark is None else mark.line + 1) from None
    if not isinstance(settings, dict):
        raise InputError("expected a mapping of sections", file=path)
    for key in _REQUIRED:
        if key not in settings:
            raise InputError(f"section {key!r} is missing", file=path)
    return settings
