//! The descendants of the sigmoid focal loss: one options type per objective, each taken by
//! every `sigmoid_focal_*` function (see [`SigmoidObjective`]). The maths, their stable
//! forms and the peers' names are in `docs/MATH.md` and the README's family table.

use crate::Reduction;
use crate::objective::{Description, Objective};
use crate::sigmoid::{SigmoidObjective, sealed};

/// Declares an options type of the family: its own parameters with their defaults, the
/// options every elementwise call has, the builders, and the objective it describes.
macro_rules! family_options {
    (
        $(#[$meta:meta])*
        pub struct $name:ident {
            $( $(#[$field_meta:meta])* $field:ident: $ty:ty = $default:expr, )*
        }
        describe($options:ident) => $objective:expr;
        $( class_gamma($class_options:ident) => $class_gamma:expr; )?
    ) => {
        $(#[$meta])*
        #[derive(Clone, Debug, PartialEq)]
        #[non_exhaustive]
        pub struct $name {
            $( $(#[$field_meta])* pub $field: $ty, )*
            /// Label smoothing `ls ∈ [0, 1)`: targets become `y·(1 − ls) + ls/2` (Keras
            /// semantics); `ls/2` must be 0 or a normal number of the element type.
            pub label_smoothing: f64,
            /// How the per-element losses are combined.
            pub reduction: Reduction,
            /// With [`Reduction::Mean`], divide the sum by this value instead of the element
            /// count. Must lie in `[2^-126, 2^126]` for `f32` and `[2^-1022, 2^1022]` for `f64`.
            pub normalizer: Option<f64>,
            /// The most threads this call may use: 0 for the library default (rayon's pool),
            /// 1 for the calling thread only. The results are the same bits for any value.
            pub threads: usize,
        }

        impl Default for $name {
            fn default() -> Self {
                Self {
                    $( $field: $default, )*
                    label_smoothing: 0.0,
                    reduction: Reduction::Mean,
                    normalizer: None,
                    threads: 0,
                }
            }
        }

        impl $name {
            $(
                #[doc = concat!("Sets `", stringify!($field), "`.")]
                pub fn $field(mut self, value: impl Into<$ty>) -> Self {
                    self.$field = value.into();
                    self
                }
            )*
            /// Sets the label smoothing.
            pub fn label_smoothing(mut self, label_smoothing: f64) -> Self {
                self.label_smoothing = label_smoothing;
                self
            }
            /// Sets the reduction.
            pub fn reduction(mut self, reduction: Reduction) -> Self {
                self.reduction = reduction;
                self
            }
            /// Sets (or with `None` clears) the normaliser of the mean.
            pub fn normalizer(mut self, normalizer: impl Into<Option<f64>>) -> Self {
                self.normalizer = normalizer.into();
                self
            }
            /// Sets the most threads a call may use (0: the library default).
            pub fn threads(mut self, threads: usize) -> Self {
                self.threads = threads;
                self
            }
        }

        impl sealed::Sealed for $name {}

        impl SigmoidObjective for $name {
            fn describe(&self) -> Description<'_> {
                let $options = self;
                let objective = $objective;
                #[allow(unused_mut, unused_assignments)]
                let mut class_gamma = None;
                $(
                    let $class_options = self;
                    class_gamma = Some($class_gamma);
                )?
                Description {
                    objective,
                    class_gamma,
                    label_smoothing: self.label_smoothing,
                    reduction: self.reduction,
                    normalizer: self.normalizer,
                    threads: self.threads,
                }
            }
        }
    };
}

family_options! {
    /// FL*, the focal loss of RetinaNet's appendix A (Lin et al. 2017): with `z = (2y − 1)·x`,
    ///
    /// `FL*(x, y) = −α_t·log σ(γ·z + β) / γ`
    ///
    /// (`α_t = α·y + (1 − α)·(1 − y)`, or 1 without α). γ sharpens and β shifts the sigmoid
    /// the loss is a log of; the defaults γ = 1, β = 0, α off are detectron2's
    /// `sigmoid_focal_loss_star(inputs, targets, alpha=-1, gamma=1)`, which has no β. Soft
    /// targets enter through `z` as they do there. Gradient `−(2y − 1)·α_t·σ(−u)` and Hessian
    /// `α_t·γ·(2y − 1)²·σ(u)·σ(−u)` with `u = γ·z + β`: always ≥ 0, a convex objective.
    ///
    /// ```
    /// use focal_loss::{sigmoid_focal_loss, FocalStarOptions, Reduction, SigmoidTargets};
    /// let options = FocalStarOptions::default().gamma(2.0).beta(1.0).reduction(Reduction::None);
    /// let mut loss = [0.0f64; 2];
    /// sigmoid_focal_loss(&[0.0, 3.0], SigmoidTargets::Labels(&[1, 0]), None, &options, &mut loss)?;
    /// // At x = 0: −ln σ(1)/2.
    /// assert!((loss[0] - (1.0 + (-1.0f64).exp()).ln() / 2.0).abs() < 1e-15);
    /// # Ok::<(), focal_loss::FocalError>(())
    /// ```
    #[derive(Copy)]
    pub struct FocalStarOptions {
        /// γ ∈ (0, 10⁴]: the loss divides by it, so 0 is refused, and so is a γ below the
        /// element type's normal range (2^−126 for `f32`, 2^−1022 for `f64`).
        gamma: f64 = 1.0,
        /// β, any finite value.
        beta: f64 = 0.0,
        /// α ∈ [0, 1] as in [`SigmoidFocalOptions`](crate::SigmoidFocalOptions), or `None`
        /// for `α_t = 1`.
        alpha: Option<f64> = None,
    }
    describe(options) => Objective::FocalStar {
        gamma: options.gamma,
        beta: options.beta,
        alpha: options.alpha,
    };
}

family_options! {
    /// Poly-1 focal loss (PolyLoss, Leng et al. 2022): the focal loss plus the first
    /// polynomial term of its expansion in `1 − p_t`,
    ///
    /// `Poly1(x, y) = α_t·(1 − p_t)^γ·BCE(x, y) + ε·(1 − p_t)^(γ+1)`
    ///
    /// (the ε term is not weighted by α_t, as in the paper's code). The defaults are the focal
    /// loss's γ = 2, α = 0.25 and the paper's ε = 1; ε may be negative (the paper also tries
    /// ε = −1), and the loss then too. Soft targets as for the focal loss.
    ///
    /// ```
    /// use focal_loss::{sigmoid_focal_loss, Poly1FocalOptions, Reduction, SigmoidFocalOptions,
    ///                  SigmoidTargets};
    /// let (x, y) = ([0.0f64], SigmoidTargets::Labels(&[1]));
    /// let (mut poly, mut focal) = ([0.0], [0.0]);
    /// sigmoid_focal_loss(&x, y, None, &Poly1FocalOptions::default(), &mut poly)?;
    /// sigmoid_focal_loss(&x, y, None, &SigmoidFocalOptions::default(), &mut focal)?;
    /// // At p_t = ½: ε·(½)^3 on top of the focal loss.
    /// assert!((poly[0] - focal[0] - 0.125).abs() < 1e-16);
    /// # Ok::<(), focal_loss::FocalError>(())
    /// ```
    #[derive(Copy)]
    pub struct Poly1FocalOptions {
        /// γ ∈ [0, 10⁴].
        gamma: f64 = 2.0,
        /// α ∈ [0, 1], or `None` for `α_t = 1`.
        alpha: Option<f64> = Some(0.25),
        /// ε, any finite value.
        epsilon: f64 = 1.0,
    }
    describe(options) => Objective::Poly1Focal {
        gamma: options.gamma,
        alpha: options.alpha,
        epsilon: options.epsilon,
    };
}

family_options! {
    /// Quality focal loss (Generalized Focal Loss, Li et al. 2020): the focal loss for a
    /// continuous quality target `y ∈ [0, 1]` (an IoU score; 0 for background),
    ///
    /// `QFL(x, y) = BCE(x, y)·|y − σ(x)|^β`
    ///
    /// with mmdet's default β = 2. At `y ∈ {0, 1}` it is the focal loss with γ = β and no α.
    /// Where `y = σ(x)` exactly the loss has its minimum 0 and the gradient is 0; for β < 2
    /// the Hessian there is reported as 0 (its limit is infinite), at β = 2 as its limit.
    ///
    /// ```
    /// use focal_loss::{sigmoid_focal_loss, QualityFocalOptions, Reduction, SigmoidTargets};
    /// let options = QualityFocalOptions::default().reduction(Reduction::None);
    /// let mut loss = [0.0f64; 2];
    /// // A box of IoU 0.8 scored σ(0) = ½, and a background anchor scored σ(−2).
    /// sigmoid_focal_loss(&[0.0, -2.0], SigmoidTargets::Soft(&[0.8, 0.0]), None, &options,
    ///                    &mut loss)?;
    /// assert!((loss[0] - std::f64::consts::LN_2 * 0.09).abs() < 1e-15);
    /// # Ok::<(), focal_loss::FocalError>(())
    /// ```
    #[derive(Copy)]
    pub struct QualityFocalOptions {
        /// β ∈ [0, 10⁴], the focusing exponent.
        beta: f64 = 2.0,
    }
    describe(options) => Objective::QualityFocal { beta: options.beta };
}

family_options! {
    /// Varifocal loss (VarifocalNet, Zhang et al. 2021): positives (`y > 0`, an IoU-aware
    /// classification score) weighted by their own target, negatives (`y = 0`) focused:
    ///
    /// `VFL(x, y) = y·BCE(x, y)` for `y > 0`, `α·σ(x)^γ·BCE(x, 0)` for `y = 0`
    ///
    /// (mmdet's `varifocal_loss` with `iou_weighted=True`; defaults α = 0.75, γ = 2). The
    /// loss is defined by which targets are exactly 0, which label smoothing would erase: a
    /// non-zero `label_smoothing` is refused.
    ///
    /// ```
    /// use focal_loss::{sigmoid_focal_loss, Reduction, SigmoidTargets, VarifocalOptions};
    /// let options = VarifocalOptions::default().reduction(Reduction::None);
    /// let mut loss = [0.0f64; 2];
    /// sigmoid_focal_loss(&[0.0, 0.0], SigmoidTargets::Soft(&[0.6, 0.0]), None, &options,
    ///                    &mut loss)?;
    /// // y = 0.6: 0.6·BCE(0, 0.6) = 0.6·ln 2; y = 0: 0.75·(½)²·ln 2.
    /// let ln2 = std::f64::consts::LN_2;
    /// assert!((loss[0] - 0.6 * ln2).abs() < 1e-15 && (loss[1] - 0.1875 * ln2).abs() < 1e-15);
    /// # Ok::<(), focal_loss::FocalError>(())
    /// ```
    #[derive(Copy)]
    pub struct VarifocalOptions {
        /// α ∈ [0, 1], the weight of the negatives.
        alpha: f64 = 0.75,
        /// γ ∈ [0, 10⁴], the focusing of the negatives.
        gamma: f64 = 2.0,
    }
    describe(options) => Objective::Varifocal {
        alpha: options.alpha,
        gamma: options.gamma,
    };
}

family_options! {
    /// Asymmetric loss (ASL, Ben-Baruch et al. 2021), for multi-label heads with many
    /// negatives: positives and negatives are focused separately, and the probability of a
    /// negative is shifted down by a margin `m`, which discards very easy negatives
    /// altogether. With `p = σ(x)` and `p_m = max(p − m, 0)`:
    ///
    /// `ASL(x, y) = y·(1 − p)^γ₊·(−ln p) + (1 − y)·p_m^γ₋·(−ln(1 − p_m))`
    ///
    /// The defaults γ₊ = 1, γ₋ = 4, m = 0.05 are the reference implementation's
    /// (`AsymmetricLoss(gamma_neg=4, gamma_pos=1, clip=0.05)`); the paper trains with γ₊ = 0.
    /// Differences from that code: the logarithms are of the logit (no `eps` clamp), a soft
    /// target mixes the two halves linearly (the code mixes the focusing weights instead;
    /// both agree for `y ∈ {0, 1}`), and the gradient is the true one — the code can treat the
    /// focusing weight as a constant in the backward pass (`disable_torch_grad_focal_loss`).
    /// At `p = m` the negatives' loss has a kink (for γ₋ < 1 its Hessian grows without bound
    /// as `p` approaches `m` from above).
    ///
    /// ```
    /// use focal_loss::{sigmoid_focal_loss, AsymmetricOptions, Reduction, SigmoidTargets};
    /// let options = AsymmetricOptions::default().reduction(Reduction::None);
    /// let mut loss = [0.0f64; 2];
    /// sigmoid_focal_loss(&[0.0, 0.0], SigmoidTargets::Labels(&[1, 0]), None, &options,
    ///                    &mut loss)?;
    /// // p = ½: a positive ½·ln 2; a negative p_m = 0.45, 0.45⁴·(−ln 0.55).
    /// let ln2 = std::f64::consts::LN_2;
    /// assert!((loss[0] - 0.5 * ln2).abs() < 1e-16);
    /// assert!((loss[1] - 0.45f64.powi(4) * -(0.55f64.ln())).abs() < 1e-16);
    /// # Ok::<(), focal_loss::FocalError>(())
    /// ```
    #[derive(Copy)]
    pub struct AsymmetricOptions {
        /// γ₊ ∈ [0, 10⁴], the focusing of the positives.
        gamma_positive: f64 = 1.0,
        /// γ₋ ∈ [0, 10⁴], the focusing of the negatives.
        gamma_negative: f64 = 4.0,
        /// The margin `m ∈ [0, 1)` (the code's `clip`): 0 or a normal number of the element
        /// type.
        margin: f64 = 0.05,
    }
    describe(options) => Objective::Asymmetric {
        gamma_positive: options.gamma_positive,
        gamma_negative: options.gamma_negative,
        margin: options.margin,
    };
}

family_options! {
    /// Reduced focal loss (Sergievskiy & Ponamarev 2019): the focal factor only for
    /// well-classified examples, so that hard ones keep the full cross-entropy:
    ///
    /// `RFL(x, y) = α_t·((1 − p_t)/th)^γ·CE` where `p_t ≥ th`, `α_t·CE` where `p_t < th`
    ///
    /// (`CE = −ln p_t`; α as in [`SigmoidFocalOptions`](crate::SigmoidFocalOptions), off by
    /// default). The defaults γ = 2, th = 0.5 are the paper's; at th = 0.5 the loss is
    /// continuous, elsewhere it jumps at the threshold by the factor `((1 − th)/th)^γ`.
    /// Hard targets only (u8 labels or class indices), without label smoothing: the
    /// threshold is decided on the logit, `(2y − 1)·x ≥ ln(th/(1 − th))`, exactly, which a
    /// soft target's rounded `p_t` could not be.
    ///
    /// ```
    /// use focal_loss::{sigmoid_focal_loss, Reduction, ReducedFocalOptions, SigmoidTargets};
    /// let options = ReducedFocalOptions::default().reduction(Reduction::None);
    /// let mut loss = [0.0f64; 2];
    /// sigmoid_focal_loss(&[3.0, -1.0], SigmoidTargets::Labels(&[1, 1]), None, &options,
    ///                    &mut loss)?;
    /// // p_t = σ(3) ≥ ½: focused; p_t = σ(−1) < ½: plain cross-entropy ln(1 + e).
    /// let q = 1.0 / (1.0 + 3f64.exp());
    /// assert!((loss[0] - (q / 0.5).powi(2) * (-3f64).exp().ln_1p()).abs() < 1e-17);
    /// assert!((loss[1] - 1f64.exp().ln_1p()).abs() < 1e-15);
    /// # Ok::<(), focal_loss::FocalError>(())
    /// ```
    #[derive(Copy)]
    pub struct ReducedFocalOptions {
        /// γ ∈ [0, 10⁴].
        gamma: f64 = 2.0,
        /// The threshold `th ∈ (0, 1]`; `th^−γ` must be finite in the element type.
        threshold: f64 = 0.5,
        /// α ∈ [0, 1], or `None` for `α_t = 1`.
        alpha: Option<f64> = None,
    }
    describe(options) => Objective::ReducedFocal {
        gamma: options.gamma,
        threshold: options.threshold,
        alpha: options.alpha,
    };
}

family_options! {
    /// The sigmoid focal loss with one γ per class, for a multi-label head with class-index
    /// targets ([`SigmoidTargets::Classes`](crate::SigmoidTargets::Classes)): element
    /// `(row, k)` is focused by `γ_k`,
    ///
    /// `FL(x, y) = α_t·(1 − p_t)^γ_k·CE`
    ///
    /// (rare classes can be focused less than frequent ones). The other target forms have
    /// no classes and are refused; `class_gamma` needs one value per class.
    ///
    /// ```
    /// use focal_loss::{sigmoid_focal_loss, PerClassFocalOptions, Reduction, SigmoidTargets};
    /// let options = PerClassFocalOptions::default()
    ///     .class_gamma(vec![0.0, 1.0, 2.0])
    ///     .alpha(None)
    ///     .reduction(Reduction::Sum);
    /// let targets = SigmoidTargets::Classes { targets: &[2], classes: 3 };
    /// let mut loss = [0.0f64];
    /// sigmoid_focal_loss(&[0.0, 0.0, 0.0], targets, None, &options, &mut loss)?;
    /// // p_t = ½ everywhere: (½^0 + ½^1 + ½^2)·ln 2.
    /// assert!((loss[0] - 1.75 * std::f64::consts::LN_2).abs() < 1e-15);
    /// # Ok::<(), focal_loss::FocalError>(())
    /// ```
    pub struct PerClassFocalOptions {
        /// γ_k ∈ [0, 10⁴] of each class.
        class_gamma: Vec<f64> = Vec::new(),
        /// α ∈ [0, 1], or `None` for `α_t = 1`.
        alpha: Option<f64> = Some(0.25),
    }
    describe(options) => Objective::ClassFocal { alpha: options.alpha };
    class_gamma(options) => &options.class_gamma[..];
}
