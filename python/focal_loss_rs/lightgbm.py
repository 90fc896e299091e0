"""LightGBM adapter: the focal loss as a custom objective and metric.

Core API (``lightgbm.train``)::

    import lightgbm as lgb
    from focal_loss_rs import lightgbm as fl_lgb
    focal = fl_lgb.FocalObjective(gamma=2.0, alpha=0.25)
    data = lgb.Dataset(X, y, init_score=np.full(len(y), focal.init_score(y)))
    booster = lgb.train({"objective": focal, "verbose": -1}, data, 100, feval=focal.metric)

scikit-learn API: ``lgb.LGBMClassifier(objective=focal.sklearn_objective)`` with
``fit(X, y, init_score=..., eval_metric=focal.sklearn_metric)``.

Binary: one raw score per row, labels in [0, 1]. Multi-class (``num_class=K``): LightGBM's
``[N, K]`` raw scores and class labels ``0 … K−1``: the softmax focal loss of each row with
its exact diagonal Hessian (``multi_class="softmax"``, the default: the scores' softmax is
the class probabilities), or one sigmoid focal loss per class (``multi_class="ovr"``,
one-vs-rest). A custom objective makes LightGBM predict raw scores (their softmax, or
``σ(score)`` of each class one-vs-rest, is the probability), and ``init_score`` must be given to the data (LightGBM does not boost
from an average for custom objectives). The Hessian is floored at ``hessian_floor``
(:data:`focal_loss_rs._boosting.HESSIAN_FLOOR` by default). LightGBM itself is not imported.
"""

from __future__ import annotations

from ._boosting import HESSIAN_FLOOR, FocalBoosting

__all__ = ["FocalObjective", "HESSIAN_FLOOR"]


class FocalObjective(FocalBoosting):
    """A focal objective for LightGBM: ``objective=`` of ``lightgbm.train``'s parameters,
    called as ``obj(preds, train_data) -> (grad, hess)``."""

    name = "focal"

    def __call__(self, preds, train_data):
        return self.grad_hess(train_data.get_label(), preds, train_data.get_weight())

    def metric(self, preds, eval_data):
        """``feval`` of ``lightgbm.train``: ``("focal", weighted mean loss, False)``."""
        return self.name, self.loss(eval_data.get_label(), preds, eval_data.get_weight()), False

    def sklearn_objective(self, y_true, y_pred, weight=None):
        """``objective=`` of ``LGBMClassifier`` / ``LGBMRegressor``."""
        return self.grad_hess(y_true, y_pred, weight)

    def sklearn_metric(self, y_true, y_pred, weight=None):
        """``eval_metric=`` of the scikit-learn interface."""
        return self.name, self.loss(y_true, y_pred, weight), False
