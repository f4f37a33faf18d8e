"""A few rows of a sparse item-item matrix, read in numpy.

A request touches the rows of a user's few dozen history items. Through scipy (a sparse product,
a row slice, `toarray`) each step costs more in set-up than in arithmetic, and densifying a row
costs as much as the catalogue is wide; these gather the rows' entries directly from the CSR
arrays.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp


def row_entries(matrix: sp.csr_matrix, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(position in `rows`, index into matrix.indices / matrix.data) of every entry of those rows,
    row by row in stored order."""
    rows = np.asarray(rows, dtype=np.int64)
    starts = matrix.indptr[rows].astype(np.int64)
    counts = matrix.indptr[rows + 1] - starts
    ends = np.cumsum(counts)
    total = int(ends[-1]) if len(ends) else 0
    at = np.arange(total) + np.repeat(starts - (ends - counts), counts)
    return np.repeat(np.arange(len(rows)), counts), at


def similarity_sums(
    history: sp.csr_matrix, similarity: sp.csr_matrix
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(row, item, value) of the entries of `history @ similarity`, by row then item, summed in
    scipy's order and precision."""
    entry, at = row_entries(similarity, history.indices)
    user = np.repeat(np.arange(history.shape[0]), np.diff(history.indptr))
    rows = user[entry]
    items = similarity.indices[at].astype(np.int64)
    width = similarity.shape[1]
    keys, inverse = np.unique(rows * width + items, return_inverse=True)
    sums = np.zeros(len(keys), dtype=np.result_type(history.dtype, similarity.dtype))
    np.add.at(sums, inverse, history.data[entry] * similarity.data[at])
    return keys // width, keys % width, sums.astype(np.float32)


def block(matrix: sp.csr_matrix, rows: np.ndarray, columns: np.ndarray) -> np.ndarray:
    """matrix[rows][:, columns] as a dense float32 (len(rows), len(columns)) array."""
    wanted, position = np.unique(np.asarray(columns, dtype=np.int64), return_inverse=True)
    out = np.zeros((len(rows), len(wanted)), dtype=np.float32)
    if len(wanted):
        entry, at = row_entries(matrix, rows)
        found = np.minimum(np.searchsorted(wanted, matrix.indices[at]), len(wanted) - 1)
        hit = wanted[found] == matrix.indices[at]
        np.add.at(out, (entry[hit], found[hit]), matrix.data[at][hit])
    return out[:, position]
