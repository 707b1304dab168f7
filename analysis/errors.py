"""Errors a user can act on.

Every study function that reads a file raises :class:`InputError` for bad
input; the ``resilience`` command prints it as one line naming the file, the
row and the column, and exits non-zero without a traceback.
"""
from __future__ import annotations

__all__ = ["InputError", "FitError"]


class InputError(ValueError):
    """Bad input, located as precisely as it can be.

    Parameters
    ----------
    message : str
        What is wrong, in words a researcher understands.
    file : str or path-like, optional
        The file that holds the problem.
    row : int, optional
        1-based row number *in the file as a spreadsheet shows it* (the header
        is row 1 for a table with one header row).
    column : str, optional
        The column name (or letter) as the file spells it.
    """

    def __init__(self, message, *, file=None, row=None, column=None):
        self.message = message
        self.file = None if file is None else str(file)
        self.row = row
        self.column = column
        super().__init__(self.__str__())

    def __str__(self) -> str:
        where = []
        if self.file is not None:
            where.append(self.file)
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column is not None:
            where.append(f"column {self.column!r}")
        prefix = ", ".join(where)
        return f"{prefix}: {self.message}" if prefix else self.message


class FitError(RuntimeError):
    """A model could not be estimated (not converged, not identified)."""
