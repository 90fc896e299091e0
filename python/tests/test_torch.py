"""The PyTorch adapter: the numpy API's values, gradcheck in float64, torchvision's values where
torchvision is accurate and finite ones where it is not, torch.compile, errors."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
torchvision = pytest.importorskip("torchvision")

import focal_loss_rs as fl  # noqa: E402
from focal_loss_rs import torch as flt  # noqa: E402
from focal_loss_rs.torch import sigmoid_focal_loss, softmax_focal_loss  # noqa: E402


def same_bits(a, b):
    a, b = np.asarray(a), np.asarray(b)
    assert a.dtype == b.dtype and a.shape == b.shape
    view = np.uint32 if a.dtype == np.float32 else np.uint64
    np.testing.assert_array_equal(a.view(view), b.view(view))


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
def test_sigmoid_forward_and_backward_are_the_fused_kernel(dtype, reduction):
    g = torch.Generator().manual_seed(0)
    x = (torch.randn(64, 33, generator=g, dtype=dtype) * 5).requires_grad_()
    y = (torch.rand(64, 33, generator=g) < 0.2)
    for targets in (y, y.to(dtype)):
        x.grad = None
        loss = sigmoid_focal_loss(x, targets, alpha=0.25, gamma=2.0, reduction=reduction)
        upstream = torch.rand(loss.shape, generator=g, dtype=dtype)
        loss.backward(upstream)
        expected_loss, expected_grad = fl.sigmoid_focal_loss_grad(
            x.detach().numpy(), targets.numpy(), gamma=2.0, alpha=0.25, reduction=reduction)
        same_bits(loss.detach().numpy(), expected_loss)
        # backward: upstream times the fused gradient, in the tensor's dtype
        same_bits(x.grad.numpy(), (torch.from_numpy(np.asarray(expected_grad)) * upstream).numpy())


def test_the_family_and_options_reach_the_kernel():
    g = torch.Generator().manual_seed(1)
    x = torch.randn(1000, generator=g, dtype=torch.float64) * 4
    y = torch.rand(1000, generator=g, dtype=torch.float64)
    w = torch.rand(1000, generator=g, dtype=torch.float64)
    objective = fl.Poly1(gamma=1.5, alpha=None, epsilon=2.0)
    loss = sigmoid_focal_loss(x, y, reduction="mean", objective=objective, weights=w,
                              label_smoothing=0.05, normalizer=17.0)
    expected = fl.sigmoid_focal_loss(x.numpy(), y.numpy(), objective=objective,
                                     weights=w.numpy(), label_smoothing=0.05, normalizer=17.0)
    same_bits(loss.numpy(), expected)


@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
@pytest.mark.parametrize("gamma", [0.5, 2.0])
def test_sigmoid_gradcheck(reduction, gamma):
    g = torch.Generator().manual_seed(2)
    x = (torch.randn(5, 7, generator=g, dtype=torch.float64) * 3).requires_grad_()
    y = torch.rand(5, 7, generator=g, dtype=torch.float64)
    assert torch.autograd.gradcheck(
        lambda t: sigmoid_focal_loss(t, y, alpha=0.25, gamma=gamma, reduction=reduction), (x,))


@pytest.mark.parametrize("shape", [(6, 5), (3, 4, 2, 3)])
@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
def test_softmax_gradcheck_and_values(shape, reduction):
    g = torch.Generator().manual_seed(3)
    x = (torch.randn(*shape, generator=g, dtype=torch.float64) * 2).requires_grad_()
    target = torch.randint(0, shape[1], (shape[0],) + shape[2:], generator=g)
    target.view(-1)[0] = -100
    alpha = [0.3, 0.5, 0.7, 0.9, 1.0][: shape[1]]
    f = lambda t: softmax_focal_loss(t, target, gamma=1.5, alpha=alpha, reduction=reduction)
    assert torch.autograd.gradcheck(f, (x,))
    expected = fl.softmax_focal_loss(x.detach().numpy(), target.numpy(), gamma=1.5, alpha=alpha,
                                     reduction=reduction)
    same_bits(f(x).detach().numpy(), expected)


def test_softmax_at_gamma_zero_is_cross_entropy():
    g = torch.Generator().manual_seed(4)
    x = torch.randn(50, 10, 4, generator=g, dtype=torch.float64, requires_grad=True)
    target = torch.randint(0, 10, (50, 4), generator=g)
    ours = softmax_focal_loss(x, target, gamma=0.0)
    theirs = torch.nn.functional.cross_entropy(x, target)
    torch.testing.assert_close(ours, theirs, rtol=1e-14, atol=0)
    (g_ours,) = torch.autograd.grad(ours, x)
    (g_theirs,) = torch.autograd.grad(theirs, x)
    torch.testing.assert_close(g_ours, g_theirs, rtol=1e-12, atol=1e-17)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_torchvision_values_where_torchvision_is_accurate(dtype):
    """torchvision in float64 is accurate for moderate logits (|x| < 8: 1 − p_t keeps 12 of its
    digits): ours agree with it to 1e-12 in float64 and to the float32 contract (2e-6) in
    float32, where torchvision's own float32 result loses up to 4 digits to 1 − σ(x)."""
    g = torch.Generator().manual_seed(5)
    x64 = (torch.randn(4096, generator=g, dtype=torch.float64) * 2).clamp(-8, 8)
    y64 = (torch.rand(4096, generator=g) < 0.3).double()
    accurate = torchvision.ops.sigmoid_focal_loss(x64.requires_grad_(), y64)
    (accurate_grad,) = torch.autograd.grad(accurate.sum(), x64)
    x = x64.detach().to(dtype).requires_grad_()
    ours = sigmoid_focal_loss(x, y64.to(dtype))
    (ours_grad,) = torch.autograd.grad(ours.sum(), x)
    rtol = 1e-12 if dtype == torch.float64 else 2e-6
    torch.testing.assert_close(ours.double(), accurate, rtol=rtol, atol=0)
    # the gradient's contract is relative to the size of its terms, here ≥ α·p_t·(1−p_t)^γ
    torch.testing.assert_close(ours_grad.double(), accurate_grad, rtol=rtol,
                               atol=rtol * float(accurate_grad.abs().max()))
    if dtype == torch.float32:
        theirs32 = torchvision.ops.sigmoid_focal_loss(x.detach(), y64.float()).double()
        ours_error = ((ours.double() - accurate) / accurate).abs().max()
        theirs_error = ((theirs32 - accurate) / accurate).abs().max()
        assert ours_error < 2e-6 < 1e-5 < theirs_error


def test_finite_where_torchvision_is_not():
    # γ < 1: torchvision's chain rule through (1 − p_t)^γ gives 0·∞ = NaN once p_t rounds to 1;
    # at x = 20, y = 1 in float32 it rounds the loss to exactly 0 although it is 2e-9·(…).
    x = torch.tensor([20.0, -20.0, 40.0, 3.0], requires_grad=True)
    y = torch.tensor([1.0, 0.0, 1.0, 1.0])
    theirs = torchvision.ops.sigmoid_focal_loss(x, y, gamma=0.5)
    (g_theirs,) = torch.autograd.grad(theirs.sum(), x)
    assert torch.isnan(g_theirs[:3]).all()
    ours = sigmoid_focal_loss(x, y, gamma=0.5)
    (g_ours,) = torch.autograd.grad(ours.sum(), x)
    assert torch.isfinite(ours).all() and torch.isfinite(g_ours).all()
    assert (ours[:3] > 0).all() and theirs[0] == 0
    # the exact value at x = 20, γ = 0.5, α = 0.25: 0.25·σ(−20)^0.5·log(1 + e^−20)
    exact = 0.25 * np.exp(-20 / 2 - 0.5 * np.log1p(np.exp(-20))) * np.log1p(np.exp(-20))
    assert abs(float(ours[0].detach()) - exact) <= 2e-6 * exact


def test_no_grad_runs_the_loss_alone_with_the_same_value():
    x = torch.linspace(-5, 5, 101)
    y = (x > 0.3).float()
    with torch.no_grad():
        a = sigmoid_focal_loss(x.clone().requires_grad_(), y, reduction="sum")
    b = sigmoid_focal_loss(x, y, reduction="sum")
    same_bits(a.numpy(), b.numpy())


def test_tensors_reach_the_kernels_without_a_copy():
    x = torch.randn(1000, 16)
    assert fl._native._input_address(flt._array(x, "x")) == x.data_ptr()
    view = x[10:]  # contiguous, with an offset
    assert fl._native._input_address(flt._array(view, "x")) == view.data_ptr()


def test_torch_compile_traces_a_model_that_uses_it():
    torch.manual_seed(6)
    model = torch.nn.Sequential(torch.nn.Linear(8, 16), torch.nn.ReLU(), torch.nn.Linear(16, 3))
    x = torch.randn(32, 8)
    y = (torch.rand(32, 3) < 0.3).float()
    target = torch.randint(0, 3, (32,))

    def step(inputs):
        logits = model(inputs)
        return sigmoid_focal_loss(logits, y, reduction="mean") + softmax_focal_loss(logits, target)

    compiled = torch.compile(step, fullgraph=True, backend="aot_eager")
    loss = compiled(x)
    loss.backward()
    grads = [p.grad.clone() for p in model.parameters()]
    model.zero_grad()
    eager = step(x)
    eager.backward()
    torch.testing.assert_close(loss, eager, rtol=0, atol=0)
    for a, p in zip(grads, model.parameters()):
        torch.testing.assert_close(a, p.grad, rtol=1e-6, atol=1e-7)


def test_errors():
    x = torch.randn(4, requires_grad=True)
    with pytest.raises(ValueError, match="gradient"):
        sigmoid_focal_loss(x, torch.rand(4, requires_grad=True))
    with pytest.raises(TypeError, match="float32 or float64"):
        sigmoid_focal_loss(torch.arange(4), torch.ones(4))
    with pytest.raises(TypeError, match="torch.Tensor"):
        sigmoid_focal_loss(x, [1.0, 0.0, 1.0, 0.0])
    with pytest.raises(ValueError, match="reduction"):
        sigmoid_focal_loss(x, torch.ones(4), reduction="avg")
    with pytest.raises(ValueError, match="gamma"):
        sigmoid_focal_loss(x, torch.ones(4), gamma=-1.0)
    with pytest.raises(ValueError, match="target"):
        softmax_focal_loss(torch.randn(3, 4), torch.tensor([0, 4, 1]))
    # one per-class α for four classes: a length error, not a scalar α
    with pytest.raises(ValueError, match="alpha"):
        softmax_focal_loss(torch.randn(3, 4), torch.tensor([0, 3, 1]), alpha=[0.5])
