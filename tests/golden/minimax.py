#!/usr/bin/env python3
# Generates the near-minimax f32 coefficients of src/simd/math.rs (EXP_MINIMAX_F32:
# `python3 minimax.py exp 5`; LN_1P_MINIMAX_F32: `python3 minimax.py ln1p 7`; the atanh mode
# made an earlier version's ATANH_MINIMAX_F32). Needs mpmath.
# Takes a few minutes each.
# Near-minimax polynomial coefficients by Lawson's iteratively reweighted least squares.
import mpmath as mp
mp.mp.dps = 60

def lawson(f, weight, lo, hi, degree, points=600, iterations=300):
    xs = [lo + (hi - lo) * (1 - mp.cos(mp.pi * (i + 0.5) / points)) / 2 for i in range(points)]
    fs = [f(x) for x in xs]
    ws = [weight(x) for x in xs]
    lam = [mp.mpf(1) / points] * points
    best = None
    for it in range(iterations):
        # weighted least squares: minimise sum lam_i (w_i (p(x_i) - f_i))^2
        A = mp.matrix(degree + 1, degree + 1)
        b = mp.matrix(degree + 1, 1)
        for x, fx, w, l in zip(xs, fs, ws, lam):
            pw = [x ** k for k in range(degree + 1)]
            for j in range(degree + 1):
                b[j] += l * w * w * pw[j] * fx
                for k in range(degree + 1):
                    A[j, k] += l * w * w * pw[j] * pw[k]
        c = mp.lu_solve(A, b)
        errs = [abs(w * (sum(c[k] * x ** k for k in range(degree + 1)) - fx)) for x, fx, w in zip(xs, fs, ws)]
        m = max(errs)
        if best is None or m < best[0]:
            best = (m, [c[k] for k in range(degree + 1)])
        s = sum(l * e for l, e in zip(lam, errs))
        lam = [l * e / s for l, e in zip(lam, errs)]
    return best

import sys
which = sys.argv[1]
if which == 'exp':
    a = mp.log(2) / 2
    # e^r = 1 + r*Q(r); relative error of e^r is |r| e^-r |Q - f|
    f = lambda r: (mp.exp(r) - 1) / r if r != 0 else mp.mpf(1)
    w = lambda r: abs(r) * mp.exp(-r)
    deg = int(sys.argv[2])
    m, c = lawson(f, w, -a * 1.0001, a * 1.0001, deg)
    print('max rel err', mp.nstr(m, 5), 'log2', mp.nstr(mp.log(m, 2), 5))
    print('coefficients of e^r = 1 + r*Q(r), Q lowest first:')
    for x in c: print(repr(float(x)))
elif which == 'ln1p':
    # ln(1+u) = u + u^2*C(u) on [0, 1]; relative error of ln(1+u) is u^2 |C - f| / ln(1+u)
    f = lambda u: (mp.log1p(u) - u) / u ** 2 if u != 0 else mp.mpf(-1) / 2
    w = lambda u: u ** 2 / mp.log1p(u) if u != 0 else mp.mpf(0)
    deg = int(sys.argv[2])
    m, c = lawson(f, w, mp.mpf(0), mp.mpf(1), deg)
    print('max rel err of ln(1+u)', mp.nstr(m, 5), 'log2', mp.nstr(mp.log(m, 2), 5))
    for x in c: print(repr(float(x)))
else:
    # 2 atanh(s) = 2s + s*z*P(z), z = s^2 in [0, 1/9]; minimise |z*(P - F)| / 2 relative to 2s
    F = lambda z: (2 * mp.atanh(mp.sqrt(z)) - 2 * mp.sqrt(z)) / (mp.sqrt(z) * z) if z != 0 else mp.mpf(2) / 3
    w = lambda z: z / 2
    deg = int(sys.argv[2])
    m, c = lawson(F, w, mp.mpf(0), mp.mpf(1) / 9 * 1.0001, deg)
    print('max rel err of ln', mp.nstr(m, 5), 'log2', mp.nstr(mp.log(m, 2), 5))
    for x in c: print(repr(float(x)))
