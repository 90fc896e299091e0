"""PyTorch adapter: focal losses of CPU tensors as autograd functions.

The forward pass computes the loss and, when the logits require a gradient, the gradient in
the same pass (the library's fused kernel); the backward pass only scales that saved gradient.
Tensors reach the kernels through numpy without a copy when they are contiguous. Both
functions are ``torch.library.custom_op`` s (``focal_loss_rs::sigmoid_focal``,
``focal_loss_rs::softmax_focal``) with fake implementations, so ``torch.compile`` traces
models that use them.

``sigmoid_focal_loss(inputs, targets, alpha=0.25, gamma=2, reduction="none")`` takes
torchvision's arguments in torchvision's order (and its default reduction): it is a drop-in
replacement for ``torchvision.ops.sigmoid_focal_loss`` on CPU, with the same values where
that function is accurate and finite ones where it is not.

Targets are not differentiated: a target that requires a gradient is refused. Second
derivatives (double backward) are not provided.
"""

from __future__ import annotations

from typing import List, Optional, Sequence, Tuple, Union

import numpy as np
import torch
from torch import Tensor

from . import _Objective, _native, _objective, _softmax_alpha, _threads

__all__ = ["sigmoid_focal_loss", "softmax_focal_loss"]

_REDUCTIONS = ("none", "mean", "sum")
_FLOATS = (torch.float32, torch.float64)


def _array(tensor: Tensor, name: str) -> np.ndarray:
    """A numpy view of a CPU tensor (a copy only when it is not contiguous)."""
    if tensor.device.type != "cpu":
        raise ValueError(f"{name} must be a CPU tensor, not on {tensor.device}")
    return tensor.detach().contiguous().numpy()


def _as_tensors(loss, grad, logits: Tensor) -> Tuple[Tensor, Tensor]:
    """The native outputs as tensors sharing their memory; an empty gradient when the call
    computed none."""
    grad_tensor = logits.new_empty(0) if grad is None else torch.from_numpy(grad)
    return torch.from_numpy(np.asarray(loss)), grad_tensor


def _objective_args(native: dict):
    """The objective's parameters as a custom op's schema takes them (no dicts, no unions)."""
    params = [
        float(native["gamma"]),
        float(native["beta"]),
        float(native["epsilon"]),
        float(native["gamma_negative"]),
        float(native["margin"]),
        float(native["threshold"]),
    ]
    alpha = None if native["alpha"] is None else float(native["alpha"])
    class_gamma = native["class_gamma"]
    class_gamma = None if class_gamma is None else [float(g) for g in class_gamma]
    return native["name"], params, alpha, class_gamma


def _native_objective(name: str, params: List[float], alpha, class_gamma) -> dict:
    gamma, beta, epsilon, gamma_negative, margin, threshold = params
    return dict(
        name=name,
        gamma=gamma,
        alpha=alpha,
        beta=beta,
        epsilon=epsilon,
        gamma_negative=gamma_negative,
        margin=margin,
        threshold=threshold,
        class_gamma=class_gamma,
    )


@torch.library.custom_op("focal_loss_rs::sigmoid_focal", mutates_args=())
def _sigmoid_focal(
    logits: Tensor,
    targets: Tensor,
    weights: Optional[Tensor],
    name: str,
    params: List[float],
    alpha: Optional[float],
    class_gamma: Optional[List[float]],
    label_smoothing: float,
    reduction: str,
    normalizer: Optional[float],
    threads: int,
    with_grad: bool,
) -> Tuple[Tensor, Tensor]:
    loss, grad, _ = _native.sigmoid(
        _array(logits, "inputs"),
        _array(targets, "targets"),
        objective=_native_objective(name, params, alpha, class_gamma),
        weights=None if weights is None else _array(weights, "weights"),
        label_smoothing=label_smoothing,
        reduction=reduction,
        normalizer=normalizer,
        threads=threads,
        outputs="loss_grad" if with_grad else "loss",
    )
    return _as_tensors(loss, grad, logits)


@_sigmoid_focal.register_fake
def _(logits, targets, weights, name, params, alpha, class_gamma, label_smoothing, reduction,
      normalizer, threads, with_grad):
    loss = logits.new_empty(logits.shape if reduction == "none" else ())
    grad = logits.new_empty(logits.shape if with_grad else (0,))
    return loss, grad


@torch.library.custom_op("focal_loss_rs::softmax_focal", mutates_args=())
def _softmax_focal(
    logits: Tensor,
    targets: Tensor,
    gamma: float,
    class_gamma: Optional[List[float]],
    alpha: Optional[float],
    class_alpha: Optional[List[float]],
    epsilon: float,
    label_smoothing: float,
    reduction: str,
    normalizer: Optional[float],
    ignore_index: int,
    threads: int,
    with_grad: bool,
) -> Tuple[Tensor, Tensor]:
    # One α or one per class: two arguments, as custom_op schemas have no unions.
    loss, grad, _ = _native.softmax(
        _array(logits, "input"),
        _array(targets, "target"),
        gamma=gamma,
        class_gamma=class_gamma,
        alpha=class_alpha if class_alpha is not None else alpha,
        epsilon=epsilon,
        label_smoothing=label_smoothing,
        reduction=reduction,
        normalizer=normalizer,
        ignore_index=ignore_index,
        threads=threads,
        outputs="loss_grad" if with_grad else "loss",
    )
    return _as_tensors(loss, grad, logits)


@_softmax_focal.register_fake
def _(logits, targets, gamma, class_gamma, alpha, class_alpha, epsilon, label_smoothing,
      reduction, normalizer, ignore_index, threads, with_grad):
    loss = logits.new_empty(targets.shape if reduction == "none" else ())
    grad = logits.new_empty(logits.shape if with_grad else (0,))
    return loss, grad


def _setup_context(ctx, inputs, output):
    _, grad = output
    ctx.save_for_backward(grad)
    ctx.num_inputs = len(inputs)


# Per-element softmax losses have the targets' shape [N, d…]: lifted to [N, 1, d…] to
# broadcast over the class axis of the saved gradient.
def _softmax_backward(ctx, grad_loss, _grad_grad):
    (grad,) = ctx.saved_tensors
    if grad_loss.dim() > 0:
        grad_logits = grad * grad_loss.unsqueeze(1)
    else:
        grad_logits = grad * grad_loss
    return (grad_logits,) + (None,) * (ctx.num_inputs - 1)


def _sigmoid_backward(ctx, grad_loss, _grad_grad):
    (grad,) = ctx.saved_tensors
    return (grad * grad_loss,) + (None,) * (ctx.num_inputs - 1)


torch.library.register_autograd(
    "focal_loss_rs::sigmoid_focal", _sigmoid_backward, setup_context=_setup_context
)
torch.library.register_autograd(
    "focal_loss_rs::softmax_focal", _softmax_backward, setup_context=_setup_context
)


def _check(tensor: Tensor, name: str):
    if not isinstance(tensor, Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, not {type(tensor).__name__}")


def _reduction(reduction: str) -> str:
    if reduction not in _REDUCTIONS:
        raise ValueError(f"reduction must be 'none', 'mean' or 'sum', not {reduction!r}")
    return reduction


def sigmoid_focal_loss(
    inputs: Tensor,
    targets: Tensor,
    alpha: Optional[float] = 0.25,
    gamma: float = 2.0,
    reduction: str = "none",
    *,
    objective: Optional[_Objective] = None,
    weights: Optional[Tensor] = None,
    label_smoothing: float = 0.0,
    normalizer: Optional[float] = None,
    threads: int = 0,
) -> Tensor:
    """Sigmoid focal loss of CPU logits ``inputs`` (float32/float64) against ``targets``: soft
    targets of the inputs' dtype, labels (``bool``/``uint8``), or class indices (``int32``/
    ``int64``, shape ``[N]`` for ``[N, C]`` inputs).

    torchvision's signature and default (``reduction="none"``); ``alpha=None`` (or, as in
    torchvision, a negative α) switches α off. ``objective=`` selects another member of the
    family (``focal_loss_rs.Poly1(...)``, ...) in place of ``alpha`` and ``gamma``.

    >>> import torch
    >>> from focal_loss_rs.torch import sigmoid_focal_loss
    >>> x = torch.tensor([3.0, -1.0], requires_grad=True)
    >>> sigmoid_focal_loss(x, torch.tensor([1.0, 0.0]), reduction="sum").backward()
    >>> bool(x.grad[0] < 0 < x.grad[1])
    True
    """
    _check(inputs, "inputs")
    _check(targets, "targets")
    if inputs.dtype not in _FLOATS:
        raise TypeError(f"inputs must be float32 or float64, not {inputs.dtype}")
    if targets.requires_grad:
        raise ValueError("targets that require a gradient are not supported (detach them)")
    if weights is not None:
        _check(weights, "weights")
        if weights.requires_grad:
            raise ValueError("weights that require a gradient are not supported (detach them)")
    if objective is None:
        if alpha is not None and alpha < 0:
            alpha = None
        native = _objective(float(gamma), alpha, None)
    elif not isinstance(objective, _Objective):
        raise TypeError(f"objective must be a focal_loss_rs objective, not {type(objective).__name__}")
    else:
        native = objective._native()
    name, params, native_alpha, class_gamma = _objective_args(native)
    with_grad = torch.is_grad_enabled() and inputs.requires_grad
    loss, _ = _sigmoid_focal(
        inputs,
        targets,
        weights,
        name,
        params,
        native_alpha,
        class_gamma,
        float(label_smoothing),
        _reduction(reduction),
        None if normalizer is None else float(normalizer),
        _threads(threads),
        with_grad,
    )
    return loss


def softmax_focal_loss(
    input: Tensor,
    target: Tensor,
    gamma: float = 2.0,
    alpha: Union[None, float, Sequence[float], Tensor] = None,
    reduction: str = "mean",
    ignore_index: int = -100,
    *,
    class_gamma: Optional[Sequence[float]] = None,
    epsilon: float = 0.0,
    label_smoothing: float = 0.0,
    normalizer: Optional[float] = None,
    threads: int = 0,
) -> Tensor:
    """Softmax focal loss of CPU logits ``input`` ``[N, C]`` or ``[N, C, d1, ...]`` (float32/
    float64) against class indices ``target`` ``[N]`` or ``[N, d1, ...]`` (int64/int32), with
    ``torch.nn.functional.cross_entropy``'s conventions (class axis 1, ``ignore_index``,
    ``reduction="mean"``). ``alpha``: ``None``, one number or one per class. At ``gamma=0``
    and no α it is the cross-entropy.
    """
    _check(input, "input")
    _check(target, "target")
    if input.dtype not in _FLOATS:
        raise TypeError(f"input must be float32 or float64, not {input.dtype}")
    if isinstance(alpha, Tensor):
        alpha = alpha.detach().cpu().tolist()
    alpha_arg = _softmax_alpha(alpha)
    class_alpha = alpha_arg if isinstance(alpha_arg, list) else None
    scalar_alpha = None if class_alpha is not None else alpha_arg
    with_grad = torch.is_grad_enabled() and input.requires_grad
    loss, _ = _softmax_focal(
        input,
        target,
        float(gamma),
        None if class_gamma is None else [float(g) for g in class_gamma],
        scalar_alpha,
        class_alpha,
        float(epsilon),
        float(label_smoothing),
        _reduction(reduction),
        None if normalizer is None else float(normalizer),
        int(ignore_index),
        _threads(threads),
        with_grad,
    )
    return loss
