//! What a public call hands to the parallel driver: the objective and the driver's options
//! in `f64`, plain data. The API builds and validates it (`validate::description`);
//! `parallel` turns it into kernel parameters and the reference into its own element
//! functions. Neither side sees the other's types.

use crate::{Reduction, SoftmaxAlpha};

/// One elementwise objective of the focal family with its parameters (see `docs/MATH.md`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Objective {
    /// `α_t·(1−p_t)^γ·BCE`.
    Focal { gamma: f64, alpha: Option<f64> },
    /// `α_t·softplus(−(γ·z + β))/γ`, `z = (2y−1)·x`.
    FocalStar {
        gamma: f64,
        beta: f64,
        alpha: Option<f64>,
    },
    /// `α_t·(1−p_t)^γ_c·BCE` with γ_c the γ of the element's class
    /// ([`Description::class_gamma`]; class-index targets only).
    ClassFocal { alpha: Option<f64> },
    /// `α_t·(1−p_t)^γ·BCE + ε·(1−p_t)^(γ+1)`.
    Poly1Focal {
        gamma: f64,
        alpha: Option<f64>,
        epsilon: f64,
    },
    /// `y·(1−p)^γ₊·(−ln p) + (1−y)·p_m^γ₋·(−ln(1−p_m))`, `p_m = max(p − m, 0)`.
    Asymmetric {
        gamma_positive: f64,
        gamma_negative: f64,
        margin: f64,
    },
    /// `α_t·((1−p_t)/th)^γ·BCE` where `p_t ≥ th`, `α_t·BCE` below (hard targets only).
    ReducedFocal {
        gamma: f64,
        threshold: f64,
        alpha: Option<f64>,
    },
    /// `BCE·|y − p|^β`.
    QualityFocal { beta: f64 },
    /// `y·BCE` for `y > 0`, `α·p^γ·BCE` for `y = 0`.
    Varifocal { alpha: f64, gamma: f64 },
}

/// A validated call of an elementwise objective.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Description<'a> {
    pub objective: Objective,
    /// One γ per class, for [`Objective::ClassFocal`].
    pub class_gamma: Option<&'a [f64]>,
    pub label_smoothing: f64,
    pub reduction: Reduction,
    pub normalizer: Option<f64>,
    pub threads: usize,
}

impl Description<'_> {
    /// The same call without a reduction (the per-element gradient and Hessian).
    pub(crate) fn per_element(self) -> Self {
        Self {
            reduction: Reduction::None,
            normalizer: None,
            ..self
        }
    }
}

/// A validated softmax call: the options in `f64`, the class parameters borrowed from them,
/// and the factor of the gradient (`1/divisor` of the reduction).
#[derive(Clone, Copy, Debug)]
pub struct SoftmaxCall<'a> {
    pub gamma: f64,
    pub class_gamma: Option<&'a [f64]>,
    pub alpha: &'a SoftmaxAlpha,
    pub epsilon: f64,
    pub label_smoothing: f64,
    pub grad_scale: f64,
    pub ignore_index: i32,
    /// With a Hessian output: values below this are raised to it.
    pub hessian_floor: Option<f64>,
}
