//! The elements of the focal family as the reference's plain driver takes them: one struct
//! per objective, each computing loss, dL/dx and d²L/dx² in `f64` from its stable formulas
//! (`docs/MATH.md`), and [`Element`], which picks the one a call describes.

use super::elementwise::{ElementObjective, Target};
use super::math::{exact_difference, log_add_exp, sigmoid, softplus, zero_times};
use super::sigmoid::{Derivatives, Focal, sigmoid_focal_hard};
use crate::objective::{Description, Objective};

/// The reference element of one objective.
pub(super) enum Element {
    Focal(Focal),
    ClassFocal(ClassFocal),
    FocalStar(FocalStar),
    Poly1Focal(Poly1Focal),
    Asymmetric(Asymmetric),
    QualityFocal(QualityFocal),
    Varifocal(Varifocal),
    ReducedFocal(ReducedFocal),
}

impl Element {
    pub fn of(call: &Description<'_>) -> Self {
        match call.objective {
            Objective::ClassFocal { alpha } => Self::ClassFocal(ClassFocal {
                gamma: call.class_gamma.unwrap_or_default().to_vec(),
                alpha,
            }),
            Objective::Asymmetric {
                gamma_positive,
                gamma_negative,
                margin,
            } => Self::Asymmetric(Asymmetric {
                gamma_positive,
                gamma_negative,
                margin,
            }),
            Objective::ReducedFocal {
                gamma,
                threshold,
                alpha,
            } => Self::ReducedFocal(ReducedFocal {
                gamma,
                threshold,
                alpha,
            }),
            Objective::Focal { gamma, alpha } => Self::Focal(Focal { gamma, alpha }),
            Objective::FocalStar { gamma, beta, alpha } => {
                Self::FocalStar(FocalStar { gamma, beta, alpha })
            }
            Objective::Poly1Focal {
                gamma,
                alpha,
                epsilon,
            } => Self::Poly1Focal(Poly1Focal {
                focal: Focal { gamma, alpha },
                epsilon,
            }),
            Objective::QualityFocal { beta } => Self::QualityFocal(QualityFocal { beta }),
            Objective::Varifocal { alpha, gamma } => Self::Varifocal(Varifocal { alpha, gamma }),
        }
    }
}

impl ElementObjective for Element {
    fn derivatives(&self, x: f64, t: &Target) -> Derivatives {
        self.derivatives_of_class(x, t, None)
    }

    fn derivatives_of_class(&self, x: f64, t: &Target, class: Option<usize>) -> Derivatives {
        match self {
            Self::Focal(o) => o.derivatives(x, t),
            Self::ClassFocal(o) => o.derivatives_of_class(x, t, class),
            Self::FocalStar(o) => o.derivatives(x, t),
            Self::Poly1Focal(o) => o.derivatives(x, t),
            Self::Asymmetric(o) => o.derivatives(x, t),
            Self::QualityFocal(o) => o.derivatives(x, t),
            Self::Varifocal(o) => o.derivatives(x, t),
            Self::ReducedFocal(o) => o.derivatives(x, t),
        }
    }
}

/// The focal loss with one γ per class of a `[rows, classes]` head.
pub(super) struct ClassFocal {
    pub gamma: Vec<f64>,
    pub alpha: Option<f64>,
}

impl ElementObjective for ClassFocal {
    /// Only class-index targets have classes (the API refuses the other forms).
    fn derivatives(&self, x: f64, t: &Target) -> Derivatives {
        self.derivatives_of_class(x, t, None)
    }

    fn derivatives_of_class(&self, x: f64, t: &Target, class: Option<usize>) -> Derivatives {
        let focal = Focal {
            gamma: self.gamma[class.unwrap_or(0)],
            alpha: self.alpha,
        };
        focal.derivatives(x, t)
    }
}

/// Asymmetric loss: `y·L₊ + (1−y)·L₋` with `L₊ = (1−p)^γ₊·(−ln p)` and
/// `L₋ = p_m^γ₋·(−ln(1 − p_m))`, `p_m = max(p − m, 0)`.
pub(super) struct Asymmetric {
    pub gamma_positive: f64,
    pub gamma_negative: f64,
    pub margin: f64,
}

impl Asymmetric {
    /// `L₋` and its derivatives for `m > 0`: with `s = 1 − p_m = q + m`, `ρ = −ln s`,
    /// `k = p·q/p_m`: gradient `p_m^γ·(γ·ρ·k + p·q/s)`, Hessian
    /// `p_m^γ·(γ(γ−1)·ρ·k² + 2γ·k·p·q/s + (p·q/s)²) + gradient·(q − p)`; 0 where `p ≤ m`.
    fn shifted_negative(&self, x: f64) -> Derivatives {
        let (p, q) = (sigmoid(x), sigmoid(-x));
        let p_m = p - self.margin;
        if p_m <= 0.0 {
            return Derivatives {
                loss: 0.0,
                grad: 0.0,
                hess: 0.0,
            };
        }
        let gamma = self.gamma_negative;
        let rho = -(-p_m).ln_1p();
        let power = if gamma == 0.0 { 1.0 } else { p_m.powf(gamma) };
        let pq = p * q;
        let s = q + self.margin;
        let k = pq / p_m;
        let rho_k = rho / p_m * pq;
        let grad = power * (gamma * rho_k + pq / s);
        let hess = power
            * (gamma * (gamma - 1.0) * rho_k * k + 2.0 * gamma * k * pq / s + (pq / s).powi(2))
            + grad * (q - p);
        Derivatives {
            loss: power * rho,
            grad,
            hess,
        }
    }
}

impl ElementObjective for Asymmetric {
    fn derivatives(&self, x: f64, t: &Target) -> Derivatives {
        if x.is_nan() {
            return Derivatives {
                loss: x,
                grad: x,
                hess: x,
            };
        }
        let positive = sigmoid_focal_hard(x, true, self.gamma_positive, None);
        let negative = if self.margin == 0.0 {
            sigmoid_focal_hard(x, false, self.gamma_negative, None)
        } else {
            self.shifted_negative(x)
        };
        let mix = |a: f64, b: f64| zero_times(t.y, a) + zero_times(t.one_minus_y, b);
        Derivatives {
            loss: mix(positive.loss, negative.loss),
            grad: mix(positive.grad, negative.grad),
            hess: mix(positive.hess, negative.hess),
        }
    }
}

/// Reduced focal loss: `α_t·th^−γ·q^γ·CE` where `p_t ≥ th`, `α_t·CE` below. For hard
/// targets `p_t ≥ th` is `(2y − 1)·x ≥ logit(th)`, decided on the logit; a soft target
/// (which the API refuses for this loss) compares its `p_t` itself.
pub(super) struct ReducedFocal {
    pub gamma: f64,
    pub threshold: f64,
    pub alpha: Option<f64>,
}

impl ElementObjective for ReducedFocal {
    fn derivatives(&self, x: f64, t: &Target) -> Derivatives {
        let reduced = if is_hard(t.y, t.one_minus_y) {
            let z = if t.y == 1.0 { x } else { -x };
            z >= (self.threshold / (1.0 - self.threshold)).ln()
        } else {
            t.y * sigmoid(x) + t.one_minus_y * sigmoid(-x) >= self.threshold
        };
        if reduced {
            let scale = self.threshold.powf(-self.gamma);
            let focal = Focal {
                gamma: self.gamma,
                alpha: self.alpha,
            }
            .derivatives(x, t);
            Derivatives {
                loss: scale * focal.loss,
                grad: scale * focal.grad,
                hess: scale * focal.hess,
            }
        } else {
            Focal {
                gamma: 0.0,
                alpha: self.alpha,
            }
            .derivatives(x, t)
        }
    }
}

fn is_hard(y: f64, one_minus_y: f64) -> bool {
    (y == 0.0 && one_minus_y == 1.0) || (y == 1.0 && one_minus_y == 0.0)
}

fn alpha_t(alpha: Option<f64>, y: f64, one_minus_y: f64) -> f64 {
    alpha.map_or(1.0, |a| a * y + (1.0 - a) * one_minus_y)
}

/// FL*: `α_t·softplus(−u)/γ` with `u = γ·(2y − 1)·x + β`; gradient `−(2y − 1)·α_t·σ(−u)`,
/// Hessian `α_t·γ·(2y − 1)²·σ(u)·σ(−u)`.
pub(super) struct FocalStar {
    pub gamma: f64,
    pub beta: f64,
    pub alpha: Option<f64>,
}

impl ElementObjective for FocalStar {
    fn derivatives(&self, x: f64, t: &Target) -> Derivatives {
        let (y, one_minus_y) = (t.y, t.one_minus_y);
        if x.is_nan() {
            return Derivatives {
                loss: x,
                grad: x,
                hess: x,
            };
        }
        let s = -t.one_minus_2y;
        let alpha_t = alpha_t(self.alpha, y, one_minus_y);
        // u = γ·s·x + β with the rounding of each step kept: e^−u for u in the hundreds
        // turns an absolute error of u into the same relative error.
        let c = self.gamma * s;
        let c_error = self.gamma.mul_add(s, -c);
        let p = zero_times(c, x);
        let p_error = if p.is_finite() {
            c.mul_add(x, -p) + c_error * x
        } else {
            0.0
        };
        let (u, u_error) = exact_difference(self.beta, -p);
        let u_tail = u_error + p_error;
        // Beyond 800, e^−|u| underflows whatever the tail (which can be large in absolute
        // terms there).
        let e = if u.abs() < 800.0 {
            (-u.abs()).exp() * (-u.signum() * u_tail).exp()
        } else {
            0.0
        };
        let softplus_minus_u = if u < 0.0 { -u - u_tail } else { 0.0 } + e.ln_1p();
        let sigma_minus_u = if u >= 0.0 {
            e / (1.0 + e)
        } else {
            1.0 / (1.0 + e)
        };
        let sigma_product = e / ((1.0 + e) * (1.0 + e));
        Derivatives {
            loss: zero_times(alpha_t, softplus_minus_u / self.gamma),
            grad: -s * alpha_t * sigma_minus_u,
            hess: alpha_t * self.gamma * s * s * sigma_product,
        }
    }
}

/// `q^k` of `q = 1 − p_t` with `ℓ′ = d ln q/dx` and `ℓ″ = d²ln q/dx²`, for any target.
fn focusing_power(x: f64, t: &Target, k: f64) -> (f64, f64, f64) {
    let (y, one_minus_y) = (t.y, t.one_minus_y);
    let p = sigmoid(x);
    let q_of_x = sigmoid(-x);
    let (minus_ln_q_of_x, minus_ln_p) = (softplus(x), softplus(-x));
    let q = y * q_of_x + one_minus_y * p;
    let ln_q = if is_hard(y, one_minus_y) {
        // Exact: ln σ(−z) = −softplus(z).
        -softplus(if y == 1.0 { x } else { -x })
    } else {
        log_add_exp(y.ln() - minus_ln_q_of_x, one_minus_y.ln() - minus_ln_p)
    };
    let power = if k == 0.0 { 1.0 } else { (k * ln_q).exp() };
    if power == 0.0 {
        // q^k → 0 faster than its derivatives' factors grow.
        return (0.0, 0.0, 0.0);
    }
    let one_minus_2y = t.one_minus_2y;
    let r = (-minus_ln_p - minus_ln_q_of_x - ln_q).exp(); // P·Q/q
    let dl = one_minus_2y * r;
    let d2l = if q > 0.0 {
        dl * (y * q_of_x * q_of_x - one_minus_y * p * p) / q
    } else {
        0.0
    };
    (power, dl, d2l)
}

/// Poly-1 focal loss: the focal loss plus `ε·q^(γ+1)`, whose derivatives are
/// `ε·(γ+1)·q^(γ+1)·ℓ′` and `ε·(γ+1)·q^(γ+1)·((γ+1)·ℓ′² + ℓ″)`.
pub(super) struct Poly1Focal {
    pub focal: Focal,
    pub epsilon: f64,
}

impl ElementObjective for Poly1Focal {
    fn derivatives(&self, x: f64, t: &Target) -> Derivatives {
        let focal = self.focal.derivatives(x, t);
        let k = self.focal.gamma + 1.0;
        let (power, dl, d2l) = focusing_power(x, t, k);
        let term = self.epsilon * power;
        Derivatives {
            loss: focal.loss + term,
            grad: focal.grad + term * k * dl,
            hess: focal.hess + term * k * (k * dl * dl + d2l),
        }
    }
}

/// Quality focal loss `C·|d|^β`, `d = y − σ(x) = y·σ(−x) − (1−y)·σ(x)`, `C` the binary
/// cross-entropy: gradient `−d·D − β·C·P·Q·D/d`, Hessian
/// `P·Q·((2β+1)·D − β·C·(1−2P)·D/d + β(β−1)·C·P·Q·D/d²)` with `D = |d|^β`. At `d = 0` the
/// gradient is 0 (a minimum) and `D/d²` is taken as its limit 1 at β = 2, else 0.
/// Hard targets are the focal loss with γ = β and no α.
pub(super) struct QualityFocal {
    pub beta: f64,
}

impl ElementObjective for QualityFocal {
    fn derivatives(&self, x: f64, t: &Target) -> Derivatives {
        let (y, one_minus_y) = (t.y, t.one_minus_y);
        let beta = self.beta;
        if is_hard(y, one_minus_y) {
            return sigmoid_focal_hard(x, y == 1.0, beta, None);
        }
        let (p, q) = (sigmoid(x), sigmoid(-x));
        let d = y * q - one_minus_y * p;
        let c = y * softplus(-x) + one_minus_y * softplus(x);
        let pq = p * q;
        let a = d.abs();
        let power = if beta == 0.0 { 1.0 } else { a.powf(beta) };
        // P·Q/d times D: d can be tiny where P·Q/d is not.
        let ratio = if d == 0.0 { 0.0 } else { pq / d };
        let (pq_over_d, pq2_over_d2) = if d == 0.0 {
            (0.0, if beta == 2.0 { pq * pq } else { 0.0 })
        } else {
            (ratio * power, ratio * ratio * power)
        };
        let loss = if c == f64::INFINITY && a > 0.0 {
            c
        } else {
            zero_times(c, power)
        };
        // C is infinite only at an infinite logit, where P·Q = 0: C·P·Q → 0.
        Derivatives {
            loss,
            grad: -d * power - beta * zero_times(c, pq_over_d),
            hess: (2.0 * beta + 1.0) * power * pq
                - beta * zero_times(c, (1.0 - 2.0 * p) * pq_over_d)
                + beta * (beta - 1.0) * zero_times(c, pq2_over_d2),
        }
    }
}

/// Varifocal loss: `y·C` for a target `y > 0` (gradient `y·((1−y)·P − y·Q)`, Hessian
/// `y·P·Q`); `α·σ(x)^γ·softplus(x)` for `y = 0`, the focal loss of a negative scaled by α.
pub(super) struct Varifocal {
    pub alpha: f64,
    pub gamma: f64,
}

impl ElementObjective for Varifocal {
    fn derivatives(&self, x: f64, t: &Target) -> Derivatives {
        let (y, one_minus_y) = (t.y, t.one_minus_y);
        if y == 0.0 {
            let negative = sigmoid_focal_hard(x, false, self.gamma, None);
            return Derivatives {
                loss: zero_times(self.alpha, negative.loss),
                grad: self.alpha * negative.grad,
                hess: self.alpha * negative.hess,
            };
        }
        let (p, q) = (sigmoid(x), sigmoid(-x));
        let c = zero_times(y, softplus(-x)) + zero_times(one_minus_y, softplus(x));
        Derivatives {
            loss: y * c,
            grad: y * one_minus_y.mul_add(p, -(y * q)),
            hess: y * p * q,
        }
    }
}
