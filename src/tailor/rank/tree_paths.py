"""Per-feature contributions of a LightGBM model by its decision paths (Saabas' method).

Along the path a row takes through a tree, each split moves the expected score from the parent
node's value to the child's; that step is credited to the split's feature. Summed over trees, the
credits plus the roots' values equal the prediction exactly. LightGBM's own SHAP values
(`pred_contrib`) share that property and are fairer to correlated features, but they cost ~3 ms
for the 10 items of one answer (measured with 26 trees), more than the rest of the ranking; this
walk is a few vectorised steps over (rows x trees).
"""

from __future__ import annotations

from typing import Any

import numpy as np

_NO_MISSING, _ZERO_MISSING, _NAN_MISSING = 0, 1, 2
_MISSING_TYPES = {"None": _NO_MISSING, "Zero": _ZERO_MISSING, "NaN": _NAN_MISSING}
_ZERO = 1e-35  # LightGBM's kZeroThreshold


class TreePaths:
    """The trees of a booster as flat node arrays (every tree's nodes, one global index)."""

    def __init__(self, booster: Any) -> None:
        feature, threshold, left, right, value, default_left, missing = ([] for _ in range(7))
        roots = []

        def add(node: dict[str, Any]) -> int:
            at = len(value)
            for column in (feature, threshold, left, right, default_left, missing):
                column.append(0)
            value.append(0.0)
            if "leaf_value" in node:
                value[at] = node["leaf_value"]
                left[at] = right[at] = -1
                return at
            if node["decision_type"] != "<=":
                raise ValueError("categorical splits are not supported")
            value[at] = node["internal_value"]
            feature[at] = node["split_feature"]
            threshold[at] = node["threshold"]
            default_left[at] = node["default_left"]
            missing[at] = _MISSING_TYPES[node["missing_type"]]
            left[at] = add(node["left_child"])
            right[at] = add(node["right_child"])
            return at

        for tree in booster.dump_model()["tree_info"]:
            roots.append(add(tree["tree_structure"]))
        self.roots = np.array(roots, dtype=np.int64)
        self.feature = np.array(feature, dtype=np.int64)
        self.threshold = np.array(threshold, dtype=np.float64)
        self.left = np.array(left, dtype=np.int64)
        self.right = np.array(right, dtype=np.int64)
        self.value = np.array(value, dtype=np.float64)
        self.default_left = np.array(default_left, dtype=bool)
        self.missing = np.array(missing, dtype=np.int8)
        self.n_features = booster.num_feature()

    @property
    def bias(self) -> float:
        """The prediction before any split: the sum of the roots' values."""
        return float(self.value[self.roots].sum())

    def contributions(self, rows: np.ndarray) -> np.ndarray:
        """(len(rows), n_features): each feature's credit; a row's credits + `bias` = its score."""
        rows = np.asarray(rows, dtype=np.float64)
        out = np.zeros((len(rows), self.n_features))
        node = np.broadcast_to(self.roots, (len(rows), len(self.roots))).copy()
        row_of = np.broadcast_to(np.arange(len(rows))[:, None], node.shape)
        inner = self.left[node] >= 0
        while inner.any():
            r, at = row_of[inner], node[inner]
            x = rows[r, self.feature[at]]
            nan = np.isnan(x)
            kind = self.missing[at]
            x = np.where(nan & (kind != _NAN_MISSING), 0.0, x)
            is_missing = ((kind == _NAN_MISSING) & nan) | (
                (kind == _ZERO_MISSING) & (np.abs(x) <= _ZERO)
            )
            go_left = np.where(is_missing, self.default_left[at], x <= self.threshold[at])
            child = np.where(go_left, self.left[at], self.right[at])
            np.add.at(out, (r, self.feature[at]), self.value[child] - self.value[at])
            node[inner] = child
            inner = self.left[node] >= 0
        return out
