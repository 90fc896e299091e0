"""What the XGBoost and LightGBM adapters share: gradient and Hessian of raw scores, the
metric, the constant initial score. Neither library is imported here."""

from __future__ import annotations

from typing import Optional, Sequence, Tuple, Union

import numpy as np

from . import _Objective, _objective, _softmax_alpha, _threads, _UNSET
from . import _native

#: The default Hessian floor of the boosting objectives. The focal Hessian is negative for
#: badly misclassified points (``p_t < 0.058`` at γ = 2) and a Newton step needs it positive;
#: it also vanishes for well classified ones. 1e-3 is about the Hessian of the default focal
#: loss (γ = 2, α = 0.25) at a positive of ``p_t = 0.9`` (1.9e-3; 2.2e-6 at ``p_t = 0.99``,
#: −0.029 at a negative of ``p_t = 0.01``): below that, a leaf's step ``G/H`` would be ruled
#: by the few points whose Hessian is near 0 or negative. Pass ``hessian_floor=`` to change it.
HESSIAN_FLOOR = 1e-3


#: The multi-class forms: the softmax focal loss over the K scores of a row, or one sigmoid
#: focal loss per class.
MULTI_CLASS = ("softmax", "ovr")


class FocalBoosting:
    """Focal loss of raw scores for a gradient-boosting library.

    Binary: one score per row, labels in [0, 1] (soft labels allowed): the sigmoid focal loss
    (γ = 2, α = 0.25 by default, or any ``objective=`` of the family).

    Multi-class: ``[N, K]`` scores and class indices ``0 … K−1``.
    ``multi_class="softmax"`` (default): the softmax focal loss of each row (γ = 2, α off by
    default; ``alpha`` one number or one per class), with its exact diagonal Hessian; the
    scores' softmax is the class probabilities. ``multi_class="ovr"``: one sigmoid focal loss
    per class (one-vs-rest, as RetinaNet's classification head), so each score is the logit of
    its own class (with the binary defaults and any ``objective=``).
    """

    def __init__(
        self,
        gamma: float = _UNSET,  # type: ignore[assignment]
        alpha: Union[None, float, Sequence[float]] = _UNSET,  # type: ignore[assignment]
        *,
        objective: Optional[_Objective] = None,
        multi_class: str = "softmax",
        hessian_floor: Optional[float] = HESSIAN_FLOOR,
        threads: int = 0,
    ):
        if multi_class not in MULTI_CLASS:
            raise ValueError(f"multi_class must be one of {MULTI_CLASS}, not {multi_class!r}")
        self.native_objective = _objective(gamma, alpha, objective)
        self.multi_class = multi_class
        # The softmax loss's options (its defaults: γ = 2, α off); the family objectives are
        # sigmoid losses.
        self._softmax_options = None if objective is not None else dict(
            gamma=2.0 if gamma is _UNSET else float(gamma),
            alpha=_softmax_alpha(None if alpha is _UNSET else alpha),
        )
        self.hessian_floor = hessian_floor
        self.threads = _threads(threads)

    def _softmax(self, scores: np.ndarray) -> bool:
        """Whether these scores take the softmax loss."""
        if not (scores.ndim == 2 and scores.shape[1] > 1 and self.multi_class == "softmax"):
            return False
        if self._softmax_options is None:
            raise ValueError(
                "multi_class='softmax' takes gamma= and alpha= (a number or one per class); "
                "the objectives of the sigmoid family need multi_class='ovr'"
            )
        return True

    def _softmax_call(self, scores, labels, outputs: str, **extra):
        return _native.softmax(
            scores, self._targets(labels, scores), reduction="none", threads=self.threads,
            outputs=outputs, **self._softmax_options, **extra)

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
        if self._softmax(scores):
            _, grad, hess = self._softmax_call(
                scores, labels, "grad_hess", hessian_floor=self.hessian_floor)
            w = self._weights(weights, scores)
            if w is not None:
                # w·g and w·max(h, floor), as the sigmoid kernels weight them.
                grad *= w
                hess *= w
            return grad, hess
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
        if self._softmax(scores):
            losses = self._softmax_call(scores, labels, "loss")[0].astype(np.float64)
            w_rows = None if w is None else w[:, 0].astype(np.float64)
            total = np.sum(losses if w_rows is None else losses * w_rows)
            count = len(losses) if w_rows is None else float(np.sum(w_rows))
            return float(total) / count if count > 0 else 0.0
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
        if num_class is not None and num_class > 1 and self.multi_class == "softmax":
            return self._softmax_constant(labels, weights, num_class)
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

    def _softmax_constant(self, labels: np.ndarray, weights, num_class: int) -> np.ndarray:
        """The K constant scores (mean 0) that minimise the weighted softmax focal loss: damped
        Newton steps on the class totals, from the log class frequencies (the cross-entropy's
        optimum). Every row of a class has the same loss at constant scores, so one row per
        class, weighted by the class's total weight, stands for all of them."""
        w = np.ones(len(labels)) if weights is None else np.asarray(weights, np.float64).reshape(-1)
        if w.size == 0:
            w = np.ones(len(labels))
        totals = np.array([np.sum(w[labels == k]) for k in range(num_class)])
        if not np.all(totals > 0):
            raise ValueError("every class needs a positive total weight for its initial score")
        classes = np.arange(num_class, dtype=np.int32)
        self._softmax(np.zeros((1, num_class)))  # refuses a family objective

        def evaluate(b, outputs):
            rows = np.ascontiguousarray(np.tile(b, (num_class, 1)))
            extra = {"hessian_floor": 1e-12} if outputs == "grad_hess" else {}
            return self._softmax_call(rows, classes, outputs, **extra)

        def loss(b):
            return float(np.dot(totals, evaluate(b, "loss")[0]))

        b = np.log(totals / totals.sum())
        b -= b.mean()
        current = loss(b)
        for _ in range(100):
            _, grad, hess = evaluate(b, "grad_hess")
            g, h = totals @ grad, totals @ hess
            if np.max(np.abs(g)) < 1e-10 * totals.sum():
                break
            step = g / h
            while True:
                trial = b - step
                trial -= trial.mean()
                value = loss(trial)
                if value <= current or np.max(np.abs(step)) < 1e-12:
                    break
                step = step / 2
            if value > current:
                break
            b, current = trial, value
        return b
