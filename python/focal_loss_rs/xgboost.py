"""XGBoost adapter: the focal loss as a custom objective and metric.

Core API (``xgboost.train``)::

    import xgboost as xgb
    from focal_loss_rs import xgboost as fx
    focal = fx.FocalObjective(gamma=2.0, alpha=0.25)
    params = {"base_score": focal.init_score(y), "tree_method": "hist"}
    booster = xgb.train(params, xgb.DMatrix(X, y), 100, obj=focal, custom_metric=focal.metric)

scikit-learn API: ``xgb.XGBClassifier(objective=focal.sklearn_objective,
eval_metric=focal.sklearn_metric, base_score=focal.init_probability(y))`` (the classifier takes
its base score as a probability; the objective and the metric still see raw scores, and
``predict_proba`` is ``σ(score)``).

Binary: one raw score per row, labels in [0, 1]. Multi-class (``num_class=K``): XGBoost's
``[N, K]`` raw scores and class labels ``0 … K−1``: the softmax focal loss of each row with
its exact diagonal Hessian (``multi_class="softmax"``, the default: the scores' softmax is
the class probabilities), or one sigmoid focal loss per class (``multi_class="ovr"``,
one-vs-rest). Predictions are raw scores (``output_margin=True``): their softmax, or
``σ(score)`` of each class one-vs-rest, is the probability. The Hessian is floored at ``hessian_floor``
(:data:`focal_loss_rs._boosting.HESSIAN_FLOOR` by default). XGBoost itself is not imported.
"""

from __future__ import annotations

from ._boosting import HESSIAN_FLOOR, FocalBoosting

__all__ = ["FocalObjective", "HESSIAN_FLOOR"]


class FocalObjective(FocalBoosting):
    """A focal objective for XGBoost: call it as ``obj(predt, dtrain) -> (grad, hess)``."""

    name = "focal"

    def __call__(self, predt, dtrain):
        return self.grad_hess(dtrain.get_label(), predt, dtrain.get_weight())

    def metric(self, predt, dtrain):
        """``custom_metric`` of ``xgboost.train``: ``("focal", weighted mean loss)``."""
        return self.name, self.loss(dtrain.get_label(), predt, dtrain.get_weight())

    def sklearn_objective(self, y_true, y_pred, sample_weight=None):
        """``objective=`` of ``XGBClassifier`` / ``XGBRegressor``."""
        return self.grad_hess(y_true, y_pred, sample_weight)

    def sklearn_metric(self, y_true, y_pred, sample_weight=None) -> float:
        """``eval_metric=`` of the scikit-learn interface (lower is better)."""
        return self.loss(y_true, y_pred, sample_weight)
