"""Numerically stable focal loss from logits, with the gradient fused into the same pass and,
for the sigmoid family, the Hessian that gradient boosting needs.

numpy arrays in, numpy arrays out: float32 or float64 logits, C-contiguous, read in place
(no copy) with the GIL released while the kernels run. Every value is the Rust library's
``focal-loss``, bit for bit, at any thread count.

Quick start::

    import numpy as np, focal_loss_rs as fl
    logits = np.array([3.0, -1.0, 0.5, -4.0], dtype=np.float32)
    labels = np.array([1, 0, 0, 1], dtype=np.uint8)
    loss, grad = fl.sigmoid_focal_loss_grad(logits, labels)   # γ = 2, α = 0.25, mean

Targets of the sigmoid functions, chosen by dtype:

* the logits' dtype: soft targets in [0, 1], one per logit;
* ``uint8`` or ``bool``: hard labels 0/1, one per logit;
* ``int32`` or ``int64``: one class index per row of ``[N, C]`` logits (mmcv's form): a value
  in ``[0, C)`` marks that class positive, ``C`` is background, a negative value ignores the
  row. ``int64`` indices are narrowed to ``int32`` in a copy (the only input that is copied).

Errors: a wrong type or dtype raises ``TypeError``; a wrong shape, a non-contiguous array,
an out-of-range option, target or weight raises ``ValueError`` with the library's message.
Nothing is written on error, ``out=`` arrays included.

Optional adapters: :mod:`focal_loss_rs.torch` (autograd function, ``torch.compile``),
:mod:`focal_loss_rs.xgboost` and :mod:`focal_loss_rs.lightgbm` (objectives and metrics).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Optional, Sequence, Tuple, Union

import numpy as np

from . import _native
from ._native import __version__, simd_level

__all__ = [
    "Asymmetric",
    "Focal",
    "FocalStar",
    "PerClassFocal",
    "Poly1",
    "QualityFocal",
    "ReducedFocal",
    "Varifocal",
    "__version__",
    "sigmoid_focal_grad",
    "sigmoid_focal_grad_hess",
    "sigmoid_focal_loss",
    "sigmoid_focal_loss_grad",
    "simd_level",
    "softmax_focal_grad",
    "softmax_focal_grad_hess",
    "softmax_focal_loss",
    "softmax_focal_loss_grad",
]


class _Objective:
    """An objective of the sigmoid focal family (see the classes below)."""

    _name: ClassVar[str]

    def _native(self) -> dict:
        """The objective as the native functions take it: every parameter, by name."""
        fields = dict(
            name=self._name,
            gamma=2.0,
            alpha=None,
            beta=0.0,
            epsilon=1.0,
            gamma_negative=4.0,
            margin=0.05,
            threshold=0.5,
            class_gamma=None,
        )
        fields.update(self._fields())
        return fields

    def _fields(self) -> dict:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Focal(_Objective):
    """Focal loss (Lin et al. 2017): ``−α_t·(1 − p_t)^γ·log p_t``. ``alpha=None``: α_t = 1."""

    gamma: float = 2.0
    alpha: Optional[float] = 0.25
    _name: ClassVar[str] = "focal"


@dataclass(frozen=True)
class FocalStar(_Objective):
    """FL* (RetinaNet, appendix A): ``−α_t·log σ(γ·z + β)/γ`` with ``z = (2y − 1)·x``."""

    gamma: float = 1.0
    beta: float = 0.0
    alpha: Optional[float] = None
    _name: ClassVar[str] = "focal_star"


@dataclass(frozen=True)
class Poly1(_Objective):
    """Poly-1 focal loss (Leng et al. 2022): focal loss ``+ ε·(1 − p_t)^(γ+1)``."""

    gamma: float = 2.0
    alpha: Optional[float] = 0.25
    epsilon: float = 1.0
    _name: ClassVar[str] = "poly1"


@dataclass(frozen=True)
class QualityFocal(_Objective):
    """Quality focal loss (GFL, Li et al. 2020): ``|y − σ(x)|^β·BCE(x, y)``, soft targets."""

    beta: float = 2.0
    _name: ClassVar[str] = "quality_focal"


@dataclass(frozen=True)
class Varifocal(_Objective):
    """Varifocal loss (VarifocalNet, Zhang et al. 2021): positives (``y > 0``) weighted by
    ``y``, negatives by ``α·σ(x)^γ``."""

    alpha: float = 0.75
    gamma: float = 2.0
    _name: ClassVar[str] = "varifocal"


@dataclass(frozen=True)
class Asymmetric(_Objective):
    """Asymmetric loss (ASL, Ridnik et al. 2021): ``γ₊`` on positives, ``γ₋`` and the
    probability margin ``m`` on negatives. The true gradient (the paper's code detaches the
    focusing weight)."""

    gamma_positive: float = 1.0
    gamma_negative: float = 4.0
    margin: float = 0.05
    _name: ClassVar[str] = "asymmetric"

    def _fields(self) -> dict:
        return dict(
            gamma=self.gamma_positive,
            gamma_negative=self.gamma_negative,
            margin=self.margin,
        )


@dataclass(frozen=True)
class ReducedFocal(_Objective):
    """Reduced focal loss (Sergievskiy & Ponamarev 2019): cross-entropy while ``p_t`` is below
    ``threshold``, the focal factor ``((1 − p_t)/threshold)^γ`` above it. Hard targets."""

    gamma: float = 2.0
    threshold: float = 0.5
    alpha: Optional[float] = None
    _name: ClassVar[str] = "reduced_focal"


@dataclass(frozen=True)
class PerClassFocal(_Objective):
    """Focal loss with one γ per class of ``[N, C]`` logits (class-index targets)."""

    class_gamma: Sequence[float] = ()
    alpha: Optional[float] = 0.25
    _name: ClassVar[str] = "per_class_focal"

    def _fields(self) -> dict:
        return dict(class_gamma=[float(g) for g in self.class_gamma], alpha=self.alpha)


Objective = Union[
    Focal, FocalStar, Poly1, QualityFocal, Varifocal, Asymmetric, ReducedFocal, PerClassFocal
]

_UNSET = object()


def _objective(gamma, alpha, objective) -> dict:
    if objective is None:
        return Focal(
            gamma=2.0 if gamma is _UNSET else gamma,
            alpha=0.25 if alpha is _UNSET else alpha,
        )._native()
    if gamma is not _UNSET or alpha is not _UNSET:
        raise TypeError("give gamma and alpha in the objective, not beside it")
    if not isinstance(objective, _Objective):
        raise TypeError(
            f"objective must be one of focal_loss_rs's objectives (Focal, FocalStar, ...), "
            f"not {type(objective).__name__}"
        )
    return objective._native()


def _threads(threads) -> int:
    if isinstance(threads, bool) or not isinstance(threads, (int, np.integer)):
        raise TypeError(f"threads must be an int, not {type(threads).__name__}")
    if threads < 0:
        raise ValueError(f"threads must be >= 0 (0: the library's default), not {threads}")
    return int(threads)


def _reduced(loss: np.ndarray, reduction: str):
    """A reduced loss as a numpy scalar of the logits' dtype; per-element losses as they are."""
    return loss if reduction == "none" else loss[()]


def _sigmoid(arguments: dict, outputs: str, **out):
    """The native sigmoid call of a public function, from its arguments (``locals()``: the
    signature is the one list of the options)."""
    options = {
        k: v
        for k, v in arguments.items()
        if k in ("weights", "label_smoothing", "reduction", "normalizer", "hessian_floor")
    }
    return _native.sigmoid(
        arguments["logits"],
        arguments["targets"],
        objective=_objective(arguments["gamma"], arguments["alpha"], arguments["objective"]),
        threads=_threads(arguments["threads"]),
        outputs=outputs,
        **{f"out_{name}": array for name, array in out.items()},
        **options,
    )


def _pair(out, names: Tuple[str, str]):
    if out is None:
        return None, None
    if not isinstance(out, tuple) or len(out) != 2:
        raise TypeError(f"out must be None or a tuple ({names[0]}, {names[1]}) of arrays or None")
    return out


def sigmoid_focal_loss(
    logits: np.ndarray,
    targets: np.ndarray,
    *,
    gamma: float = _UNSET,  # type: ignore[assignment]
    alpha: Optional[float] = _UNSET,  # type: ignore[assignment]
    objective: Optional[Objective] = None,
    weights: Optional[np.ndarray] = None,
    label_smoothing: float = 0.0,
    reduction: str = "mean",
    normalizer: Optional[float] = None,
    threads: int = 0,
    out: Optional[np.ndarray] = None,
):
    """Sigmoid focal loss of ``logits`` against ``targets``.

    Parameters
    ----------
    logits : float32 or float64 array, any shape (``[N, C]`` for class-index targets).
    targets : soft targets (the logits' dtype), labels (uint8/bool) or class indices
        (int32/int64, shape ``[N]``); see the module documentation.
    gamma : focusing parameter γ ≥ 0 (default 2).
    alpha : α ∈ [0, 1] weighting positives (default 0.25); ``None`` switches it off.
    objective : another member of the family (:class:`FocalStar`, :class:`Poly1`, ...);
        its parameters replace ``gamma`` and ``alpha``.
    weights : one non-negative weight per logit (the mean still divides by the count).
    label_smoothing : ``ls ∈ [0, 1)``: targets become ``y·(1 − ls) + ls/2``.
    reduction : ``"mean"`` (default), ``"sum"`` or ``"none"``.
    normalizer : with ``"mean"``, divide the sum by this instead of the count (e.g. the
        number of positive anchors).
    threads : the most threads to use; 0 (default) for the library's pool, 1 for the calling
        thread. The result is the same bits for any value.
    out : for ``reduction="none"``, an array of the logits' shape and dtype to write into.

    Returns
    -------
    A numpy scalar of the logits' dtype, or an array of the logits' shape for ``"none"``.

    >>> import numpy as np, focal_loss_rs as fl
    >>> x = np.array([3.0, -1.0], dtype=np.float64)
    >>> float(fl.sigmoid_focal_loss(x, np.array([1, 0], dtype=np.uint8), reduction="sum")) > 0
    True
    """
    loss, _, _ = _sigmoid(locals(), "loss", loss=out)
    return _reduced(loss, reduction)


def sigmoid_focal_loss_grad(
    logits: np.ndarray,
    targets: np.ndarray,
    *,
    gamma: float = _UNSET,  # type: ignore[assignment]
    alpha: Optional[float] = _UNSET,  # type: ignore[assignment]
    objective: Optional[Objective] = None,
    weights: Optional[np.ndarray] = None,
    label_smoothing: float = 0.0,
    reduction: str = "mean",
    normalizer: Optional[float] = None,
    threads: int = 0,
    out: Optional[Tuple[Optional[np.ndarray], Optional[np.ndarray]]] = None,
):
    """The loss of :func:`sigmoid_focal_loss` and its gradient with respect to the logits, in
    one pass: ``(loss, grad)``. ``grad`` is the gradient of the reduced loss (of each element's
    loss for ``"none"``). ``out=(loss_out, grad_out)``, either may be ``None``."""
    out_loss, out_grad = _pair(out, ("loss_out", "grad_out"))
    loss, grad, _ = _sigmoid(locals(), "loss_grad", loss=out_loss, grad=out_grad)
    return _reduced(loss, reduction), grad


def sigmoid_focal_grad(
    logits: np.ndarray,
    targets: np.ndarray,
    *,
    gamma: float = _UNSET,  # type: ignore[assignment]
    alpha: Optional[float] = _UNSET,  # type: ignore[assignment]
    objective: Optional[Objective] = None,
    weights: Optional[np.ndarray] = None,
    label_smoothing: float = 0.0,
    reduction: str = "mean",
    normalizer: Optional[float] = None,
    threads: int = 0,
    out: Optional[np.ndarray] = None,
) -> np.ndarray:
    """The gradient of :func:`sigmoid_focal_loss` alone (the same bits as the fused call's)."""
    _, grad, _ = _sigmoid(locals(), "grad", grad=out)
    return grad


def sigmoid_focal_grad_hess(
    logits: np.ndarray,
    targets: np.ndarray,
    *,
    gamma: float = _UNSET,  # type: ignore[assignment]
    alpha: Optional[float] = _UNSET,  # type: ignore[assignment]
    objective: Optional[Objective] = None,
    weights: Optional[np.ndarray] = None,
    label_smoothing: float = 0.0,
    hessian_floor: Optional[float] = None,
    threads: int = 0,
    out: Optional[Tuple[Optional[np.ndarray], Optional[np.ndarray]]] = None,
):
    """Per-element gradient and Hessian ``(grad, hess)`` of the sigmoid focal loss: the
    custom objective of a gradient-boosting library.

    The focal Hessian is negative for badly misclassified points (``p_t < 0.058`` at γ = 2);
    ``hessian_floor`` raises every Hessian below it to it (``None``: no floor). With weights,
    ``w·g`` and ``w·max(h, floor)``. The boosting adapters pass a floor of their own.
    """
    out_grad, out_hess = _pair(out, ("grad_out", "hess_out"))
    _, grad, hess = _sigmoid(locals(), "grad_hess", grad=out_grad, hess=out_hess)
    return grad, hess


def _softmax_alpha(alpha):
    if alpha is None or isinstance(alpha, (int, float, np.floating, np.integer)):
        return None if alpha is None else float(alpha)
    if isinstance(alpha, (str, bytes)):
        raise TypeError("alpha must be None, a number or one number per class")
    return [float(a) for a in alpha]


def _softmax(arguments: dict, outputs: str, floor=None, **out):
    """The native softmax call of a public function, from its arguments (``locals()``: the
    signature is the one list of the options)."""
    names = ("gamma", "alpha", "class_gamma", "epsilon", "label_smoothing", "reduction",
             "normalizer", "ignore_index", "threads")
    options = {name: arguments[name] for name in names}
    options["alpha"] = _softmax_alpha(options["alpha"])
    if options["class_gamma"] is not None:
        options["class_gamma"] = [float(g) for g in options["class_gamma"]]
    options["threads"] = _threads(options["threads"])
    return _native.softmax(
        arguments["logits"], arguments["targets"], outputs=outputs, hessian_floor=floor,
        **{f"out_{name}": array for name, array in out.items()}, **options
    )


def softmax_focal_loss(
    logits: np.ndarray,
    targets: np.ndarray,
    *,
    gamma: float = 2.0,
    alpha: Union[None, float, Sequence[float]] = None,
    class_gamma: Optional[Sequence[float]] = None,
    epsilon: float = 0.0,
    label_smoothing: float = 0.0,
    reduction: str = "mean",
    normalizer: Optional[float] = None,
    ignore_index: int = -100,
    threads: int = 0,
    out: Optional[np.ndarray] = None,
):
    """Softmax focal loss over axis 1 of ``[N, C]`` or ``[N, C, d1, ...]`` logits, with class
    indices ``[N]`` or ``[N, d1, ...]`` (int32 or int64).

    ``alpha``: ``None`` (off, default), one number, or one per class. ``class_gamma``: one γ
    per class instead of ``gamma``. ``epsilon``: the poly-1 term ``ε·(1 − p_t)^(γ+1)``.
    ``label_smoothing``: the target distribution becomes ``(1 − ls)·onehot + ls/C``. Positions
    whose target is ``ignore_index`` count for nothing (not in the mean's count either).
    For ``reduction="none"`` the loss has the targets' shape.
    """
    loss, _, _ = _softmax(locals(), "loss", loss=out)
    return _reduced(loss, reduction)


def softmax_focal_loss_grad(
    logits: np.ndarray,
    targets: np.ndarray,
    *,
    gamma: float = 2.0,
    alpha: Union[None, float, Sequence[float]] = None,
    class_gamma: Optional[Sequence[float]] = None,
    epsilon: float = 0.0,
    label_smoothing: float = 0.0,
    reduction: str = "mean",
    normalizer: Optional[float] = None,
    ignore_index: int = -100,
    threads: int = 0,
    out: Optional[Tuple[Optional[np.ndarray], Optional[np.ndarray]]] = None,
):
    """:func:`softmax_focal_loss` and its gradient (the logits' shape) in one pass:
    ``(loss, grad)``; ``out=(loss_out, grad_out)``."""
    out_loss, out_grad = _pair(out, ("loss_out", "grad_out"))
    loss, grad, _ = _softmax(locals(), "loss_grad", loss=out_loss, grad=out_grad)
    return _reduced(loss, reduction), grad


def softmax_focal_grad(
    logits: np.ndarray,
    targets: np.ndarray,
    *,
    gamma: float = 2.0,
    alpha: Union[None, float, Sequence[float]] = None,
    class_gamma: Optional[Sequence[float]] = None,
    epsilon: float = 0.0,
    label_smoothing: float = 0.0,
    reduction: str = "mean",
    normalizer: Optional[float] = None,
    ignore_index: int = -100,
    threads: int = 0,
    out: Optional[np.ndarray] = None,
) -> np.ndarray:
    """The gradient of :func:`softmax_focal_loss` alone."""
    _, grad, _ = _softmax(locals(), "grad", grad=out)
    return grad


def softmax_focal_grad_hess(
    logits: np.ndarray,
    targets: np.ndarray,
    *,
    gamma: float = 2.0,
    alpha: Union[None, float, Sequence[float]] = None,
    class_gamma: Optional[Sequence[float]] = None,
    epsilon: float = 0.0,
    ignore_index: int = -100,
    hessian_floor: Optional[float] = None,
    threads: int = 0,
    out: Optional[Tuple[Optional[np.ndarray], Optional[np.ndarray]]] = None,
):
    """Per-position gradient and diagonal Hessian ``(grad, hess)`` of the softmax focal loss
    (each the logits' shape): the multi-class custom objective of a gradient-boosting library
    (XGBoost's and LightGBM's ``[N, K]`` scores are ``[N, C]`` logits here).

    One-hot targets only (no label smoothing). Like the sigmoid focal Hessian it is negative
    for badly misclassified rows; ``hessian_floor`` raises every value below it to it
    (``None``: no floor). Ignored positions get 0 and 0. ``out=(grad_out, hess_out)``.
    """
    out_grad, out_hess = _pair(out, ("grad_out", "hess_out"))
    arguments = dict(locals(), label_smoothing=0.0, reduction="none", normalizer=None)
    _, grad, hess = _softmax(arguments, "grad_hess", grad=out_grad, hess=out_hess,
                             floor=hessian_floor)
    return grad, hess
