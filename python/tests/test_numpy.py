"""The numpy API: values bit for bit equal to the library's C ABI, golden values, every error,
dtypes and layouts, out= arrays, zero copy and the GIL released."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

import focal_loss_rs as fl
from focal_loss_rs import _native

from conftest import golden_cases

DTYPES = [np.float32, np.float64]


def bits(a):
    """The bit patterns of an array (NaN payloads and signed zeros included)."""
    a = np.asarray(a)
    return a.view(np.uint32 if a.dtype == np.float32 else np.uint64)


def assert_same_bits(actual, expected):
    actual, expected = np.asarray(actual), np.asarray(expected)
    assert actual.dtype == expected.dtype and actual.shape == expected.shape
    np.testing.assert_array_equal(bits(actual), bits(expected))


def logits_of(rng, n, dtype):
    """Ordinary logits and the edges: saturated, huge, zero."""
    x = rng.normal(0.0, 4.0, n)
    x[: min(n, 8)] = [0.0, -0.0, 17.0, -17.0, 40.0, -40.0, 100.0, -1e4][: min(n, 8)]
    return x.astype(dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
@pytest.mark.parametrize("alpha", [0.25, None])
def test_sigmoid_soft_and_labels_match_the_c_abi(clib, dtype, reduction, alpha):
    rng = np.random.default_rng(1)
    x = logits_of(rng, 40_000, dtype)  # more than one chunk of the kernels
    soft = rng.uniform(0, 1, x.size).astype(dtype)
    labels = (rng.uniform(0, 1, x.size) < 0.3).astype(np.uint8)
    weights = rng.uniform(0, 2, x.size).astype(dtype)
    for targets in (soft, labels):
        for w in (None, weights):
            options = clib.sigmoid_options(gamma=1.5, alpha=alpha, reduction=reduction,
                                           label_smoothing=0.1)
            expected_loss, expected_grad = clib.sigmoid(x, targets, options, weights=w)
            loss, grad = fl.sigmoid_focal_loss_grad(
                x, targets, gamma=1.5, alpha=alpha, weights=w, label_smoothing=0.1,
                reduction=reduction)
            assert_same_bits(loss, expected_loss)
            assert_same_bits(grad, expected_grad)
            assert_same_bits(fl.sigmoid_focal_loss(
                x, targets, gamma=1.5, alpha=alpha, weights=w, label_smoothing=0.1,
                reduction=reduction), expected_loss)
            assert_same_bits(fl.sigmoid_focal_grad(
                x, targets, gamma=1.5, alpha=alpha, weights=w, label_smoothing=0.1,
                reduction=reduction), expected_grad)


@pytest.mark.parametrize("dtype", DTYPES)
def test_bool_labels_are_uint8_labels_and_the_result_has_the_logits_dtype(dtype):
    rng = np.random.default_rng(2)
    x = logits_of(rng, 1000, dtype)
    labels = rng.uniform(0, 1, x.size) < 0.5
    loss_bool, grad_bool = fl.sigmoid_focal_loss_grad(x, labels)
    loss_u8, grad_u8 = fl.sigmoid_focal_loss_grad(x, labels.astype(np.uint8))
    assert_same_bits(loss_bool, loss_u8)
    assert_same_bits(grad_bool, grad_u8)
    assert isinstance(loss_bool, np.generic) and loss_bool.dtype == dtype


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", ["none", "mean"])
def test_sigmoid_class_indices_match_the_c_abi(clib, dtype, reduction):
    rng = np.random.default_rng(3)
    rows, classes = 3000, 7
    x = logits_of(rng, rows * classes, dtype).reshape(rows, classes)
    targets = rng.integers(-1, classes + 1, rows).astype(np.int32)  # ignored and background
    options = clib.sigmoid_options(gamma=2.0, alpha=0.25, reduction=reduction)
    expected_loss, expected_grad = clib.sigmoid(x, targets, options)
    for t in (targets, targets.astype(np.int64)):
        loss, grad = fl.sigmoid_focal_loss_grad(x, t, reduction=reduction)
        assert_same_bits(loss, expected_loss)
        assert_same_bits(grad, expected_grad)
    gamma = rng.uniform(0, 4, classes)
    options = clib.sigmoid_options(alpha=0.25, reduction=reduction, class_gamma=gamma)
    expected_loss, expected_grad = clib.sigmoid(x, targets, options)
    loss, grad = fl.sigmoid_focal_loss_grad(
        x, targets, objective=fl.PerClassFocal(class_gamma=gamma), reduction=reduction)
    assert_same_bits(loss, expected_loss)
    assert_same_bits(grad, expected_grad)


FAMILY = [
    (fl.FocalStar(gamma=2.0, beta=1.0, alpha=0.25), dict(objective="focal_star", gamma=2.0, beta=1.0, alpha=0.25)),
    (fl.Poly1(gamma=1.5, alpha=None, epsilon=2.0), dict(objective="poly1", gamma=1.5, alpha=None, epsilon=2.0)),
    (fl.QualityFocal(beta=1.5), dict(objective="quality_focal", gamma=1.5)),
    (fl.Varifocal(alpha=0.6, gamma=1.5), dict(objective="varifocal", alpha=0.6, gamma=1.5)),
    (fl.Asymmetric(gamma_positive=0.5, gamma_negative=3.0, margin=0.1),
     dict(objective="asymmetric", gamma=0.5, gamma_negative=3.0, margin=0.1)),
    (fl.ReducedFocal(gamma=2.0, threshold=0.4, alpha=0.3),
     dict(objective="reduced_focal", gamma=2.0, threshold=0.4, alpha=0.3)),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("objective,c_options", FAMILY, ids=[f[1]["objective"] for f in FAMILY])
def test_the_family_matches_the_c_abi(clib, dtype, objective, c_options):
    rng = np.random.default_rng(4)
    x = logits_of(rng, 20_000, dtype)
    labels = (rng.uniform(0, 1, x.size) < 0.3).astype(np.uint8)
    soft = rng.uniform(0, 1, x.size).astype(dtype)
    targets_of = [labels] if c_options["objective"] == "reduced_focal" else [labels, soft]
    for targets in targets_of:
        for reduction in ("none", "mean"):
            options = clib.sigmoid_options(reduction=reduction, **c_options)
            expected_loss, expected_grad = clib.sigmoid(x, targets, options)
            loss, grad = fl.sigmoid_focal_loss_grad(x, targets, objective=objective,
                                                    reduction=reduction)
            assert_same_bits(loss, expected_loss)
            assert_same_bits(grad, expected_grad)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("floor", [None, 1e-3])
def test_grad_hess_matches_the_c_abi(clib, dtype, floor):
    rng = np.random.default_rng(5)
    x = logits_of(rng, 30_000, dtype)
    y = rng.uniform(0, 1, x.size).astype(dtype)
    options = clib.sigmoid_options(gamma=2.0, alpha=0.25)
    expected_grad, expected_hess = clib.grad_hess(x, y, options, floor)
    grad, hess = fl.sigmoid_focal_grad_hess(x, y, hessian_floor=floor)
    assert_same_bits(grad, expected_grad)
    assert_same_bits(hess, expected_hess)
    if floor is not None:
        assert hess.min() >= dtype(floor)
    else:
        assert hess.min() < 0  # the focal Hessian of badly misclassified points


def _softmax_inputs(seed, shape, dtype):
    """Logits of `shape`, int32 class indices (every 11th position ignored) and a per-class α."""
    rng = np.random.default_rng(seed)
    x = logits_of(rng, int(np.prod(shape)), dtype).reshape(shape)
    classes = shape[1]
    targets = rng.integers(0, classes, (shape[0],) + shape[2:]).astype(np.int32)
    targets.reshape(-1)[::11] = -100
    return rng, x, targets, rng.uniform(0.1, 1.0, classes)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(500, 80), (300, 4), (20, 19, 6, 7)])
@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
def test_softmax_matches_the_c_abi(clib, dtype, shape, reduction):
    rng, x, targets, class_alpha = _softmax_inputs(6, shape, dtype)
    classes = shape[1]
    cases = [
        dict(),
        dict(alpha=0.5, label_smoothing=0.1),
        dict(class_alpha=class_alpha, gamma=0.5),
        dict(epsilon=1.0, class_gamma=rng.uniform(0, 3, classes)),
    ]
    for case in cases:
        expected_loss, expected_grad = clib.softmax(x, targets, reduction=reduction, **case)
        python_case = dict(case)
        if "class_alpha" in python_case:
            python_case["alpha"] = python_case.pop("class_alpha")
        for t in (targets, targets.astype(np.int64)):
            loss, grad = fl.softmax_focal_loss_grad(x, t, reduction=reduction, **python_case)
            assert_same_bits(loss, expected_loss)
            assert_same_bits(grad, expected_grad)
        assert_same_bits(fl.softmax_focal_loss(x, targets, reduction=reduction, **python_case),
                         expected_loss)
        assert_same_bits(fl.softmax_focal_grad(x, targets, reduction=reduction, **python_case),
                         expected_grad)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(500, 80), (300, 4), (20, 19, 6, 7)])
@pytest.mark.parametrize("floor", [None, 1e-3])
def test_softmax_grad_hess_matches_the_c_abi(clib, dtype, shape, floor):
    rng, x, targets, class_alpha = _softmax_inputs(8, shape, dtype)
    classes = shape[1]
    cases = [
        dict(),
        dict(alpha=0.5, gamma=0.5),
        dict(class_alpha=class_alpha, epsilon=-1.0),
        dict(epsilon=1.0, class_gamma=rng.uniform(0, 3, classes)),
    ]
    for case in cases:
        expected_grad, expected_hess = clib.softmax(x, targets, hessian=True, floor=floor, **case)
        python_case = dict(case)
        if "class_alpha" in python_case:
            python_case["alpha"] = python_case.pop("class_alpha")
        for t in (targets, targets.astype(np.int64)):
            grad, hess = fl.softmax_focal_grad_hess(x, t, hessian_floor=floor, **python_case)
            assert_same_bits(grad, expected_grad)
            assert_same_bits(hess, expected_hess)
        if floor is None and not case:
            assert hess.min() < 0  # badly misclassified rows
        # into the caller's arrays
        out = (np.empty_like(x), np.empty_like(x))
        result = fl.softmax_focal_grad_hess(x, targets, hessian_floor=floor, out=out,
                                            **python_case)
        assert result[0] is out[0] and result[1] is out[1]
        assert_same_bits(out[1], expected_hess)


def test_softmax_grad_hess_refusals_write_nothing():
    x = np.zeros((4, 3), np.float32)
    targets = np.array([0, 1, 2, 3], np.int32)
    out = (np.full_like(x, 7.0), np.full_like(x, 7.0))
    with pytest.raises(ValueError, match=r"target 3 is 3; it must be in \[0, 3\)"):
        fl.softmax_focal_grad_hess(x, targets, out=out)
    with pytest.raises(ValueError, match="floor"):
        fl.softmax_focal_grad_hess(x, targets % 3, hessian_floor=float("nan"), out=out)
    with pytest.raises(ValueError, match="hess"):
        fl.softmax_focal_grad_hess(x, targets % 3, out=(out[0], np.empty((4, 2), np.float32)))
    assert (out[0] == 7.0).all() and (out[1] == 7.0).all()
    with pytest.raises(TypeError):
        fl.softmax_focal_grad_hess(x, targets % 3, label_smoothing=0.1)


def test_the_same_bits_for_any_thread_count():
    rng = np.random.default_rng(7)
    x = logits_of(rng, 300_000, np.float32)
    y = (rng.uniform(0, 1, x.size) < 0.1).astype(np.uint8)
    results = [fl.sigmoid_focal_loss_grad(x, y, threads=t) for t in (0, 1, 2, 3)]
    for loss, grad in results[1:]:
        assert_same_bits(loss, results[0][0])
        assert_same_bits(grad, results[0][1])


# -- golden values (mpmath, 60+ digits: tests/golden/generate.py) -----------------------------

def _floats(text, dtype):
    return np.array([float(v) for v in text.split()], dtype=dtype)


def _close(actual, golden, dtype, gamma, scale=None):
    """The accuracy contract of README/docs/MATH.md: relative 1e-13 (f64) / 2e-6 (f32), for
    γ > 8 grown as γ/8, relative to the size of the terms where they cancel (`scale`)."""
    rel = (1e-13 if dtype == np.float64 else 2e-6) * max(1.0, gamma / 8)
    floor = 1e-300 if dtype == np.float64 else 2.0 ** -120
    size = np.abs(golden) if scale is None else np.maximum(np.abs(golden), scale)
    error = np.abs(np.asarray(actual, dtype=np.float64) - golden)
    bad = error > rel * size + floor
    assert not bad.any(), (actual[bad][:5], golden[bad][:5])


@pytest.mark.parametrize("case", [c for c in golden_cases() if c["family"].startswith(("sigmoid", "softmax"))],
                         ids=lambda c: c["case"])
def test_golden_values(case):
    dtype = np.float64 if case["dtype"] == "f64" else np.float32
    gamma = float(case["gamma"])
    alpha = None if case["alpha"] == "none" else float(case["alpha"])
    reduction = case["reduction"]
    normalizer = None if case["normalizer"] == "none" else float(case["normalizer"])
    x = _floats(case["logits"], dtype)
    weights = None if case["weights"] == "none" else _floats(case["weights"], dtype)
    golden_loss = _floats(case["loss"], np.float64)
    golden_grad = _floats(case["grad"], np.float64)
    grad_scale = _floats(case["grad_scale"], np.float64) if "grad_scale" in case else None
    loss_scale = _floats(case["loss_scale"], np.float64) if "loss_scale" in case else None
    smoothing = float(case["smoothing"])
    family = case["family"]
    if family == "softmax":
        classes, spatial = int(case["classes"]), int(case["spatial"])
        targets = np.array(case["targets"].split(), dtype=np.int32)
        batch = targets.size // spatial
        x = x.reshape(batch, classes, spatial)
        targets = targets.reshape(batch, spatial)
        alpha_arg = _floats(case["class_alpha"], np.float64) if "class_alpha" in case else alpha
        class_gamma = _floats(case["class_gamma"], np.float64) if "class_gamma" in case else None
        loss, grad = fl.softmax_focal_loss_grad(
            x, targets, gamma=gamma, alpha=alpha_arg, class_gamma=class_gamma,
            epsilon=float(case.get("epsilon", 0.0)), label_smoothing=smoothing,
            reduction=reduction, normalizer=normalizer,
            ignore_index=int(case["ignore_index"]))
        grad_scale = _softmax_grad_scale(case, targets, classes, gamma, class_gamma, alpha_arg,
                                         smoothing, reduction, normalizer)
        if "hess" in case:
            g, h = fl.softmax_focal_grad_hess(
                x, targets, gamma=gamma, alpha=alpha_arg, class_gamma=class_gamma,
                epsilon=float(case.get("epsilon", 0.0)), ignore_index=int(case["ignore_index"]))
            _close(g.reshape(-1), golden_grad, dtype, gamma, grad_scale)
            _close(h.reshape(-1), _floats(case["hess"], np.float64), dtype, gamma,
                   _floats(case["hess_scale"], np.float64))
    else:
        if family == "sigmoid_soft":
            targets = _floats(case["targets"], dtype)
        elif family == "sigmoid_labels":
            targets = np.array(case["targets"].split(), dtype=np.uint8)
        else:
            classes = int(case["classes"])
            targets = np.array(case["targets"].split(), dtype=np.int32)
            x = x.reshape(targets.size, classes)
        objective = fl.Focal(gamma=gamma, alpha=alpha)
        if "class_gamma" in case:
            objective = fl.PerClassFocal(class_gamma=_floats(case["class_gamma"], np.float64),
                                         alpha=alpha)
        loss, grad = fl.sigmoid_focal_loss_grad(
            x, targets, objective=objective, weights=weights, label_smoothing=smoothing,
            reduction=reduction, normalizer=normalizer)
        if "hess" in case:
            g, h = fl.sigmoid_focal_grad_hess(x, targets, objective=objective,
                                              weights=weights, label_smoothing=smoothing)
            _close(h.reshape(-1), _floats(case["hess"], np.float64), dtype, gamma,
                   _floats(case["hess_scale"], np.float64))
    _close(np.atleast_1d(loss).reshape(-1), golden_loss, dtype, gamma, loss_scale)
    _close(grad.reshape(-1), golden_grad, dtype, gamma, grad_scale)


def _softmax_grad_scale(case, targets, classes, gamma, class_gamma, alpha, ls, reduction,
                        normalizer):
    """As tests/golden.rs: a label-smoothed row's gradient sums terms of size up to
    (1+γ)·α_k·y_k that can cancel, and poly-1's term adds at most |ε|·(2+γ)."""
    epsilon = float(case.get("epsilon", 0.0))
    ignore = int(case["ignore_index"])
    if ls == 0.0 and epsilon == 0.0:
        return None
    gamma = max(class_gamma) if class_gamma is not None else gamma
    batch, spatial = targets.shape
    scale = np.zeros((batch, classes, spatial))
    counted = np.count_nonzero(targets != ignore)
    divisor = (normalizer if normalizer is not None else counted) if reduction == "mean" else 1.0
    for n in range(batch):
        for s in range(spatial):
            t = targets[n, s]
            if t == ignore:
                continue
            a = [alpha[k] if np.ndim(alpha) else (1.0 if alpha is None else alpha)
                 for k in range(classes)]
            y = [(1.0 - ls if k == t else 0.0) + ls / classes for k in range(classes)]
            weights = sum(ak * yk for ak, yk in zip(a, y))
            scale[n, :, s] = (2.0 * (1.0 + gamma) * weights + abs(epsilon) * (2.0 + gamma)) / divisor
    return scale.reshape(-1)


# -- out= ------------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", DTYPES)
def test_out_arrays_are_written_and_returned(dtype):
    rng = np.random.default_rng(8)
    x = logits_of(rng, 5000, dtype).reshape(50, 100)
    y = (rng.uniform(0, 1, x.shape) < 0.5).astype(np.uint8)
    expected_loss, expected_grad = fl.sigmoid_focal_loss_grad(x, y, reduction="none")
    loss_out, grad_out = np.full_like(x, 7), np.full_like(x, 7)
    loss, grad = fl.sigmoid_focal_loss_grad(x, y, reduction="none", out=(loss_out, grad_out))
    assert loss is loss_out and grad is grad_out
    assert_same_bits(loss_out, expected_loss)
    assert_same_bits(grad_out, expected_grad)
    grad_out[:] = 0
    assert fl.sigmoid_focal_grad(x, y, reduction="none", out=grad_out) is grad_out
    assert_same_bits(grad_out, expected_grad)
    g_out, h_out = np.empty_like(x), np.empty_like(x)
    g, h = fl.sigmoid_focal_grad_hess(x, y, out=(g_out, h_out))
    assert g is g_out and h is h_out
    targets = rng.integers(0, 100, 50)
    s_out = np.empty_like(x)
    _, s = fl.softmax_focal_loss_grad(x, targets, out=(None, s_out))
    assert s is s_out
    assert_same_bits(s_out, fl.softmax_focal_grad(x, targets))


# -- errors: a clear exception, nothing written ----------------------------------------------

def _arrays():
    x = np.linspace(-3, 3, 12, dtype=np.float32)
    return x, (x > 0).astype(np.uint8)


ERRORS = [
    # (description, call, exception, message fragment)
    ("negative gamma", lambda x, y, o: fl.sigmoid_focal_loss_grad(x, y, gamma=-1.0, reduction="none", out=o), ValueError, "gamma"),
    ("NaN gamma", lambda x, y, o: fl.sigmoid_focal_loss_grad(x, y, gamma=float("nan"), reduction="none", out=o), ValueError, "gamma"),
    ("alpha above 1", lambda x, y, o: fl.sigmoid_focal_loss_grad(x, y, alpha=1.5, reduction="none", out=o), ValueError, "alpha"),
    ("NaN alpha", lambda x, y, o: fl.sigmoid_focal_loss_grad(x, y, alpha=float("nan"), reduction="none", out=o), ValueError, "alpha"),
    ("label smoothing 1", lambda x, y, o: fl.sigmoid_focal_loss_grad(x, y, label_smoothing=1.0, reduction="none", out=o), ValueError, "smoothing"),
    ("normalizer with sum", lambda x, y, o: fl.sigmoid_focal_loss_grad(x, y, normalizer=3.0, reduction="none", out=o), ValueError, "normali"),
    ("label 2", lambda x, y, o: fl.sigmoid_focal_loss_grad(x, np.where(y == 1, 2, 0).astype(np.uint8), reduction="none", out=o), ValueError, "label"),
    ("soft target above 1", lambda x, y, o: fl.sigmoid_focal_loss_grad(x, y.astype(np.float32) * 2, reduction="none", out=o), ValueError, "target"),
    ("negative weight", lambda x, y, o: fl.sigmoid_focal_loss_grad(x, y, weights=-np.ones_like(x), reduction="none", out=o), ValueError, "weight"),
    ("unknown reduction", lambda x, y, o: fl.sigmoid_focal_loss_grad(x, y, reduction="avg", out=o), ValueError, "reduction"),
    ("targets of another length", lambda x, y, o: fl.sigmoid_focal_loss_grad(x, y[:-1], reduction="none", out=o), ValueError, "shape"),
    ("weights of another shape", lambda x, y, o: fl.sigmoid_focal_loss_grad(x, y, weights=np.ones(3, np.float32), reduction="none", out=o), ValueError, "shape"),
    ("float16 logits", lambda x, y, o: fl.sigmoid_focal_loss_grad(x.astype(np.float16), y, reduction="none", out=o), TypeError, "float32 or float64"),
    ("float64 soft targets for float32 logits", lambda x, y, o: fl.sigmoid_focal_loss_grad(x, y.astype(np.float64), reduction="none", out=o), TypeError, "dtype"),
    ("float32 weights for float64 logits", lambda x, y, o: fl.sigmoid_focal_loss_grad(x.astype(np.float64), y, weights=np.ones(12, np.float32), reduction="none"), TypeError, "dtype"),
    ("a list", lambda x, y, o: fl.sigmoid_focal_loss_grad(list(x), y, reduction="none", out=o), TypeError, "numpy.ndarray"),
    ("non-contiguous logits", lambda x, y, o: fl.sigmoid_focal_loss_grad(np.repeat(x, 2)[::2], y, reduction="none", out=o), ValueError, "contiguous"),
    ("Fortran-order logits", lambda x, y, o: fl.sigmoid_focal_loss_grad(np.asfortranarray(x.reshape(3, 4)), y.reshape(3, 4), reduction="none"), ValueError, "contiguous"),
    ("objective beside gamma", lambda x, y, o: fl.sigmoid_focal_loss_grad(x, y, gamma=1.0, objective=fl.Poly1(), reduction="none", out=o), TypeError, "objective"),
    ("objective of another type", lambda x, y, o: fl.sigmoid_focal_loss_grad(x, y, objective="poly1", reduction="none", out=o), TypeError, "objective"),
    ("negative threads", lambda x, y, o: fl.sigmoid_focal_loss_grad(x, y, threads=-1, reduction="none", out=o), ValueError, "threads"),
    ("reduced focal with soft targets", lambda x, y, o: fl.sigmoid_focal_loss_grad(x, y.astype(np.float32), objective=fl.ReducedFocal(), reduction="none", out=o), ValueError, ""),
    ("FL* gamma 0", lambda x, y, o: fl.sigmoid_focal_loss_grad(x, y, objective=fl.FocalStar(gamma=0.0), reduction="none", out=o), ValueError, "gamma"),
    ("out of the wrong dtype", lambda x, y, o: fl.sigmoid_focal_loss_grad(x, y, reduction="none", out=(o[0], o[1].astype(np.float64))), TypeError, "dtype"),
    ("out of the wrong shape", lambda x, y, o: fl.sigmoid_focal_loss_grad(x, y, reduction="none", out=(o[0], np.empty(11, np.float32))), ValueError, "shape"),
    ("out aliasing the logits", lambda x, y, o: fl.sigmoid_focal_loss_grad(x, y, reduction="none", out=(o[0], x)), ValueError, "share"),
    ("out read-only", lambda x, y, o: fl.sigmoid_focal_loss_grad(x, y, reduction="none", out=(o[0], _readonly(o[1]))), ValueError, "writeable"),
    ("out not a tuple", lambda x, y, o: fl.sigmoid_focal_loss_grad(x, y, reduction="none", out=o[0]), TypeError, "tuple"),
]


def _readonly(a):
    a = a.copy()
    a.flags.writeable = False
    return a


@pytest.mark.parametrize("call,exception,fragment", [e[1:] for e in ERRORS], ids=[e[0] for e in ERRORS])
def test_errors_are_clear_and_write_nothing(call, exception, fragment):
    x, y = _arrays()
    out = (np.full_like(x, 7), np.full_like(x, 7))
    with pytest.raises(exception, match=f"(?i){fragment}"):
        call(x, y, out)
    assert (out[0] == 7).all() and (out[1] == 7).all()


SOFTMAX_ERRORS = [
    ("class index out of range", dict(targets=np.array([0, 5, 1])), ValueError, "target"),
    ("float targets", dict(targets=np.array([0.0, 1.0, 2.0])), TypeError, "int32 or int64"),
    ("uint8 targets", dict(targets=np.array([0, 1, 2], np.uint8)), TypeError, "int32 or int64"),
    ("int64 beyond int32", dict(targets=np.array([0, 2**40, 1])), ValueError, "int32"),
    ("targets of another shape", dict(targets=np.array([0, 1])), ValueError, "shape"),
    ("one-dimensional logits", dict(logits=np.zeros(12, np.float32)), ValueError, r"\[N, C\]"),
    ("class alpha of another length", dict(alpha=[0.5, 0.5]), ValueError, "alpha"),
    ("negative class alpha", dict(alpha=[0.5, -0.5, 0.5, 0.5]), ValueError, "alpha"),
    ("alpha as a string", dict(alpha="0.5"), TypeError, "alpha"),
    ("class gamma of another length", dict(class_gamma=[1.0]), ValueError, "gamma"),
    ("NaN epsilon", dict(epsilon=float("nan")), ValueError, "epsilon"),
    ("ignore index beyond int32", dict(ignore_index=2**40), OverflowError, ""),
]


@pytest.mark.parametrize("arguments,exception,fragment", [e[1:] for e in SOFTMAX_ERRORS],
                         ids=[e[0] for e in SOFTMAX_ERRORS])
def test_softmax_errors_are_clear_and_write_nothing(arguments, exception, fragment):
    call = dict(logits=np.linspace(-2, 2, 12, dtype=np.float32).reshape(3, 4),
                targets=np.array([0, 3, 1], dtype=np.int32), reduction="none")
    call.update(arguments)
    out = (np.full(3, 7, np.float32), np.full((3, 4), 7, np.float32))
    logits, targets = call.pop("logits"), call.pop("targets")
    with pytest.raises(exception, match=f"(?i){fragment}"):
        fl.softmax_focal_loss_grad(logits, targets, out=out, **call)
    assert (out[0] == 7).all() and (out[1] == 7).all()


def test_empty_input_is_a_mean_of_zero_with_nothing_to_write():
    x = np.zeros(0, np.float32)
    loss, grad = fl.sigmoid_focal_loss_grad(x, np.zeros(0, np.uint8))
    assert loss == 0 and grad.shape == (0,)


# -- zero copy and the GIL ------------------------------------------------------------------

@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.uint8, np.bool_, np.int32])
def test_contiguous_inputs_are_read_in_place(dtype):
    base = np.zeros(1001, dtype=dtype)
    for array in (base, base[1:], base.reshape(7, 143)):
        assert _native._input_address(array) == array.__array_interface__["data"][0]


def test_the_gil_is_released_while_the_kernels_run():
    """A second Python thread runs while a long call is inside the kernels: with the GIL held
    it could not execute a single bytecode between the call's start and its end."""
    rng = np.random.default_rng(9)
    x = rng.normal(0, 3, 4_000_000)
    y = rng.uniform(0, 1, x.size)
    inside = []

    def worker():
        for _ in range(5):
            start = time.perf_counter()
            fl.sigmoid_focal_grad_hess(x, y, objective=fl.Asymmetric(), threads=1)
            inside.append((start, time.perf_counter()))

    thread = threading.Thread(target=worker)
    ticks = []
    thread.start()
    while thread.is_alive():
        ticks.append(time.perf_counter())
    thread.join()
    # Ticks strictly inside a call (away from its edges, where the GIL changes hands).
    during = [t for t in ticks for (a, b) in inside if a + 0.2 * (b - a) < t < b - 0.2 * (b - a)]
    assert len(during) > 100, (len(ticks), inside)
