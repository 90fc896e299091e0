"""The XGBoost and LightGBM adapters, with the real libraries: gradient and Hessian equal to
the library's C ABI, seeded training runs on an imbalanced set that converge, the metric, the
initial score, the scikit-learn interfaces, multi-class."""

from __future__ import annotations

import numpy as np
import pytest

import focal_loss_rs as fl
from focal_loss_rs import lightgbm as fl_lgb
from focal_loss_rs import xgboost as fl_xgb
from focal_loss_rs._boosting import HESSIAN_FLOOR

xgb = pytest.importorskip("xgboost")
lgb = pytest.importorskip("lightgbm")
sklearn_datasets = pytest.importorskip("sklearn.datasets")
sklearn_metrics = pytest.importorskip("sklearn.metrics")


def same_bits(a, b):
    a, b = np.asarray(a), np.asarray(b)
    assert a.dtype == b.dtype and a.shape == b.shape
    view = np.uint32 if a.dtype == np.float32 else np.uint64
    np.testing.assert_array_equal(a.view(view), b.view(view))


@pytest.fixture(scope="module")
def imbalanced():
    """5 % positives, seeded: train and test halves."""
    X, y = sklearn_datasets.make_classification(
        n_samples=8000, n_features=12, n_informative=6, weights=[0.95, 0.05], flip_y=0.01,
        random_state=0)
    return X[:4000], y[:4000].astype(np.float64), X[4000:], y[4000:].astype(np.float64)


@pytest.fixture(scope="module")
def three_classes():
    X, y = sklearn_datasets.make_classification(
        n_samples=6000, n_features=10, n_informative=6, n_classes=3, weights=[0.8, 0.15, 0.05],
        random_state=1)
    return X[:3000], y[:3000].astype(np.float64), X[3000:], y[3000:].astype(np.float64)


def test_xgboost_grad_hess_are_the_c_abi_values(clib, imbalanced):
    X, y, _, _ = imbalanced
    dtrain = xgb.DMatrix(X, y)
    predt = np.random.default_rng(0).normal(0, 3, len(y)).astype(np.float32)
    grad, hess = fl_xgb.FocalObjective(gamma=2.0, alpha=0.25)(predt, dtrain)
    options = clib.sigmoid_options(gamma=2.0, alpha=0.25)
    expected = clib.grad_hess(predt, y.astype(np.float32), options, HESSIAN_FLOOR)
    same_bits(grad, expected[0])
    same_bits(hess, expected[1])
    assert hess.min() >= np.float32(HESSIAN_FLOOR)


def test_lightgbm_grad_hess_are_the_c_abi_values(clib, imbalanced):
    X, y, _, _ = imbalanced
    data = lgb.Dataset(X, y, free_raw_data=False).construct()
    preds = np.random.default_rng(1).normal(0, 3, len(y))
    focal = fl_lgb.FocalObjective(gamma=1.5, alpha=None, hessian_floor=1e-4)
    grad, hess = focal(preds, data)
    options = clib.sigmoid_options(gamma=1.5, alpha=None)
    expected = clib.grad_hess(preds, y, options, 1e-4)
    same_bits(grad, expected[0])
    same_bits(hess, expected[1])


def test_weights_multiply_gradient_and_floored_hessian(imbalanced):
    X, y, _, _ = imbalanced
    data = lgb.Dataset(X, y, weight=np.random.default_rng(2).uniform(0.5, 2.0, len(y)))
    w = data.construct().get_weight()  # as LightGBM holds them (float32)
    predt = np.random.default_rng(3).normal(0, 3, len(y))
    grad, hess = fl_lgb.FocalObjective()(predt, data)
    g, h = fl.sigmoid_focal_grad_hess(predt, y, hessian_floor=HESSIAN_FLOOR)
    np.testing.assert_allclose(grad, w * g, rtol=4e-16)
    np.testing.assert_allclose(hess, w * h, rtol=4e-16)


def test_multiclass_softmax_grad_hess_are_the_c_abi_values(clib, three_classes):
    X, y, _, _ = three_classes
    predt = np.random.default_rng(4).normal(0, 2, (len(y), 3)).astype(np.float32)
    # XGBoost: float32 [N, K] scores; the softmax focal loss by default (γ = 2, α off).
    grad, hess = fl_xgb.FocalObjective()(predt, xgb.DMatrix(X, y))
    expected_grad, expected_hess = clib.softmax(predt, y.astype(np.int32), hessian=True,
                                                floor=HESSIAN_FLOOR)
    same_bits(grad, expected_grad)
    same_bits(hess, expected_hess)
    assert hess.min() >= np.float32(HESSIAN_FLOOR)
    # LightGBM: float64 scores (also column-major), per-class α and γ, weights as w·g, w·h.
    weights = np.random.default_rng(5).uniform(0.5, 2.0, len(y))
    data = lgb.Dataset(X, y, weight=weights).construct()
    w = data.get_weight().astype(np.float64)
    class_alpha = [0.2, 0.5, 1.0]
    focal = fl_lgb.FocalObjective(gamma=0.5, alpha=class_alpha, hessian_floor=1e-4)
    scores = np.asfortranarray(predt.astype(np.float64))
    grad, hess = focal(scores, data)
    expected_grad, expected_hess = clib.softmax(
        np.ascontiguousarray(scores), y.astype(np.int32), gamma=0.5, class_alpha=class_alpha,
        hessian=True, floor=1e-4)
    same_bits(grad, expected_grad * w[:, None])
    same_bits(hess, expected_hess * w[:, None])


def test_multiclass_softmax_is_a_choice(three_classes):
    X, y, _, _ = three_classes
    predt = np.zeros((len(y), 3))
    with pytest.raises(ValueError, match="multi_class"):
        fl_xgb.FocalObjective(multi_class="softmax-ish")
    # The sigmoid family's objectives are one-vs-rest losses.
    focal = fl_xgb.FocalObjective(objective=fl.FocalStar(gamma=2.0, beta=1.0))
    with pytest.raises(ValueError, match="multi_class='ovr'"):
        focal(predt, xgb.DMatrix(X, y))
    grad, _ = fl_xgb.FocalObjective(objective=fl.FocalStar(gamma=2.0, beta=1.0),
                                    multi_class="ovr")(predt, xgb.DMatrix(X, y))
    assert grad.shape == predt.shape


def test_multiclass_scores_are_one_vs_rest_per_class(clib, three_classes):
    X, y, _, _ = three_classes
    predt = np.random.default_rng(4).normal(0, 2, (len(y), 3)).astype(np.float32)
    grad, hess = fl_xgb.FocalObjective(multi_class="ovr")(predt, xgb.DMatrix(X, y))
    options = clib.sigmoid_options(gamma=2.0, alpha=0.25, reduction="none")
    _, expected_grad = clib.sigmoid(predt, y.astype(np.int32), options, with_loss=False)
    same_bits(grad, expected_grad)
    # the same as binary columns: class k against the rest
    for k in range(3):
        gk, hk = fl.sigmoid_focal_grad_hess(np.ascontiguousarray(predt[:, k]),
                                            (y == k).astype(np.uint8),
                                            hessian_floor=HESSIAN_FLOOR)
        same_bits(grad[:, k], gk)
        same_bits(hess[:, k], hk)
    # LightGBM hands over column-major [N, K] scores: the same result
    grad_lgb, _ = fl_lgb.FocalObjective(multi_class="ovr")(
        np.asfortranarray(predt.astype(np.float64)), lgb.Dataset(X, y).construct())
    expected64, _ = fl_xgb.FocalObjective(multi_class="ovr")(predt.astype(np.float64),
                                                             xgb.DMatrix(X, y))
    same_bits(grad_lgb, expected64)


def test_init_score_minimises_the_loss(imbalanced):
    _, y, _, _ = imbalanced
    focal = fl_xgb.FocalObjective()
    x0 = focal.init_score(y)
    loss = lambda c: focal.loss(y, np.full(len(y), c))
    assert loss(x0) <= loss(x0 - 1e-3) and loss(x0) <= loss(x0 + 1e-3)
    slope = np.sum(fl.sigmoid_focal_grad(np.full(len(y), x0), y, reduction="none"))
    assert abs(slope) < 1e-6 * len(y)
    labels = np.array([0, 1, 2, 2, 1, 2, 2, 2.0])
    per_class = fl_xgb.FocalObjective(multi_class="ovr").init_score(labels, num_class=3)
    assert per_class.shape == (3,) and per_class[0] < per_class[1] < per_class[2]


@pytest.mark.parametrize("gamma", [0.0, 2.0])
def test_softmax_init_score_minimises_the_loss(three_classes, gamma):
    _, y, _, _ = three_classes
    weights = np.random.default_rng(9).uniform(0.5, 2.0, len(y))
    focal = fl_xgb.FocalObjective(gamma=gamma)
    b = focal.init_score(y, weights, num_class=3)
    assert b.shape == (3,) and abs(b.sum()) < 1e-12
    loss = lambda c: focal.loss(y, np.tile(c, (len(y), 1)), weights)
    for k in range(3):
        step = np.zeros(3)
        step[k] = 1e-3
        assert loss(b) <= loss(b + step) and loss(b) <= loss(b - step)
    if gamma == 0.0:
        # cross-entropy: the log of the weighted class frequencies (up to a constant)
        totals = np.array([weights[y == k].sum() for k in range(3)])
        expected = np.log(totals / totals.sum())
        np.testing.assert_allclose(b, expected - expected.mean(), atol=1e-8)
    else:
        # the focal loss's optimum gives the rare classes more than their frequency
        p = np.exp(b) / np.exp(b).sum()
        frequency = np.bincount(y.astype(int), minlength=3) / len(y)
        assert p[2] > frequency[2]


def test_metric_is_the_weighted_mean_loss(imbalanced):
    X, y, _, _ = imbalanced
    predt = np.random.default_rng(5).normal(0, 3, len(y))
    dtrain = xgb.DMatrix(X, y, weight=np.random.default_rng(6).uniform(0, 2, len(y)))
    w = dtrain.get_weight()  # as XGBoost holds them (float32)
    name, value = fl_xgb.FocalObjective().metric(predt, dtrain)
    losses = fl.sigmoid_focal_loss(predt, y, reduction="none")
    assert name == "focal"
    assert value == pytest.approx(np.sum(w * losses) / np.sum(w, dtype=np.float64), rel=1e-12)


def _auc(y, scores):
    return sklearn_metrics.roc_auc_score(y, scores)


def test_xgboost_training_converges(imbalanced):
    X, y, X_test, y_test = imbalanced
    focal = fl_xgb.FocalObjective(gamma=2.0, alpha=0.25)
    dtrain, dtest = xgb.DMatrix(X, y), xgb.DMatrix(X_test, y_test)
    history = {}
    booster = xgb.train(
        {"base_score": focal.init_score(y), "tree_method": "hist", "seed": 0, "eta": 0.1,
         "max_depth": 4, "disable_default_eval_metric": 1},
        dtrain, 150, obj=focal, custom_metric=focal.metric,
        evals=[(dtrain, "train"), (dtest, "test")], evals_result=history, verbose_eval=False)
    train = history["train"]["focal"]
    assert train[-1] < 0.5 * train[0]
    assert all(b <= a * (1 + 1e-6) for a, b in zip(train, train[1:]))  # Newton steps descend
    assert history["test"]["focal"][-1] < history["test"]["focal"][0]
    assert _auc(y_test, booster.predict(dtest, output_margin=True)) > 0.85


def test_lightgbm_training_converges(imbalanced):
    X, y, X_test, y_test = imbalanced
    focal = fl_lgb.FocalObjective(gamma=2.0, alpha=0.25)
    x0 = focal.init_score(y)
    train = lgb.Dataset(X, y, init_score=np.full(len(y), x0))
    test = lgb.Dataset(X_test, y_test, init_score=np.full(len(y_test), x0), reference=train)
    history = {}
    booster = lgb.train(
        {"objective": focal, "learning_rate": 0.1, "num_leaves": 15, "verbose": -1, "seed": 0,
         "deterministic": True, "num_threads": 1, "metric": "None"},
        train, 150, valid_sets=[train, test], valid_names=["train", "test"], feval=focal.metric,
        callbacks=[lgb.record_evaluation(history)])
    losses = history["train"]["focal"]
    assert losses[-1] < 0.5 * losses[0]
    assert history["test"]["focal"][-1] < history["test"]["focal"][0]
    assert _auc(y_test, booster.predict(X_test, raw_score=True) + x0) > 0.85


# LightGBM 4.7 renames eval_set (eval_X, eval_y); the old name keeps older versions working.
@pytest.mark.filterwarnings("ignore:The argument 'eval_set' is deprecated")
def test_sklearn_interfaces(imbalanced):
    X, y, X_test, y_test = imbalanced
    focal = fl_xgb.FocalObjective()
    model = xgb.XGBClassifier(objective=focal.sklearn_objective, n_estimators=100,
                              learning_rate=0.1, max_depth=4, base_score=focal.init_probability(y),
                              eval_metric=focal.sklearn_metric, random_state=0)
    model.fit(X, y, eval_set=[(X, y)], verbose=False)
    values = model.evals_result()["validation_0"]["sklearn_metric"]
    assert values[-1] < 0.5 * values[0]
    assert _auc(y_test, model.predict(X_test, output_margin=True)) > 0.85

    focal_lgb = fl_lgb.FocalObjective()
    x0 = focal_lgb.init_score(y)
    model = lgb.LGBMClassifier(objective=focal_lgb.sklearn_objective, n_estimators=100,
                               learning_rate=0.1, num_leaves=15, random_state=0, verbose=-1)
    model.fit(X, y, init_score=np.full(len(y), x0), eval_set=[(X, y)],
              eval_init_score=[np.full(len(y), x0)], eval_metric=focal_lgb.sklearn_metric)
    values = model.evals_result_["training"]["focal"]
    assert values[-1] < 0.5 * values[0]
    assert _auc(y_test, model.predict(X_test, raw_score=True) + x0) > 0.85


@pytest.mark.parametrize("multi_class", ["softmax", "ovr"])
def test_multiclass_training_converges(three_classes, multi_class):
    X, y, X_test, y_test = three_classes
    focal = fl_xgb.FocalObjective(multi_class=multi_class)
    history = {}
    booster = xgb.train(
        {"num_class": 3, "tree_method": "hist", "seed": 0, "eta": 0.2, "max_depth": 4,
         "disable_default_eval_metric": 1,
         "base_score": 0.0},
        xgb.DMatrix(X, y, base_margin=np.tile(focal.init_score(y, num_class=3), (len(y), 1))),
        80, obj=focal, custom_metric=focal.metric,
        evals=[(xgb.DMatrix(X, y, base_margin=np.tile(focal.init_score(y, num_class=3),
                                                       (len(y), 1))), "train")],
        evals_result=history, verbose_eval=False)
    losses = history["train"]["focal"]
    assert losses[-1] < 0.5 * losses[0]
    if multi_class == "softmax":
        # Newton steps on the exact (floored) Hessian: the training loss never rises
        assert all(b <= a * (1 + 1e-6) for a, b in zip(losses, losses[1:]))
    scores = booster.predict(xgb.DMatrix(X_test), output_margin=True)
    accuracy = np.mean(scores.argmax(axis=1) == y_test)
    assert accuracy > 0.85  # the majority class alone is 0.8

    focal_lgb = fl_lgb.FocalObjective(multi_class=multi_class)
    init = np.tile(focal_lgb.init_score(y, num_class=3), (len(y), 1))
    booster = lgb.train({"objective": focal_lgb, "num_class": 3, "verbose": -1, "seed": 0,
                         "learning_rate": 0.2, "num_leaves": 15},
                        lgb.Dataset(X, y, init_score=init), 80)
    scores = booster.predict(X_test, raw_score=True)
    assert np.mean(scores.argmax(axis=1) == y_test) > 0.85


def test_multiclass_sklearn_interfaces(three_classes):
    X, y, X_test, y_test = three_classes
    focal = fl_xgb.FocalObjective()
    model = xgb.XGBClassifier(objective=focal.sklearn_objective, eval_metric=focal.sklearn_metric,
                              n_estimators=60, max_depth=4, learning_rate=0.2, random_state=0)
    model.fit(X, y, eval_set=[(X, y)], verbose=False)
    losses = model.evals_result()["validation_0"]["sklearn_metric"]
    assert losses[-1] < 0.5 * losses[0]
    scores = model.predict(X_test, output_margin=True)
    assert scores.shape == (len(y_test), 3) and np.mean(scores.argmax(axis=1) == y_test) > 0.85

    focal_lgb = fl_lgb.FocalObjective()
    model = lgb.LGBMClassifier(objective=focal_lgb.sklearn_objective, n_estimators=60,
                               learning_rate=0.2, num_leaves=15, random_state=0, verbose=-1)
    model.fit(X, y, init_score=np.tile(focal_lgb.init_score(y, num_class=3), (len(y), 1)))
    scores = model.predict(X_test, raw_score=True)
    assert scores.shape == (len(y_test), 3) and np.mean(scores.argmax(axis=1) == y_test) > 0.85


def test_bad_labels_are_refused(three_classes):
    X, y, _, _ = three_classes
    with pytest.raises(ValueError, match="class"):
        fl_xgb.FocalObjective()(np.zeros((len(y), 3), np.float32), xgb.DMatrix(X, y + 0.5))
    with pytest.raises(ValueError, match="target"):
        fl_xgb.FocalObjective()(np.zeros(len(y), np.float32), xgb.DMatrix(X, y * 2))
