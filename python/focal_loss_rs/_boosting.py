"""What the XGBoost and LightGBM adapters share: gradient and Hessian of raw scores, the
metric, the constant initial score. Neither library is imported here."""

from __future__ import annotations

from typing import Optional, Tuple

import numpy as np

from . import _Objective, _objective, _threads, _UNSET
from . import _native

#: The default Hessian floor of the boosting objectives. The focal Hessian is negative for
#: badly misclassified points (``p_t < 0.058`` at γ = 2) and a Newton step needs it positive;
#: it also vanishes for well classified ones. 1e-3 is about the Hessian of the default focal
#: loss (γ = 2, α = 0.25) at a positive of ``p_t = 0.9`` (1.9e-3; 2.2e-6 at ``p_t = 0.99``,
#: −0.029 at a negative of ``p_t = 0.01``): below that, a leaf's step ``G/H`` would be ruled
#: by the few points whose Hessian is near 0 or negative. Pass ``hessian_floor=`` to change it.
HESSIAN_FLOOR = 1e-3


class FocalBoosting:
    """Focal loss of raw scores for a gradient-boosting library.

    Binary: one score per row, labels in [0, 1] (soft labels allowed). Multi-class: ``[N, K]``
    scores and class indices ``0 … K−1``: one sigmoid focal loss per class (one-vs-rest, as
    RetinaNet's classification head), so each score is the logit of its own class.
    """

    def __init__(
        self,
        gamma: float = _UNSET,  # type: ignore[assignment]
        alpha: Optional[float] = _UNSET,  # type: ignore[assignment]
        *,
        objective: Optional[_Objective] = None,
        hessian_floor: Optional[float] = HESSIAN_FLOOR,
        threads: int = 0,
    ):
        self.native_objective = _objective(gamma, alpha, objective)
        self.hessian_floor = hessian_floor
        self.threads = _threads(threads)

    # -- arrays as the library takes them -------------------------------------------------
    @staticmethod
    def _scores(predt) -> np.ndarray:
        scores = np.asarray(predt)
        if scores.dtype not in (np.float32, np.float64):
            scores = scores.astype(np.float64)
        return np.ascontiguousarray(scores)

    @staticmethod
    def _targets(labels, scores: np.ndarray) -> np.ndarray:
        labels = np.asarray(labels).reshape(-1)
        if scores.ndim == 2 and scores.shape[1] > 1:
            classes = labels.astype(np.int64)
            if not np.array_equal(classes, labels) or labels.shape[0] != scores.shape[0]:
                raise ValueError(
                    "multi-class scores [N, K] need N integer class labels in [0, K)"
                )
            if classes.size and (classes.min() < 0 or classes.max() >= scores.shape[1]):
                raise ValueError(f"class labels must lie in [0, {scores.shape[1]})")
            return classes.astype(np.int32)
        return np.ascontiguousarray(labels.astype(scores.dtype, copy=False).reshape(scores.shape))

    @staticmethod
    def _weights(weights, scores: np.ndarray) -> Optional[np.ndarray]:
        if weights is None:
            return None
        weights = np.asarray(weights).reshape(-1)
        if weights.size == 0:
            return None
        weights = weights.astype(scores.dtype, copy=False)
        if scores.ndim == 2 and scores.shape[1] > 1:
            # A row's weight for each of its K scores.
            weights = np.repeat(weights, scores.shape[1])
        return np.ascontiguousarray(weights.reshape(scores.shape))

    # -- the three things a boosting library asks for --------------------------------------
    def grad_hess(self, labels, predt, weights=None) -> Tuple[np.ndarray, np.ndarray]:
        """Gradient and floored Hessian of each raw score (the shape of ``predt``)."""
        scores = self._scores(predt)
        _, grad, hess = _native.sigmoid(
            scores,
            self._targets(labels, scores),
            objective=self.native_objective,
            weights=self._weights(weights, scores),
            reduction="none",
            threads=self.threads,
            outputs="grad_hess",
            hessian_floor=self.hessian_floor,
        )
        return grad, hess

    def loss(self, labels, predt, weights=None) -> float:
        """The weighted mean focal loss of the raw scores (weights sum to the divisor)."""
        scores = self._scores(predt)
        w = self._weights(weights, scores)
        total = _native.sigmoid(
            scores,
            self._targets(labels, scores),
            objective=self.native_objective,
            weights=w,
            reduction="sum",
            threads=self.threads,
            outputs="loss",
        )[0][()]
        count = scores.size if w is None else float(np.sum(w, dtype=np.float64))
        return float(total) / count if count > 0 else 0.0

    def init_score(self, labels, weights=None, num_class: Optional[int] = None):
        """The constant raw score that minimises the weighted focal loss of the labels (one per
        class for ``num_class`` > 1): the boosting's base score. A root of the summed gradient
        by bisection, to within 1e-9."""
        labels = np.asarray(labels, dtype=np.float64).reshape(-1)
        if num_class is not None and num_class > 1:
            return np.array(
                [self._constant((labels == k).astype(np.float64), weights) for k in range(num_class)]
            )
        return self._constant(labels, weights)

    def init_probability(self, labels, weights=None) -> float:
        """``σ(init_score)``: the ``base_score`` of ``XGBClassifier``, which takes it as a
        probability (the booster of ``xgboost.train`` takes the raw score itself)."""
        return float(1.0 / (1.0 + np.exp(-self.init_score(labels, weights))))

    def _constant(self, labels: np.ndarray, weights) -> float:
        w = None if weights is None else np.asarray(weights, dtype=np.float64).reshape(-1)

        def slope(x: float) -> float:
            scores = np.full(labels.shape, x, dtype=np.float64)
            _, grad, _ = _native.sigmoid(
                scores,
                labels,
                objective=self.native_objective,
                weights=None if w is None or w.size == 0 else w,
                reduction="sum",
                threads=self.threads,
                outputs="grad",
            )
            return float(np.sum(grad))

        low, high = -40.0, 40.0
        if slope(low) >= 0:
            return low
        if slope(high) <= 0:
            return high
        while high - low > 1e-9:
            middle = 0.5 * (low + high)
            if slope(middle) < 0:
                low = middle
            else:
                high = middle
        return 0.5 * (low + high)
