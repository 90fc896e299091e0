#!/usr/bin/env python3
"""Golden values for focal-loss: the NAIVE definitions evaluated with mpmath.

    python3 tests/golden/generate.py > tests/golden/cases.txt

Every value is computed from the textbook definitions (probabilities, pow, log) at a working
precision of 60 significant digits plus what the magnitude of the logits needs (1 − σ(x) for
x = 1e4 is e^-1e4, so the precision grows with |x|). Sigmoid derivatives are the chain rule
of that naive form (pow(1 − p_t, γ − 1) and all: harmless at this precision); softmax
gradients come from mpmath.diff (numerical differentiation at that precision). Nothing here
shares a formula with the library. `--check` compares mpmath.diff with the sigmoid chain
rule on sample points (mpmath.diff's second derivative is too noisy to use at |x| = 1e4).

Semantics (see README "Conventions"):
  sigmoid: y_s = y(1-ls) + ls/2; p = σ(x); p_t = p·y_s + (1-p)(1-y_s);
           α_t = α·y_s + (1-α)(1-y_s) (1 when α is none);
           L_i = w_i·α_t·(1-p_t)^γ·BCE(p, y_s), BCE = -(y_s ln p + (1-y_s) ln(1-p)).
           classes form: [rows, C], t in [0,C) positive class, t = C background, t < 0 ignored.
  softmax: [N, C, S], class j of position s of sample n at (n·C + j)·S + s; target per position,
           ignore_index ignored; y = onehot(1-ls) + ls/C; L = Σ_k α_k y_k (1-p_k)^γ_k (-ln p_k)
           (γ_k = γ without per-class γ), plus poly-1's ε·(1 - Σ_k y_k p_k)^(γ_t+1) where ε ≠ 0;
           such cases list `loss_scale`, the sum of the terms' sizes (ε < 0 cancels).
  reductions: none (per element / position), sum, mean (÷ non-ignored count), normalizer (÷ v).
  grad = d(output loss)/d(logit); hess (sigmoid, reduction none) = d²L_i/dx_i²; hess (softmax,
  one-hot targets, reduction none) = d²L_position/dx_j² by mpmath.diff, with `hess_scale`.
The file format is described in tests/golden.rs.
"""
import struct
import sys
from multiprocessing import Pool

import mpmath as mp

GAMMAS = [0.0, 0.25, 0.5, 1.0, 2.0, 3.7]
LOGITS = [-1e4, -100.0, -40.0, -17.0, -3.0, -0.5, 0.0, 0.5, 3.0, 17.0, 40.0, 100.0, 1e4]
SOFT = [0.0, 1e-3, 0.3, 0.5, 0.999, 1.0]


def f32(v):
    return struct.unpack("f", struct.pack("f", v))[0]


def dps_for(values):
    return 60 + int(max([abs(v) for v in values] + [1.0]) / 2.2) + 20


def sigmoid_element(x, y, gamma, alpha, ls, w):
    """The naive per-element loss as a function of the logit (mpmath)."""
    y = mp.mpf(y)
    ls = mp.mpf(ls)
    ys = y * (1 - ls) + ls / 2
    a_t = 1 if alpha is None else mp.mpf(alpha) * ys + (1 - mp.mpf(alpha)) * (1 - ys)
    g = mp.mpf(gamma)

    def loss(t):
        p = 1 / (1 + mp.exp(-t))
        pt = p * ys + (1 - p) * (1 - ys)
        terms = 0
        if ys != 0:
            terms += ys * mp.log(p)
        if ys != 1:
            terms += (1 - ys) * mp.log(1 - p)
        factor = mp.mpf(1) if g == 0 else (1 - pt) ** g
        return mp.mpf(w) * a_t * factor * (-terms)

    return loss


def sigmoid_derivatives(x, y, gamma, alpha, ls, w):
    """Loss and its first two derivatives by the chain rule of the naive definition
    L = w·α_t·u^γ·B with u = 1 − p_t, B = BCE(σ(x), y_s) (pow/log form, no stable rewrite):
    p′ = p(1−p), u′ = −(2y_s−1)·p′, u″ = −(2y_s−1)·p′(1−2p), B′ = p − y_s, B″ = p′."""
    y = mp.mpf(y)
    ls = mp.mpf(ls)
    ys = y * (1 - ls) + ls / 2
    a_t = 1 if alpha is None else mp.mpf(alpha) * ys + (1 - mp.mpf(alpha)) * (1 - ys)
    g = mp.mpf(gamma)
    c = mp.mpf(w) * a_t
    p = 1 / (1 + mp.exp(-x))
    dp = p * (1 - p)
    u = 1 - (p * ys + (1 - p) * (1 - ys))
    du = -(2 * ys - 1) * dp
    d2u = -(2 * ys - 1) * dp * (1 - 2 * p)
    b = 0
    if ys != 0:
        b -= ys * mp.log(p)
    if ys != 1:
        b -= (1 - ys) * mp.log(1 - p)
    db = p - ys
    d2b = dp
    if g == 0:
        f, df, d2f = mp.mpf(1), mp.mpf(0), mp.mpf(0)
    else:
        f = u ** g
        df = g * u ** (g - 1) * du
        d2f = g * (g - 1) * u ** (g - 2) * du ** 2 + g * u ** (g - 1) * d2u
    loss = c * f * b
    grad = c * (df * b + f * db)
    hess = c * (d2f * b + 2 * df * db + f * d2b)
    # The sizes of the terms summed above: where they cancel, a finite-precision result can
    # only be accurate relative to them (the tests use these for f32).
    grad_scale = abs(c * df * b) + abs(c * f * db)
    hess_scale = abs(c * d2f * b) + 2 * abs(c * df * db) + abs(c * f * d2b)
    return loss, grad, hess, grad_scale, hess_scale


def num(v):
    return repr(float(v))


def header(cid, family, dtype, gamma, alpha, ls, reduction, normalizer):
    return [
        "case " + cid,
        "family " + family,
        "dtype " + dtype,
        "gamma " + num(gamma),
        "alpha " + ("none" if alpha is None else num(alpha)),
    ]


def finish(cid, family, dtype, gamma, alpha, ls, reduction, normalizer, count, losses, grads):
    lines = []
    if family == "softmax":
        pass
    if reduction == "none":
        loss = losses
        grad = grads
    else:
        total = mp.fsum(losses)
        if reduction == "sum":
            div = mp.mpf(1)
        elif normalizer is not None:
            div = mp.mpf(normalizer)
        else:
            div = mp.mpf(count) if count else None
        loss = [total / div if div else mp.mpf(0)]
        grad = [g / div if div else mp.mpf(0) for g in grads]
    return [
        "smoothing " + num(ls),
        "reduction " + reduction,
        "normalizer " + ("none" if normalizer is None else num(normalizer)),
    ], loss, grad


def softmax_case(args):
    (cid, dtype, gamma, alpha, class_alpha, ls, reduction, normalizer, classes, spatial, ignore, xs, ts) = args[:13]
    # Per-class γ and poly-1's ε (optional: the cases before them have neither).
    class_gamma, epsilon = args[13] if len(args) > 13 else (None, 0.0)
    rnd = f32 if dtype == "f32" else float
    xs = [rnd(x) for x in xs]
    ca = None if class_alpha is None else [rnd(a) for a in class_alpha]
    positions = len(ts)
    batch = positions // spatial
    idx = lambda n, j, s: (n * classes + j) * spatial + s
    losses = [mp.mpf(0)] * positions
    loss_scales = [mp.mpf(0)] * positions
    grads = [mp.mpf(0)] * len(xs)
    # The Hessian (one-hot targets, per position) where mpmath.diff's second derivative is
    # accurate (|x| < 1e3).
    with_hess = ls == 0 and reduction == "none" and all(abs(x) < 1e3 for x in xs)
    hesses = [mp.mpf(0)] * len(xs)
    hess_scales = {}
    count = 0
    for n in range(batch):
        for s in range(spatial):
            p_ = n * spatial + s
            t = ts[p_]
            if t == ignore:
                continue
            count += 1
            row = [xs[idx(n, j, s)] for j in range(classes)]
            spread = max(row) - min(row) if all(abs(v) < float("inf") for v in row) else 0
            with mp.workdps(60 + int(spread / 2.2) + 20):
                ls_m = mp.mpf(ls)
                yk = [(1 - ls_m if k == t else 0) + ls_m / classes for k in range(classes)]
                ak = [mp.mpf(1) if (alpha is None and ca is None) else (mp.mpf(alpha) if ca is None else mp.mpf(ca[k])) for k in range(classes)]
                gk = [mp.mpf(gamma if class_gamma is None else class_gamma[k]) for k in range(classes)]
                eps = mp.mpf(epsilon)

                def terms(*v):
                    """The class terms α_k·y_k·(1-p_k)^γ_k·(-ln p_k) and poly-1's
                    ε·(1 - Σ_k y_k·p_k)^(γ_t+1), naively."""
                    m = max(v)
                    ex = [mp.exp(vi - m) for vi in v]
                    z = mp.fsum(ex)
                    out = []
                    for k in range(classes):
                        if yk[k] == 0 or ak[k] == 0:
                            continue
                        pk = ex[k] / z
                        fac = mp.mpf(1) if gk[k] == 0 else (1 - pk) ** gk[k]
                        out.append(ak[k] * yk[k] * fac * (-mp.log(pk)))
                    if eps != 0:
                        pt_bar = mp.fsum(yk[k] * ex[k] / z for k in range(classes))
                        out.append(eps * (1 - pt_bar) ** (gk[t] + 1))
                    return out

                def L(*v):
                    return mp.fsum(terms(*v))

                point = [mp.mpf(v) for v in row]
                losses[p_] = L(*point)
                loss_scales[p_] = mp.fsum(abs(term) for term in terms(*point))
                for j in range(classes):
                    order = [0] * classes
                    order[j] = 1
                    grads[idx(n, j, s)] = mp.diff(L, point, tuple(order))
                if with_hess:
                    for j in range(classes):
                        order = [0] * classes
                        order[j] = 2
                        hesses[idx(n, j, s)] = mp.diff(L, point, tuple(order))
                    hess_scales.update(hess_term_scales(point, t, ak[t], gk[t], eps, lambda j: idx(n, j, s)))
    head, loss, grad = finish(cid, "softmax", dtype, gamma, alpha, ls, reduction, normalizer, count, losses, grads)
    _, loss_scale, _ = finish(cid, "softmax", dtype, gamma, alpha, ls, reduction, normalizer, count, loss_scales, grads)
    lines = header(cid, "softmax", dtype, gamma, alpha if class_alpha is None else None, ls, reduction, normalizer)
    if ca is not None:
        lines.append("class_alpha " + " ".join(num(a) for a in ca))
    if class_gamma is not None:
        lines.append("class_gamma " + " ".join(num(g) for g in class_gamma))
    if epsilon != 0:
        lines.append("epsilon " + num(epsilon))
        # The sum of the terms' sizes (poly-1 with ε < 0 can cancel the focal terms).
        lines.append("loss_scale " + " ".join(num(v) for v in loss_scale))
    lines += head
    lines.append("classes %d" % classes)
    lines.append("spatial %d" % spatial)
    lines.append("ignore_index %d" % ignore)
    lines.append("logits " + " ".join(num(x) for x in xs))
    lines.append("targets " + " ".join(str(t) for t in ts))
    lines.append("weights none")
    lines.append("loss " + " ".join(num(v) for v in loss))
    lines.append("grad " + " ".join(num(v) for v in grad))
    if with_hess:
        lines.append("hess " + " ".join(num(v) for v in hesses))
        lines.append("hess_scale " + " ".join(num(hess_scales.get(i, 0)) for i in range(len(xs))))
    lines.append("end")
    return "\n".join(lines)


def hess_term_scales(point, t, alpha, gamma, eps, index):
    """The size of the terms the softmax Hessian is made of (a tolerance, not a value: f32
    is held to it where they cancel). With u = ln p_t, the Hessian is F''(u)·(δ_jt − p_j)²
    − F'(u)·p_j·(1 − p_j); F' and F''·q² as sums of terms of one sign each:
    |F'| ≤ α·q^γ·(1 + γ·p·CE/q) + |ε|(γ+1)·q^γ·p,
    |F''·q²| ≤ α·γ·q^γ·(q·(2p + p·CE) + |γ−1|·p·p·CE) + |ε|(γ+1)·q^γ·p·q·(γp + q)."""
    m = max(point)
    ex = [mp.exp(v - m) for v in point]
    z = mp.fsum(ex)
    others = z - ex[t]
    p, q = ex[t] / z, others / z
    ce = -mp.log(p)
    qg = mp.mpf(1) if gamma == 0 else q ** gamma
    poly = abs(eps) * (gamma + 1) * qg
    a = alpha * qg * (1 + gamma * p * ce / q) + poly * p
    b = alpha * gamma * qg * (q * (2 * p + p * ce) + abs(gamma - 1) * p * p * ce) + poly * p * q * (gamma * p + q)
    out = {}
    for j in range(len(point)):
        pj = ex[j] / z
        r = 1 if j == t else ex[j] / others
        out[index(j)] = b * r * r + pj * (1 - pj) * a
    return out


def sigmoid_job(args):
    (cid, family, dtype, gamma, alpha, ls, reduction, normalizer, classes, xs, ts, ws) = args
    rnd = f32 if dtype == "f32" else float
    xs = [rnd(x) for x in xs]
    ts2 = [rnd(t) for t in ts] if family == "sigmoid_soft" else ts
    ws_r = None if ws is None else [rnd(w) for w in ws]
    n = len(xs)
    elems = []
    for i in range(n):
        if family == "sigmoid_classes":
            t = ts2[i // classes]
            elems.append(None if t < 0 else (1.0 if t == i % classes else 0.0))
        else:
            elems.append(float(ts2[i]))
    count = sum(1 for e in elems if e is not None)
    losses, grads, hesses, grad_scales, hess_scales = [], [], [], [], []
    for i in range(n):
        if elems[i] is None:
            for column in (losses, grads, hesses, grad_scales, hess_scales):
                column.append(mp.mpf(0))
            continue
        with mp.workdps(dps_for([xs[i]])):
            loss, grad, hess, grad_scale, hess_scale = sigmoid_derivatives(
                mp.mpf(xs[i]), elems[i], gamma, alpha, ls, 1 if ws_r is None else ws_r[i]
            )
            losses.append(loss)
            grads.append(grad)
            hesses.append(hess)
            grad_scales.append(grad_scale)
            hess_scales.append(hess_scale)
    head, loss, grad = finish(cid, family, dtype, gamma, alpha, ls, reduction, normalizer, count, losses, grads)
    _, _, grad_scale = finish(cid, family, dtype, gamma, alpha, ls, reduction, normalizer, count, losses, grad_scales)
    lines = header(cid, family, dtype, gamma, alpha, ls, reduction, normalizer) + head
    if family == "sigmoid_classes":
        lines.append("classes %d" % classes)
    lines.append("logits " + " ".join(num(x) for x in xs))
    lines.append("targets " + " ".join(num(t) if family == "sigmoid_soft" else str(t) for t in ts2))
    lines.append("weights " + ("none" if ws_r is None else " ".join(num(w) for w in ws_r)))
    lines.append("loss " + " ".join(num(v) for v in loss))
    lines.append("grad " + " ".join(num(v) for v in grad))
    lines.append("grad_scale " + " ".join(num(v) for v in grad_scale))
    if reduction == "none":
        lines.append("hess " + " ".join(num(h) for h in hesses))
        lines.append("hess_scale " + " ".join(num(h) for h in hess_scales))
    lines.append("end")
    return "\n".join(lines)


def jobs():
    sig, soft = [], []
    for dtype in ["f64", "f32"]:
        for gamma in GAMMAS:
            for alpha in [0.25, None]:
                a = "none" if alpha is None else alpha
                xs = [x for x in LOGITS for _ in SOFT]
                ts = [t for _ in LOGITS for t in SOFT]
                sig.append(("soft_%s_g%s_a%s" % (dtype, gamma, a), "sigmoid_soft", dtype, gamma, alpha, 0.0, "none", None, 0, xs, ts, None))
                xs = [x for x in LOGITS for _ in (0, 1)]
                ts = [t for _ in LOGITS for t in (0, 1)]
                sig.append(("labels_%s_g%s_a%s" % (dtype, gamma, a), "sigmoid_labels", dtype, gamma, alpha, 0.0, "none", None, 0, xs, ts, None))
        # f32 traps of docs/MATH.md
        xs = [-60.25, -30.5, -12.7, 12.7, 30.5, 60.25] * 2
        ts = [0] * 6 + [1] * 6
        sig.append(("traps_labels_%s" % dtype, "sigmoid_labels", dtype, 4.2, 0.25, 0.0, "none", None, 0, xs, ts, None))
        sig.append(("traps_soft_%s" % dtype, "sigmoid_soft", dtype, 0.3, None, 0.0, "none", None, 0, [-12.7, -3.0, 12.7], [0.7, 0.7, 0.7], None))
        # smoothing, weights, reductions
        xs = [-17.0, -3.0, -0.5, 0.0, 0.5, 3.0, 17.0, 40.0]
        ys = [0.0, 1.0, 0.3, 1.0, 0.999, 0.0, 1e-3, 1.0]
        ls_ = [0, 1, 0, 1, 1, 0, 0, 1]
        ws = [1.0, 0.5, 2.5, 0.0, 1.0, 2.5, 0.5, 1.0]
        for ls in [0.0, 0.1, 0.2]:
            for red, norm in [("none", None), ("sum", None), ("mean", None), ("mean", 3.0)]:
                for weights in [None, ws]:
                    tag = "%s_ls%s_%s%s_w%d" % (dtype, ls, red, "" if norm is None else "n", weights is not None)
                    sig.append(("red_soft_" + tag, "sigmoid_soft", dtype, 2.0, 0.25, ls, red, norm, 0, xs, ys, weights))
                    sig.append(("red_labels_" + tag, "sigmoid_labels", dtype, 0.5, None, ls, red, norm, 0, xs, ls_, weights))
        # classes: 5 rows x 4
        cx = [3.0, -1.0, 0.5, -17.0, 40.0, -3.0, 0.0, 2.0, -0.5, 0.5, 17.0, -40.0, 1.0, 1.0, 1.0, 1.0, 100.0, -100.0, 3.0, -3.0]
        for gamma in [0.0, 0.5, 2.0, 3.7]:
            for alpha in [0.25, None]:
                for ls in [0.0, 0.1]:
                    for red, norm in [("none", None), ("sum", None), ("mean", None), ("mean", 7.0)]:
                        sig.append(("classes_%s_g%s_a%s_ls%s_%s%s" % (dtype, gamma, alpha, ls, red, norm), "sigmoid_classes", dtype, gamma, alpha, ls, red, norm, 4, cx, [2, 4, -1, 0, 3], None))
        # softmax row-major: 6 x 5
        rows = [
            [2.0, 0.5, -1.0, 0.0, 3.0],
            [40.0, 0.0, 0.0, 0.0, 0.0],
            [100.0, 0.0, -3.0, 0.5, 17.0],
            [1e4, -1e4, 0.0, 3.0, -0.5],
            [0.5, 0.5, 0.5, 0.5, 0.5],
            [-17.0, -40.0, 3.0, -3.0, 0.0],
        ]
        # The ±1e4 row needs ~9000 digits: only in a few cases; elsewhere ±100.
        wide = [v for r in rows for v in r]
        narrow = [v for r in rows[:3] + [[100.0, -100.0, 0.0, 3.0, -0.5]] + rows[4:] for v in r]
        for gamma in GAMMAS:
            for alpha, ca in [(None, None), (0.25, None), (None, [0.1, 0.2, 0.3, 0.25, 0.15])]:
                for ls in [0.0, 0.1]:
                    for red, norm in ([("none", None), ("sum", None), ("mean", None), ("mean", 4.0)] if gamma in (0.5, 2.0) else [("none", None), ("mean", None)]):
                        tag = "%s_g%s_a%s_ca%d_ls%s_%s%s" % (dtype, gamma, alpha, ca is not None, ls, red, norm)
                        big = red == "none" and alpha is None and ca is None and gamma in (0.5, 2.0)
                        xs = wide if big else narrow
                        soft.append(("softmax_rows_" + tag, dtype, gamma, alpha, ca, ls, red, norm, 5, 1, -100, xs, [0, 1, 4, 3, -100, 2]))
        soft.append(("softmax_rows_ignore255_" + dtype, dtype, 2.0, None, None, 0.0, "mean", None, 5, 1, 255, narrow, [0, 255, 4, 3, 2, 255]))
        # Per-class γ and poly-1 (PolyLoss): rows and channels-first.
        rows_gamma = [0.5, 2.0, 0.0, 3.7, 1.0]
        for class_gamma in [None, rows_gamma]:
            for epsilon in [0.0, 1.0, -1.0]:
                if class_gamma is None and epsilon == 0.0:
                    continue
                for ls in [0.0, 0.1]:
                    for red, norm in [("none", None), ("mean", None)]:
                        tag = "%s_cg%d_e%s_ls%s_%s" % (dtype, class_gamma is not None, epsilon, ls, red)
                        soft.append(("softmax_rows_family_" + tag, dtype, 2.0, None, [0.1, 0.2, 0.3, 0.25, 0.15], ls, red, norm, 5, 1, -100, narrow, [0, 1, 4, 3, -100, 2], (class_gamma, epsilon)))
        # channels-first 2 x 3 x 4
        cf = [0.5, -1.0, 3.0, 0.0, 2.0, 17.0, -3.0, 0.0, -0.5, 0.0, 40.0, 1.0,
              -2.0, 0.0, 1.0, 100.0, 3.0, -17.0, 0.5, 0.0, 0.0, 2.0, -1.0, 0.5]
        for gamma in [0.0, 0.5, 2.0, 3.7]:
            for alpha, ca in [(None, None), (0.25, None), (None, [0.2, 0.5, 0.3])]:
                for ls in [0.0, 0.2]:
                    for red, norm in [("none", None), ("sum", None), ("mean", None), ("mean", 5.0)]:
                        tag = "%s_g%s_a%s_ca%d_ls%s_%s%s" % (dtype, gamma, alpha, ca is not None, ls, red, norm)
                        soft.append(("softmax_cf_" + tag, dtype, gamma, alpha, ca, ls, red, norm, 3, 4, -100, cf, [0, 2, -100, 1, 1, 0, 2, -100]))
        for class_gamma, epsilon in [([0.5, 3.7, 2.0], 0.0), (None, 1.0), ([0.5, 3.7, 2.0], -1.0)]:
            for ls in [0.0, 0.2]:
                tag = "%s_cg%d_e%s_ls%s" % (dtype, class_gamma is not None, epsilon, ls)
                soft.append(("softmax_cf_family_" + tag, dtype, 2.0, None, None, ls, "none", None, 3, 4, -100, cf, [0, 2, -100, 1, 1, 0, 2, -100], (class_gamma, epsilon)))
    return sig, soft


def check():
    """mpmath.diff of the naive loss against its chain-rule derivatives (used above)."""
    worst = mp.mpf(0)
    for x in [-17.0, -3.0, 0.5, 3.0, 40.0]:
        for y in [0.0, 0.3, 1.0]:
            for gamma in [0.25, 0.5, 2.0, 3.7]:
                with mp.workdps(80):
                    f = sigmoid_element(None, y, gamma, 0.25, 0.1, 1)
                    _, grad, hess, _, _ = sigmoid_derivatives(mp.mpf(x), y, gamma, 0.25, 0.1, 1)
                    worst = max(worst, abs(mp.diff(f, mp.mpf(x)) - grad) / abs(grad))
                    worst = max(worst, abs(mp.diff(f, mp.mpf(x), 2) - hess) / abs(hess))
    print("max relative disagreement mpmath.diff vs chain rule:", mp.nstr(worst, 3))


def main():
    if "--check" in sys.argv:
        check()
        return
    sig, soft = jobs()
    with Pool() as pool:
        blocks = pool.map(sigmoid_job, sig, chunksize=1) + pool.map(softmax_case, soft, chunksize=1)
    print("# Golden values for focal-loss, from tests/golden/generate.py (mpmath %s)." % mp.__version__)
    print("# Naive definitions at 60+ digits; chain rule (sigmoid), mpmath.diff (softmax). Do not edit by hand.")
    for b in blocks:
        print(b)


if __name__ == "__main__":
    main()
