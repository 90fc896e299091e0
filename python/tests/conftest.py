"""Shared fixtures: the library's C ABI through ctypes (the reference the bindings must match
bit for bit) and the golden cases of ../tests/golden/cases.txt (mpmath, 60+ digits)."""

from __future__ import annotations

import ctypes
import os
import pathlib

import numpy as np
import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]


class SigmoidOptions(ctypes.Structure):
    _fields_ = [
        ("gamma", ctypes.c_double),
        ("alpha", ctypes.c_double),
        ("label_smoothing", ctypes.c_double),
        ("reduction", ctypes.c_int),
        ("normalizer", ctypes.c_double),
        ("threads", ctypes.c_uint32),
        ("objective", ctypes.c_int),
        ("beta", ctypes.c_double),
        ("epsilon", ctypes.c_double),
        ("gamma_negative", ctypes.c_double),
        ("margin", ctypes.c_double),
        ("threshold", ctypes.c_double),
        ("class_gamma", ctypes.POINTER(ctypes.c_double)),
    ]


class SoftmaxOptions(ctypes.Structure):
    _fields_ = [
        ("gamma", ctypes.c_double),
        ("alpha", ctypes.c_double),
        ("label_smoothing", ctypes.c_double),
        ("reduction", ctypes.c_int),
        ("normalizer", ctypes.c_double),
        ("ignore_index", ctypes.c_int32),
        ("threads", ctypes.c_uint32),
        ("epsilon", ctypes.c_double),
        ("class_gamma", ctypes.POINTER(ctypes.c_double)),
    ]


REDUCTIONS = {"none": 0, "sum": 1, "mean": 2}
OBJECTIVES = {
    "focal": 0,
    "focal_star": 1,
    "poly1": 2,
    "asymmetric": 3,
    "quality_focal": 4,
    "varifocal": 5,
    "reduced_focal": 6,
}
SUFFIX = {np.dtype(np.float32): "f32", np.dtype(np.float64): "f64"}


def _ptr(array):
    return None if array is None else ctypes.c_void_p(array.ctypes.data)


class CLibrary:
    """The C ABI of the library as the bindings' tests call it."""

    def __init__(self, path: pathlib.Path):
        self.lib = ctypes.CDLL(str(path))
        self.lib.focal_sigmoid_options_for.restype = SigmoidOptions
        self.lib.focal_sigmoid_options_for.argtypes = [ctypes.c_int]
        self.lib.focal_softmax_options_default.restype = SoftmaxOptions
        self.lib.focal_status_message.restype = ctypes.c_char_p

    def _check(self, status: int):
        if status != 0:
            raise ValueError(self.lib.focal_status_message(status).decode())

    def sigmoid_options(self, objective="focal", reduction="mean", label_smoothing=0.0,
                        normalizer=None, class_gamma=None, **params):
        options = self.lib.focal_sigmoid_options_for(OBJECTIVES.get(objective, 0))
        options.reduction = REDUCTIONS[reduction]
        options.label_smoothing = label_smoothing
        options.normalizer = 0.0 if normalizer is None else normalizer
        for name, value in params.items():
            if name == "alpha":
                value = -1.0 if value is None else value
            setattr(options, name, value)
        if class_gamma is not None:
            self._class_gamma = np.ascontiguousarray(class_gamma, dtype=np.float64)
            options.class_gamma = self._class_gamma.ctypes.data_as(ctypes.POINTER(ctypes.c_double))
        return options

    def sigmoid(self, logits, targets, options, weights=None, with_loss=True, with_grad=True):
        """Soft targets (the logits' dtype), labels (uint8) or class indices (int32, logits
        [N, C]); returns (loss, grad) with None where not asked for."""
        suffix = SUFFIX[logits.dtype]
        n = logits.size
        loss = None
        if with_loss:
            loss = np.empty(logits.shape if options.reduction == 0 else (), dtype=logits.dtype)
        grad = np.empty_like(logits) if with_grad else None
        if targets.dtype == np.int32:
            rows, classes = logits.shape
            status = getattr(self.lib, f"focal_sigmoid_classes_{suffix}")(
                _ptr(logits), _ptr(targets), ctypes.c_size_t(rows), ctypes.c_size_t(classes),
                ctypes.byref(options), _ptr(loss), _ptr(grad))
        else:
            kind = "labels_" if targets.dtype == np.uint8 else ""
            status = getattr(self.lib, f"focal_sigmoid_{kind}{suffix}")(
                _ptr(logits), _ptr(targets), _ptr(weights), ctypes.c_size_t(n),
                ctypes.byref(options), _ptr(loss), _ptr(grad))
        self._check(status)
        return loss, grad

    def grad_hess(self, logits, targets, options, floor=None):
        suffix = SUFFIX[logits.dtype]
        grad, hess = np.empty_like(logits), np.empty_like(logits)
        status = getattr(self.lib, f"focal_sigmoid_grad_hess_{suffix}")(
            _ptr(logits), _ptr(targets), ctypes.c_size_t(logits.size), ctypes.byref(options),
            ctypes.c_double(-np.inf if floor is None else floor), _ptr(grad), _ptr(hess))
        self._check(status)
        return grad, hess

    def softmax(self, logits, targets, gamma=2.0, alpha=None, class_alpha=None,
                label_smoothing=0.0, reduction="mean", normalizer=None, ignore_index=-100,
                epsilon=0.0, class_gamma=None, hessian=False, floor=None):
        """Loss and gradient; with ``hessian``, gradient and Hessian (``floor``: None = none)."""
        suffix = SUFFIX[logits.dtype]
        options = self.lib.focal_softmax_options_default()
        options.gamma = gamma
        options.alpha = -1.0 if alpha is None else alpha
        options.label_smoothing = label_smoothing
        options.reduction = REDUCTIONS[reduction]
        options.normalizer = 0.0 if normalizer is None else normalizer
        options.ignore_index = ignore_index
        options.epsilon = epsilon
        keep = None
        if class_gamma is not None:
            keep = np.ascontiguousarray(class_gamma, dtype=np.float64)
            options.class_gamma = keep.ctypes.data_as(ctypes.POINTER(ctypes.c_double))
        batch, classes = logits.shape[:2]
        spatial = int(np.prod(logits.shape[2:], dtype=np.int64))
        loss = np.empty(targets.shape if reduction == "none" else (), dtype=logits.dtype)
        grad = np.empty_like(logits)
        alpha_array = None if class_alpha is None else np.ascontiguousarray(class_alpha, dtype=logits.dtype)
        if hessian:
            hess = np.empty_like(logits)
            status = getattr(self.lib, f"focal_softmax_grad_hess_{suffix}")(
                _ptr(logits), _ptr(targets), ctypes.c_size_t(batch), ctypes.c_size_t(classes),
                ctypes.c_size_t(spatial), _ptr(alpha_array), ctypes.byref(options),
                ctypes.c_double(-np.inf if floor is None else floor), _ptr(grad), _ptr(hess))
            del keep
            self._check(status)
            return grad, hess
        status = getattr(self.lib, f"focal_softmax_{suffix}")(
            _ptr(logits), _ptr(targets), ctypes.c_size_t(batch), ctypes.c_size_t(classes),
            ctypes.c_size_t(spatial), _ptr(alpha_array), ctypes.byref(options), _ptr(loss),
            _ptr(grad))
        del keep
        self._check(status)
        return loss, grad


def _library_path() -> pathlib.Path:
    explicit = os.environ.get("FOCAL_LOSS_CLIB")
    if explicit:
        return pathlib.Path(explicit)
    # The newest build of this checkout (run-tests builds the debug one just before).
    candidates = [REPO / "target" / p / "libfocal_loss.so" for p in ("release", "debug")]
    existing = [c for c in candidates if c.exists()]
    if existing:
        return max(existing, key=lambda c: c.stat().st_mtime)
    raise FileNotFoundError(
        "the C library is needed for the bit-for-bit tests: run `cargo build --lib` in the "
        "repository (python/run-tests does) or set FOCAL_LOSS_CLIB"
    )


@pytest.fixture(scope="session")
def clib() -> CLibrary:
    return CLibrary(_library_path())


def golden_cases():
    """The cases of tests/golden/cases.txt as dicts of strings."""
    cases, case = [], None
    for line in (REPO / "tests" / "golden" / "cases.txt").read_text().splitlines():
        if not line or line.startswith("#"):
            continue
        key, _, value = line.partition(" ")
        if key == "case":
            case = {"case": value}
        elif key == "end":
            cases.append(case)
        else:
            case[key] = value
    return cases
