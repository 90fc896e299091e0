#!/usr/bin/env python3
"""Golden values for the focal family of sigmoid objectives: the NAIVE definitions evaluated
with mpmath.

    python3 tests/golden/family.py > tests/golden/family.txt
    python3 tests/golden/family.py --check

Every value comes from the textbook definitions (probabilities, pow, log; no stable rewrite)
at a working precision of 60 significant digits plus what the magnitude of the logit needs
(like generate.py's dps_for; focal_star also counts |γ·z + β|). Derivatives are the chain
rule of that naive form, evaluated analytically with mpmath through a small second-order jet
(value, d/dx, d²/dx²). Nothing here shares a formula with the library. `--check` compares
the jets with mpmath.diff of a separately written naive loss on sample points away from kinks.

Definitions (logit x, target y, p = σ(x) = 1/(1+e^-x)):
  y_s = y(1-ls) + ls/2, BCE(p, y) = -(y ln p + (1-y) ln(1-p)) (a term with coefficient 0 is
  omitted), p_t = p·y_s + (1-p)(1-y_s), α_t = α·y_s + (1-α)(1-y_s) (1 when α is none), the
  weight w multiplies everything.
  focal_star     z = (2y_s-1)x;  L = α_t·(-ln σ(γz + β))/γ
  poly1_focal    L = α_t(1-p_t)^γ·BCE(p, y_s) + ε(1-p_t)^(γ+1)
  asymmetric     p_m = max(p - m, 0);
                 L = y_s(1-p)^γ₊(-ln p) + (1-y_s)·p_m^γ₋·(-ln(1-p_m))   (0^0 = 1)
  quality_focal  L = BCE(p, y_s)·|y_s - p|^β
  varifocal      (ls always 0) y > 0: L = y·BCE(p, y); y = 0: L = α·p^γ·BCE(p, 0)
  reduced_focal  f = 1 if p_t < th else ((1-p_t)/th)^γ;  L = α_t·f·BCE(p, y_s)
                 (hard targets only, no smoothing: the library refuses the others)
  per_class_focal  rows of 3 logits with a class-index target (3: background); element
                 (row, k) has y = [k = target] and L = α_t(1-p_t)^γ_k·BCE(p, y_s)
Everything is reduction "none": loss, grad = dL/dx, hess = d²L/dx² per element.

Atoms of the chain rule (quantities taken as computed directly, with their derivatives):
  p (p' = p(1-p), p'' = p'(1-2p)), 1-p, -ln p, -ln(1-p), BCE (BCE' = p - y_s, BCE'' = p'),
  u = 1 - p_t (u' = -(2y_s-1)p', u'' = -(2y_s-1)p''), and for focal_star -ln σ(s) as a
  function of s = γz + β. Everything else (products, powers, -ln(1 - p_m) for margin > 0,
  |d|^β) is expanded by the product and chain rules.

Scales (the tests accept |got - want| <= tol·max(|want|, scale)):
  grad_scale, hess_scale: the sum of the absolute values of the terms of the fully expanded
    chain-rule expression for grad and hess (atoms' derivatives count as one term each), as
    generate.py does for focal loss: where terms cancel, a finite-precision result can only
    be accurate relative to them.
  loss_scale: the sum of the absolute values of the terms of L; that is |L| except for
    poly1_focal with ε < 0, where the two terms can cancel.
  For each difference of two computed quantities inside the definition, d = a - b, i.e.
  quality_focal's d = y_s - p (a = y_s·(1-p), b = (1-y_s)·p: the form a finite-precision
  evaluation can make accurate) and asymmetric's d = p - m (margin > 0 and
  p > m; for margin 0 there is no difference: p_m = p), each scale also gets
  |∂Q/∂d|·(|a| + |b|) for Q = L, grad, hess respectively, where d is treated as an
  independent variable: L(x, δ) is the loss with d replaced by d(x) + δ (d' and d'' keep
  their x-dependence) and ∂Q/∂d = ∂/∂δ of Q at δ = 0 (for grad and hess the mixed partials
  ∂²L/∂x∂δ, ∂³L/∂x²∂δ). The jet carries these analytically as well.

Golden points are never placed on (or within 1e-6 of) a kink; these are left out of the
lists, and the file's header lists them:
  reduced_focal with |p_t - th| < 1e-6 and γ > 0: x = 0 for th = 0.5 (p = 0.5 gives
    p_t = 0.5 for both labels; for th ≠ 0.5 the loss jumps there by ((1-th)/th)^γ);
  asymmetric with margin > 0, y_s < 1 and |p - m| < 1e-6 (none on this grid);
  quality_focal with y_s = p and 0 < β < 2 (x = 0, y = 0.5: |d|^β is not twice
    differentiable at 0, the naive grad (β < 1) or hess (β < 2) is infinite). β = 0 and
    β = 2 keep the point.
No point was left out for a non-finite value: all golden values are finite f64 numbers
(`run_case` raises otherwise).
f32 cases: logits, targets and weights are rounded to f32 first (objective parameters and
smoothing stay as given); the rounded values are what the file lists.
"""
import struct
import sys
import time
from multiprocessing import Pool

import mpmath as mp

LOGITS = [-1e4, -100.0, -40.0, -17.0, -3.0, -0.5, 0.0, 0.5, 3.0, 17.0, 40.0, 100.0, 1e4]
SOFT = [0.0, 1e-3, 0.3, 0.5, 0.999, 1.0]
# The weighted case (as generate.py's, with 0.0 moved to 0.25: x = 0 is reduced_focal's
# kink at the default threshold 0.5 and would drop the zero-weight element).
W_LOGITS = [-17.0, -3.0, -0.5, 0.25, 0.5, 3.0, 17.0, 40.0]
W_TARGETS = [0.0, 1.0, 0.3, 1.0, 0.999, 0.0, 1e-3, 1.0]
WEIGHTS = [1.0, 0.5, 2.5, 0.0, 1.0, 2.5, 0.5, 1.0]

# Parameters per objective, in output order; the first set is the objective's default.
PARAM_NAMES = {
    "focal_star": ["gamma", "beta", "alpha"],
    "poly1_focal": ["gamma", "alpha", "epsilon"],
    "asymmetric": ["gamma_positive", "gamma_negative", "margin"],
    "quality_focal": ["beta"],
    "varifocal": ["alpha", "gamma"],
    "reduced_focal": ["gamma", "threshold", "alpha"],
    "per_class_focal": ["class_gamma", "alpha"],
}
PARAM_SETS = {
    "focal_star": [(1.0, 0.0, None), (0.25, 0.0, 0.25), (0.5, 0.5, None), (2.0, -1.0, 0.25), (3.7, 0.5, 0.75)],
    "poly1_focal": [(2.0, 0.25, 1.0), (0.0, None, -1.0), (0.5, None, 2.5), (0.25, 0.25, -1.0), (3.7, 0.25, 2.5)],
    "asymmetric": [(1.0, 4.0, 0.05), (0.0, 0.0, 0.0), (0.5, 2.0, 0.2), (0.25, 3.7, 0.0), (3.7, 0.25, 0.2)],
    "quality_focal": [(2.0,), (0.0,), (0.5,), (1.5,)],
    "varifocal": [(0.75, 2.0), (0.25, 0.0), (0.75, 0.5), (0.5, 3.7), (1.0, 0.25)],
    "reduced_focal": [(2.0, 0.5, None), (0.5, 0.3, 0.25), (3.7, 0.8, None), (0.0, 0.5, 0.25), (0.25, 0.8, 0.25)],
    "per_class_focal": [((0.5, 2.0, 0.0), 0.25), ((1.0, 3.7, 0.25), None)],
}
# Classes per row of per_class_focal's head.
CLASSES = 3
OBJECTIVES = list(PARAM_NAMES)


def f32(v):
    return struct.unpack("f", struct.pack("f", v))[0]


def dps_for(values):
    return 60 + int(max([abs(v) for v in values] + [1.0]) / 2.2) + 20


def num(v):
    return repr(float(v))


# ---------------------------------------------------------------------------------------
# Second-order jets: value v, d1 = d/dx, d2 = d²/dx²; s0, s1, s2 = sums of the absolute
# values of the terms of the expanded expressions; e0, e1, e2 = ∂/∂δ of v, d1, d2 (δ shifts
# the difference d, see the docstring).
class J:
    __slots__ = ("v", "d1", "d2", "s0", "s1", "s2", "e0", "e1", "e2")

    def __init__(self, v, d1, d2, s0=None, s1=None, s2=None, e0=0, e1=0, e2=0):
        self.v, self.d1, self.d2 = v, d1, d2
        self.s0 = abs(v) if s0 is None else s0
        self.s1 = abs(d1) if s1 is None else s1
        self.s2 = abs(d2) if s2 is None else s2
        self.e0, self.e1, self.e2 = e0, e1, e2


def const(c):
    return J(mp.mpf(c), mp.mpf(0), mp.mpf(0))


def add(a, b):
    return J(a.v + b.v, a.d1 + b.d1, a.d2 + b.d2, a.s0 + b.s0, a.s1 + b.s1, a.s2 + b.s2,
             a.e0 + b.e0, a.e1 + b.e1, a.e2 + b.e2)


def scale(c, a):
    c = mp.mpf(c)
    return J(c * a.v, c * a.d1, c * a.d2, abs(c) * a.s0, abs(c) * a.s1, abs(c) * a.s2,
             c * a.e0, c * a.e1, c * a.e2)


def mul(a, b):
    return J(
        a.v * b.v,
        a.d1 * b.v + a.v * b.d1,
        a.d2 * b.v + 2 * a.d1 * b.d1 + a.v * b.d2,
        a.s0 * b.s0,
        a.s1 * abs(b.v) + abs(a.v) * b.s1,
        a.s2 * abs(b.v) + 2 * a.s1 * b.s1 + abs(a.v) * b.s2,
        a.e0 * b.v + a.v * b.e0,
        a.e1 * b.v + a.d1 * b.e0 + a.e0 * b.d1 + a.v * b.e1,
        a.e2 * b.v + a.d2 * b.e0 + 2 * (a.e1 * b.d1 + a.d1 * b.e1) + a.e0 * b.d2 + a.v * b.e2,
    )


def compose(a, f0, f1, f2, f3):
    """φ(a) with φ, φ', φ'', φ''' evaluated at a.v."""
    return J(
        f0,
        f1 * a.d1,
        f2 * a.d1 ** 2 + f1 * a.d2,
        abs(f0),
        abs(f1) * a.s1,
        abs(f2) * a.s1 ** 2 + abs(f1) * a.s2,
        f1 * a.e0,
        f2 * a.e0 * a.d1 + f1 * a.e1,
        f3 * a.e0 * a.d1 ** 2 + 2 * f2 * a.d1 * a.e1 + f2 * a.e0 * a.d2 + f1 * a.e2,
    )


def powabs(a, k):
    """|a|^k (a^k for a > 0), with 0^0 = 1 and zero coefficients giving exact zeros."""
    k = mp.mpf(k)
    if k == 0:
        return const(1)
    t = abs(a.v)
    sg = 1 if a.v >= 0 else -1
    fs = []
    c = mp.mpf(1)
    tk = t ** k if t != 0 else None
    for j in range(4):
        if c == 0:
            fs.append(mp.mpf(0))
        elif t == 0:
            if k - j > 0:
                fs.append(mp.mpf(0))
            elif k - j == 0:
                fs.append(c * sg ** j)
            else:
                raise ValueError("power %s of 0 at order %d (a kink point)" % (k, j))
        else:
            fs.append(c * tk / t ** j * sg ** j)
        c *= k - j
    return compose(a, *fs)


def neg_log1m(a):
    """-ln(1 - a) of a jet (for asymmetric's p_m with margin > 0)."""
    q = 1 - a.v
    return compose(a, -mp.log(q), 1 / q, 1 / q ** 2, 2 / q ** 3)


def neg_log_sigmoid(a):
    """-ln σ(a) of a jet (focal_star's s = γz + β)."""
    s = 1 / (1 + mp.exp(-a.v))
    return compose(a, -mp.log(s), -(1 - s), s * (1 - s), s * (1 - s) * (1 - 2 * s))


class Point:
    """The atoms at one logit: σ and friends, naive forms."""

    def __init__(self, x):
        self.x = x
        self.p = p = 1 / (1 + mp.exp(-x))
        self.dp = p * (1 - p)
        self.d2p = self.dp * (1 - 2 * p)

    def P(self):
        return J(self.p, self.dp, self.d2p)

    def Q(self):  # 1 - p
        return J(1 - self.p, -self.dp, -self.d2p)

    def NLP(self):  # -ln p
        return J(-mp.log(self.p), -(1 - self.p), self.dp)

    def NL1P(self):  # -ln(1 - p)
        return J(-mp.log(1 - self.p), self.p, self.dp)

    def BCE(self, ys):
        b = mp.mpf(0)
        if ys != 0:
            b -= ys * mp.log(self.p)
        if ys != 1:
            b -= (1 - ys) * mp.log(1 - self.p)
        return J(b, self.p - ys, self.dp)

    def pt(self, ys):
        return self.p * ys + (1 - self.p) * (1 - ys)

    def U(self, ys):  # 1 - p_t
        k = -(2 * ys - 1)
        return J(1 - self.pt(ys), k * self.dp, k * self.d2p)


def alpha_t(alpha, ys):
    return mp.mpf(1) if alpha is None else mp.mpf(alpha) * ys + (1 - mp.mpf(alpha)) * (1 - ys)


def smoothed(y, ls):
    y, ls = mp.mpf(y), mp.mpf(ls)
    return y * (1 - ls) + ls / 2


def kink(obj, prm, x, y, ls):
    """Why (x, y) must not be a golden point, or None. Evaluated at the element's precision."""
    ys = smoothed(y, ls)
    pt = Point(mp.mpf(x))
    if obj == "reduced_focal":
        gamma, th, _ = prm
        if gamma != 0 and 2 * ys - 1 != 0 and abs(pt.pt(ys) - th) < mp.mpf("1e-6"):
            return "p_t = threshold"
    if obj == "asymmetric":
        m = prm[2]
        if m > 0 and ys != 1 and abs(pt.p - m) < mp.mpf("1e-6"):
            return "p = margin"
    if obj == "quality_focal":
        beta = prm[0]
        if 0 < beta < 2 and ys - pt.p == 0:
            return "y_s = p"
    return None


def element(obj, prm, x, y, ls, w):
    """(loss, grad, hess, loss_scale, grad_scale, hess_scale) of one element (mpmath)."""
    x = mp.mpf(x)
    ys = smoothed(y, ls)
    pt = Point(x)
    sens = mp.mpf(0)  # |a| + |b| of the difference d = a - b
    if obj == "focal_star":
        gamma, beta, alpha = prm
        g = mp.mpf(gamma)
        k = g * (2 * ys - 1)
        s = J(k * x + beta, k, mp.mpf(0))
        L = scale(alpha_t(alpha, ys) / g, neg_log_sigmoid(s))
    elif obj == "poly1_focal":
        gamma, alpha, eps = prm
        u = pt.U(ys)
        L = scale(alpha_t(alpha, ys), mul(powabs(u, gamma), pt.BCE(ys)))
        if eps != 0:
            L = add(L, scale(eps, powabs(u, mp.mpf(gamma) + 1)))
    elif obj == "asymmetric":
        gp, gn, m = prm
        L = const(0)
        if ys != 0:
            L = add(L, scale(ys, mul(powabs(pt.Q(), gp), pt.NLP())))
        if ys != 1:
            if m == 0:
                t2 = mul(powabs(pt.P(), gn), pt.NL1P())
            elif pt.p - m > 0:
                d = J(pt.p - m, pt.dp, pt.d2p, e0=1)
                t2 = mul(powabs(d, gn), neg_log1m(d))
                sens = abs(pt.p) + abs(mp.mpf(m))
            else:
                t2 = const(0)  # p_m = 0: 0^γ₋·(-ln 1) = 0, locally constant
            L = add(L, scale(1 - ys, t2))
    elif obj == "quality_focal":
        (beta,) = prm
        d = J(ys - pt.p, -pt.dp, -pt.d2p, e0=1)
        L = mul(pt.BCE(ys), powabs(d, beta))
        # d = y_s·σ(−x) − (1−y_s)·σ(x): both terms are formed accurately, so that d is
        # accurate relative to them (not to y_s + p, which is 2 where d = 1 − p is tiny).
        sens = abs(ys * (1 - pt.p)) + abs((1 - ys) * pt.p)
    elif obj == "varifocal":
        alpha, gamma = prm
        if ls != 0:
            raise ValueError("varifocal has no label smoothing")
        if ys > 0:
            L = scale(ys, pt.BCE(ys))
        else:
            L = scale(alpha, mul(powabs(pt.P(), gamma), pt.NL1P()))
    elif obj == "per_class_focal":
        gamma, alpha = prm  # this element's class γ
        L = scale(alpha_t(alpha, ys), mul(powabs(pt.U(ys), gamma), pt.BCE(ys)))
    elif obj == "reduced_focal":
        gamma, th, alpha = prm
        if gamma == 0 or pt.pt(ys) < th:
            f = const(1)
        else:
            f = powabs(scale(1 / mp.mpf(th), pt.U(ys)), gamma)
        L = scale(alpha_t(alpha, ys), mul(f, pt.BCE(ys)))
    else:
        raise ValueError(obj)
    L = scale(w, L)
    return (L.v, L.d1, L.d2,
            L.s0 + abs(L.e0) * sens, L.s1 + abs(L.e1) * sens, L.s2 + abs(L.e2) * sens,
            L.e0, L.e1, L.e2)


def element_dps(obj, prm, x, y, ls):
    vals = [x]
    if obj == "focal_star":
        gamma, beta, _ = prm
        vals.append(gamma * (2 * (y * (1 - ls) + ls / 2) - 1) * x + beta)
    return dps_for(vals)


# ---------------------------------------------------------------------------------------
def param_tag(obj, prm):
    short = {"gamma": "g", "beta": "b", "alpha": "a", "epsilon": "e", "gamma_positive": "gp",
             "gamma_negative": "gn", "margin": "m", "threshold": "th", "class_gamma": "cg"}

    def text(v):
        if v is None:
            return "none"
        return "-".join(str(g) for g in v) if isinstance(v, tuple) else str(v)
    return "_".join(short[n] + text(v) for n, v in zip(PARAM_NAMES[obj], prm))


def element_params(obj, prm, i):
    """The parameters of element i: per_class_focal's γ of the element's class."""
    if obj == "per_class_focal":
        return (prm[0][i % CLASSES], prm[1])
    return prm


def jobs():
    out = []
    for dtype in ["f64", "f32"]:
        for obj in OBJECTIVES:
            sets = PARAM_SETS[obj]
            if obj == "per_class_focal":
                # Rows (x, −x, x/2) with each target class and background (3).
                xs = [v for x in LOGITS for _ in range(CLASSES + 1) for v in (x, -x, x / 2)]
                ts = [int(k == t) for _ in LOGITS for t in range(CLASSES + 1) for k in range(CLASSES)]
                for prm in sets:
                    out.append((obj, prm, dtype, "classes", 0.0, xs, ts, None))
                out.append((obj, sets[0], dtype, "classes", 0.1, xs, ts, None))
                continue
            # The reduced focal loss takes hard targets only (its threshold is decided on the
            # logit), without smoothing.
            hard_only = obj == "reduced_focal"
            for prm in sets:
                if not hard_only:
                    xs = [x for x in LOGITS for _ in SOFT]
                    ts = [t for _ in LOGITS for t in SOFT]
                    out.append((obj, prm, dtype, "soft", 0.0, xs, ts, None))
                xs = [x for x in LOGITS for _ in (0, 1)]
                ts = [t for _ in LOGITS for t in (0, 1)]
                out.append((obj, prm, dtype, "labels", 0.0, xs, ts, None))
            if obj != "varifocal" and not hard_only:
                xs = [x for x in LOGITS for _ in SOFT]
                ts = [t for _ in LOGITS for t in SOFT]
                out.append((obj, sets[0], dtype, "soft", 0.1, xs, ts, None))
            if hard_only:
                ts = [round(t) for t in W_TARGETS]
                out.append((obj, sets[0], dtype, "labels", 0.0, W_LOGITS, ts, WEIGHTS))
            else:
                out.append((obj, sets[0], dtype, "soft", 0.0, W_LOGITS, W_TARGETS, WEIGHTS))
    return out


def case_id(obj, prm, dtype, kind, ls, ws):
    return "%s_%s_%s_%s_ls%s%s" % (obj, dtype, kind, param_tag(obj, prm), ls, "_w" if ws is not None else "")


def finite(v):
    f = float(v)
    return f == f and abs(f) != float("inf")


def run_case(job):
    obj, prm, dtype, kind, ls, xs, ts, ws = job
    cid = case_id(*job[:5], ws)
    rnd = f32 if dtype == "f32" else float
    xs = [rnd(x) for x in xs]
    ts = [rnd(t) for t in ts] if kind == "soft" else list(ts)
    ws = None if ws is None else [rnd(w) for w in ws]
    kept, dropped = [], []
    cols = [[] for _ in range(6)]
    for i, (x, y) in enumerate(zip(xs, ts)):
        w = 1.0 if ws is None else ws[i]
        eprm = element_params(obj, prm, i)
        with mp.workdps(element_dps(obj, eprm, x, float(y), ls)):
            why = kink(obj, eprm, x, float(y), ls)
            if why is not None:
                if kind == "classes":
                    raise ValueError("%s: rows of a head cannot drop an element" % cid)
                dropped.append("(x %s, y %s: %s)" % (num(x), num(y), why))
                continue
            vals = element(obj, eprm, x, float(y), ls, w)[:6]
            for v in vals:
                if not finite(v):
                    raise ValueError("%s: non-finite or out-of-range value %s at x %s y %s" % (cid, mp.nstr(v, 5), x, y))
            kept.append(i)
            for c, v in zip(cols, vals):
                c.append(v)
    lines = ["case " + cid, "objective " + obj, "dtype " + dtype]
    for name, v in zip(PARAM_NAMES[obj], prm):
        if isinstance(v, tuple):
            lines.append("%s %s" % (name, " ".join(num(g) for g in v)))
        else:
            lines.append("%s %s" % (name, "none" if v is None else num(v)))
    lines.append("smoothing " + num(ls))
    lines.append("targets_kind " + kind)
    lines.append("logits " + " ".join(num(xs[i]) for i in kept))
    if kind == "soft":
        lines.append("targets " + " ".join(num(ts[i]) for i in kept))
    elif kind == "classes":
        rows = [ts[r:r + CLASSES] for r in range(0, len(ts), CLASSES)]
        lines.append("classes %d" % CLASSES)
        lines.append("targets " + " ".join(str(row.index(1) if 1 in row else CLASSES) for row in rows))
    else:
        lines.append("targets " + " ".join(str(int(ts[i])) for i in kept))
    lines.append("weights " + ("none" if ws is None else " ".join(num(ws[i]) for i in kept)))
    for key, c in zip(["loss", "grad", "hess", "loss_scale", "grad_scale", "hess_scale"], cols):
        lines.append(key + " " + " ".join(num(v) for v in c))
    lines.append("end")
    return "\n".join(lines), cid, dropped


# ---------------------------------------------------------------------------------------
def naive_loss(obj, prm, y, ls, w):
    """The naive per-element loss L(t, δ) written straight from the definitions; δ shifts
    the difference d (quality_focal's y_s - p, asymmetric's p - m) for the scale check."""
    ys = smoothed(y, ls)
    y = mp.mpf(y)

    def bce(p, yy):
        r = 0
        if yy != 0:
            r -= yy * mp.log(p)
        if yy != 1:
            r -= (1 - yy) * mp.log(1 - p)
        return r

    def L(t, delta=0):
        p = 1 / (1 + mp.exp(-t))
        pt = p * ys + (1 - p) * (1 - ys)
        if obj == "focal_star":
            gamma, beta, alpha = prm
            z = (2 * ys - 1) * t
            s = 1 / (1 + mp.exp(-(gamma * z + beta)))
            v = alpha_t(alpha, ys) * (-mp.log(s)) / gamma
        elif obj == "poly1_focal":
            gamma, alpha, eps = prm
            v = alpha_t(alpha, ys) * (1 - pt) ** gamma * bce(p, ys) + eps * (1 - pt) ** (gamma + 1)
        elif obj == "asymmetric":
            gp, gn, m = prm
            pm = max(p - m + (delta if m > 0 else 0), 0)
            v = 0
            if ys != 0:
                v += ys * (1 - p) ** gp * (-mp.log(p))
            if ys != 1:
                v += (1 - ys) * (mp.mpf(1) if gn == 0 else pm ** gn) * (-mp.log(1 - pm))
        elif obj == "quality_focal":
            (beta,) = prm
            d = ys - p + delta
            v = bce(p, ys) * (mp.mpf(1) if beta == 0 else abs(d) ** beta)
        elif obj == "varifocal":
            alpha, gamma = prm
            v = y * bce(p, y) if y > 0 else alpha * p ** gamma * bce(p, 0)
        elif obj == "per_class_focal":
            gamma, alpha = prm
            v = alpha_t(alpha, ys) * (1 - pt) ** gamma * bce(p, ys)
        elif obj == "reduced_focal":
            gamma, th, alpha = prm
            f = 1 if pt < th else ((1 - pt) / th) ** gamma
            v = alpha_t(alpha, ys) * f * bce(p, ys)
        return w * v

    return L


def check():
    """mpmath.diff of the naive loss against the jets (value, grad, hess, and for the two
    objectives with a difference d, the δ-partials behind the scales)."""
    worst = {}

    def rel(a, b):
        if a == 0 and b == 0:
            return mp.mpf(0)
        return abs(a - b) / max(abs(a), abs(b))

    for obj in OBJECTIVES:
        w_ = mp.mpf(0)
        n = 0
        sets = PARAM_SETS[obj]
        if obj == "per_class_focal":
            sets = [(g, a) for cg, a in sets for g in cg]
        for prm in sets:
            for ls in ([0.0] if obj == "varifocal" else [0.0, 0.1]):
                for x in [-100.0, -40.0, -17.0, -3.0, -0.5, 0.5, 1.5, 3.0, 17.0, 40.0, 100.0]:
                    for y in [0.0, 1e-3, 0.3, 0.5, 0.999, 1.0]:
                        with mp.workdps(element_dps(obj, prm, x, y, ls)):
                            if kink(obj, prm, x, y, ls) is not None:
                                continue
                            # stay away from the kinks by a margin (mpmath.diff's steps must
                            # not cross one)
                            ys = smoothed(y, ls)
                            pt = Point(mp.mpf(x))
                            if obj == "reduced_focal" and 2 * ys - 1 != 0 and abs(pt.pt(ys) - prm[1]) < 0.01:
                                continue
                            if obj == "asymmetric" and prm[2] > 0 and abs(pt.p - prm[2]) < 1e-3:
                                continue
                            if obj == "quality_focal" and abs(ys - pt.p) < mp.mpf(10) ** (-mp.mp.dps // 2):
                                continue
                            L = naive_loss(obj, prm, y, ls, 2.5)
                            v, g, h, _, _, _, e0, e1, e2 = element(obj, prm, x, y, ls, 2.5)
                            X = mp.mpf(x)
                            pairs = [(v, L(X)), (g, mp.diff(L, X)), (h, mp.diff(L, X, 2))]
                            if obj in ("quality_focal", "asymmetric"):
                                pairs += [(e0, mp.diff(L, (X, 0), (0, 1))),
                                          (e1, mp.diff(L, (X, 0), (1, 1))),
                                          (e2, mp.diff(L, (X, 0), (2, 1)))]
                            for a, b in pairs:
                                w_ = max(w_, rel(a, b))
                            n += 1
        worst[obj] = (w_, n)
    for obj, (w_, n) in worst.items():
        print("%-14s %4d points  max relative disagreement mpmath.diff vs chain rule: %s" % (obj, n, mp.nstr(w_, 3)))
    print("overall worst:", mp.nstr(max(v for v, _ in worst.values()), 3))


def main():
    if "--check" in sys.argv:
        check()
        return
    js = jobs()
    # The ±1e4 logits of focal_star with large γ need ~17000 digits: start those first.
    order = sorted(range(len(js)), key=lambda i: -max(1.0, js[i][1][0]) if js[i][0] == "focal_star" else 0)
    t0 = time.time()
    with Pool(2) as pool:
        done = pool.map(run_case, [js[i] for i in order], chunksize=1)
    results = [None] * len(js)
    for i, r in zip(order, done):
        results[i] = r
    print("# Golden values for the focal family, from tests/golden/family.py (mpmath %s)." % mp.__version__)
    print("# Naive definitions at 60+ digits; analytic chain rule; scales as in the script's docstring. Do not edit by hand.")
    print("# Points left out (kinks; none had a non-finite value):")
    for _, cid, dropped in results:
        if dropped:
            print("#   %s: %s" % (cid, " ".join(dropped)))
    for block, _, _ in results:
        print(block)
    sys.stderr.write("%d cases in %.1f s\n" % (len(js), time.time() - t0))


if __name__ == "__main__":
    main()
