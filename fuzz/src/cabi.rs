//! Target 3: the C functions, called as a C program may call them — option structs from raw
//! bytes (unknown `reduction` and `objective` values, NaN fields, any thread count), every
//! objective of the family through the sigmoid options' `objective` field and per-class γ and
//! poly-1 through the softmax options, the softmax Hessian, NULL, misaligned and overlapping
//! pointers, element counts whose byte size overflows — against the documented status, with
//! outputs untouched on error and the Rust API's bits on success. Run it under AddressSanitizer (cargo fuzz's
//! default) for undefined behaviour.

use crate::calls::{self, SENTINEL, typed};
use crate::checks::summary;
use crate::input::{
    Case, Objective, Problem, Reader, Sigmoid, SigmoidMode, Softmax, Targets, decode_from,
};
use crate::model;
use core::mem::{offset_of, size_of};
use core::ptr::{null, null_mut};
use focal_loss::ffi::{
    self, FocalObjective, FocalObjectiveCode, FocalReductionCode, FocalSigmoidOptions,
    FocalSoftmaxOptions, FocalStatus,
};
use focal_loss::{Float, FocalError, Reduction, SoftmaxAlpha};

/// The element types of the C functions.
pub trait CFloat: Float {
    /// # Safety
    /// The C function's contract.
    unsafe fn soft(
        l: *const Self,
        y: *const Self,
        w: *const Self,
        n: usize,
        o: *const FocalSigmoidOptions,
        loss: *mut Self,
        grad: *mut Self,
    ) -> FocalStatus;
    /// # Safety
    /// The C function's contract.
    unsafe fn labels(
        l: *const Self,
        y: *const u8,
        w: *const Self,
        n: usize,
        o: *const FocalSigmoidOptions,
        loss: *mut Self,
        grad: *mut Self,
    ) -> FocalStatus;
    /// # Safety
    /// The C function's contract.
    unsafe fn classes(
        l: *const Self,
        t: *const i32,
        rows: usize,
        classes: usize,
        o: *const FocalSigmoidOptions,
        loss: *mut Self,
        grad: *mut Self,
    ) -> FocalStatus;
    /// # Safety
    /// The C function's contract.
    unsafe fn grad_hess(
        l: *const Self,
        y: *const Self,
        n: usize,
        o: *const FocalSigmoidOptions,
        floor: f64,
        grad: *mut Self,
        hess: *mut Self,
    ) -> FocalStatus;
    /// # Safety
    /// The C function's contract.
    #[allow(clippy::too_many_arguments)]
    unsafe fn softmax(
        l: *const Self,
        t: *const i32,
        batch: usize,
        classes: usize,
        spatial: usize,
        alpha: *const Self,
        o: *const FocalSoftmaxOptions,
        loss: *mut Self,
        grad: *mut Self,
    ) -> FocalStatus;
    /// # Safety
    /// The C function's contract.
    #[allow(clippy::too_many_arguments)]
    unsafe fn softmax_grad_hess(
        l: *const Self,
        t: *const i32,
        batch: usize,
        classes: usize,
        spatial: usize,
        alpha: *const Self,
        o: *const FocalSoftmaxOptions,
        floor: f64,
        grad: *mut Self,
        hess: *mut Self,
    ) -> FocalStatus;
}

macro_rules! c_float {
    (
        $t:ty, $soft:ident, $labels:ident, $classes:ident, $grad_hess:ident, $softmax:ident,
        $softmax_grad_hess:ident
    ) => {
        impl CFloat for $t {
            unsafe fn soft(
                l: *const Self,
                y: *const Self,
                w: *const Self,
                n: usize,
                o: *const FocalSigmoidOptions,
                loss: *mut Self,
                grad: *mut Self,
            ) -> FocalStatus {
                // SAFETY: forwarded.
                unsafe { ffi::$soft(l, y, w, n, o, loss, grad) }
            }
            unsafe fn labels(
                l: *const Self,
                y: *const u8,
                w: *const Self,
                n: usize,
                o: *const FocalSigmoidOptions,
                loss: *mut Self,
                grad: *mut Self,
            ) -> FocalStatus {
                // SAFETY: forwarded.
                unsafe { ffi::$labels(l, y, w, n, o, loss, grad) }
            }
            unsafe fn classes(
                l: *const Self,
                t: *const i32,
                rows: usize,
                classes: usize,
                o: *const FocalSigmoidOptions,
                loss: *mut Self,
                grad: *mut Self,
            ) -> FocalStatus {
                // SAFETY: forwarded.
                unsafe { ffi::$classes(l, t, rows, classes, o, loss, grad) }
            }
            unsafe fn grad_hess(
                l: *const Self,
                y: *const Self,
                n: usize,
                o: *const FocalSigmoidOptions,
                floor: f64,
                grad: *mut Self,
                hess: *mut Self,
            ) -> FocalStatus {
                // SAFETY: forwarded.
                unsafe { ffi::$grad_hess(l, y, n, o, floor, grad, hess) }
            }
            unsafe fn softmax(
                l: *const Self,
                t: *const i32,
                batch: usize,
                classes: usize,
                spatial: usize,
                alpha: *const Self,
                o: *const FocalSoftmaxOptions,
                loss: *mut Self,
                grad: *mut Self,
            ) -> FocalStatus {
                // SAFETY: forwarded.
                unsafe { ffi::$softmax(l, t, batch, classes, spatial, alpha, o, loss, grad) }
            }
            unsafe fn softmax_grad_hess(
                l: *const Self,
                t: *const i32,
                batch: usize,
                classes: usize,
                spatial: usize,
                alpha: *const Self,
                o: *const FocalSoftmaxOptions,
                floor: f64,
                grad: *mut Self,
                hess: *mut Self,
            ) -> FocalStatus {
                // SAFETY: forwarded.
                unsafe {
                    ffi::$softmax_grad_hess(
                        l, t, batch, classes, spatial, alpha, o, floor, grad, hess,
                    )
                }
            }
        }
    };
}

c_float!(
    f32,
    focal_sigmoid_f32,
    focal_sigmoid_labels_f32,
    focal_sigmoid_classes_f32,
    focal_sigmoid_grad_hess_f32,
    focal_softmax_f32,
    focal_softmax_grad_hess_f32
);
c_float!(
    f64,
    focal_sigmoid_f64,
    focal_sigmoid_labels_f64,
    focal_sigmoid_classes_f64,
    focal_sigmoid_grad_hess_f64,
    focal_softmax_f64,
    focal_softmax_grad_hess_f64
);

/// The pointers of a call, by role (`Weights` is also softmax's `class_alpha`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Role {
    Logits,
    Targets,
    Weights,
    Options,
    Loss,
    Grad,
    Hess,
    /// The options' `class_gamma` (NULL: no per-class γ).
    ClassGamma,
}

const ROLES: [Role; 8] = [
    Role::Logits,
    Role::Targets,
    Role::Weights,
    Role::Options,
    Role::Loss,
    Role::Grad,
    Role::Hess,
    Role::ClassGamma,
];

/// The bytes of the option structs the fuzzer can write raw: every field before the
/// `class_gamma` pointer (which must point to `classes` values or be NULL).
const RAW_OPTIONS: usize = offset_of!(FocalSigmoidOptions, class_gamma);

/// How the C call departs from a plain one.
#[derive(Debug)]
struct Abuse {
    /// Roles passed as NULL.
    null: Vec<Role>,
    /// A role whose pointer is moved by 1–3 bytes (misaligned for every element type).
    misaligned: Option<Role>,
    /// An output that points into another buffer of the call.
    overlap: Option<(Role, Role)>,
    /// The element count (or a dimension) replaced by one whose size overflows.
    overflow: bool,
    /// The option struct's bytes, raw (up to its `class_gamma` pointer).
    raw_options: Option<[u8; RAW_OPTIONS]>,
    /// The sigmoid options' `objective` code, replaced (after the raw bytes): the known ones
    /// and unknown ones.
    objective_code: Option<u32>,
    threads: u32,
}

fn role(r: &mut Reader<'_>) -> Role {
    ROLES[usize::from(r.u8()) % ROLES.len()]
}

fn abuse(r: &mut Reader<'_>) -> Abuse {
    let flags = r.u8();
    let mut null = Vec::new();
    if flags & 1 != 0 {
        let mask = r.u8();
        null = ROLES
            .iter()
            .enumerate()
            .filter(|(i, _)| mask & (1 << i) != 0)
            .map(|(_, &r)| r)
            .collect();
    }
    let misaligned = (flags & 2 != 0).then(|| role(r));
    let overlap = (flags & 4 != 0).then(|| (role(r), role(r)));
    let overflow = flags & 8 != 0;
    let raw_options = (flags & 16 != 0).then(|| core::array::from_fn(|_| r.u8()));
    let objective_code = (flags & 32 != 0).then(|| match r.u8() {
        0..=191 => u32::from(r.u8() % 10),
        _ => r.u32(),
    });
    let threads = match r.u8() {
        0..=127 => 0,
        128..=191 => u32::from(r.u8() % 4),
        _ => r.u32(),
    };
    Abuse {
        null,
        misaligned,
        overlap,
        overflow,
        raw_options,
        objective_code,
        threads,
    }
}

/// The case of a c_abi input (its departures from a plain call come first and are skipped).
pub fn decode(data: &[u8]) -> Case {
    let mut r = Reader::new(data);
    let _ = abuse(&mut r);
    decode_from(&mut r)
}

/// Entry point of the target.
pub fn c_abi(data: &[u8]) {
    let mut r = Reader::new(data);
    let abuse = abuse(&mut r);
    let case = decode_from(&mut r);
    if case.huge() {
        return;
    }
    if case.single {
        call::<f32>(&case, &abuse);
    } else {
        call::<f64>(&case, &abuse);
    }
}

/// The bytes of an options struct, raw where the fuzzer says so: its first `prefix` bytes,
/// every field before the `class_gamma` pointer (which keeps its plain value).
fn options_from<O: Copy>(plain: O, raw: Option<[u8; RAW_OPTIONS]>, prefix: usize) -> O {
    let Some(raw) = raw else { return plain };
    let len = prefix.min(raw.len()).min(size_of::<O>());
    let mut value = plain;
    // SAFETY: the prefix holds only f64, i32, u32 and the u32 reduction and objective codes,
    // for which every bit pattern is a valid value; `raw` and `value` have at least `len`
    // bytes.
    unsafe {
        core::ptr::copy_nonoverlapping(raw.as_ptr(), (&raw mut value).cast::<u8>(), len);
    }
    value
}

fn reduction_code(reduction: Reduction) -> FocalReductionCode {
    FocalReductionCode(match reduction {
        Reduction::None => 0,
        Reduction::Sum => 1,
        Reduction::Mean => 2,
    })
}

/// The Rust reduction of a C code, or `None` for an unknown value.
fn reduction_of(code: FocalReductionCode) -> Option<Reduction> {
    match code.0 {
        0 => Some(Reduction::None),
        1 => Some(Reduction::Sum),
        2 => Some(Reduction::Mean),
        _ => None,
    }
}

/// Storage for one buffer of `len` elements of `E`, with room to misalign its pointer.
struct Buffer<E> {
    storage: Vec<E>,
    len: usize,
}

impl<E: Copy> Buffer<E> {
    fn new(values: &[E], fill: E) -> Self {
        let mut storage = values.to_vec();
        storage.push(fill);
        storage.push(fill);
        Self {
            storage,
            len: values.len(),
        }
    }
    fn values(&self) -> &[E] {
        &self.storage[..self.len]
    }
    fn ptr(&mut self, misalign: bool) -> *mut E {
        let base = self.storage.as_mut_ptr();
        if misalign {
            base.cast::<u8>().wrapping_add(1).cast()
        } else {
            base
        }
    }
}

/// The C options' α: a negative value switches it off; anything else (NaN and > 1 too) is
/// handed to the Rust validation.
fn alpha_is_on(alpha: f64) -> bool {
    alpha >= 0.0 || alpha.is_nan()
}

/// Every objective of the C API.
const OBJECTIVES: [FocalObjective; 7] = [
    FocalObjective::Focal,
    FocalObjective::FocalStar,
    FocalObjective::Poly1,
    FocalObjective::Asymmetric,
    FocalObjective::QualityFocal,
    FocalObjective::Varifocal,
    FocalObjective::ReducedFocal,
];

/// The C options of a sigmoid case: its objective's code and parameters (the header names
/// which fields each reads), the other fields at their defaults, `class_gamma` NULL.
fn sigmoid_options_of(s: &Sigmoid, threads: u32) -> FocalSigmoidOptions {
    let mut options = FocalSigmoidOptions {
        gamma: s.gamma,
        alpha: s.alpha.unwrap_or(-1.0),
        label_smoothing: s.label_smoothing,
        reduction: reduction_code(s.reduction),
        normalizer: s.normalizer.unwrap_or(0.0),
        threads,
        ..ffi::focal_sigmoid_options_default()
    };
    let objective = match &s.objective {
        // Per-class γ is the focal loss with `class_gamma`.
        Objective::Focal | Objective::PerClassFocal { .. } => FocalObjective::Focal,
        Objective::FocalStar { beta } => {
            options.beta = *beta;
            FocalObjective::FocalStar
        }
        Objective::Poly1Focal { epsilon } => {
            options.epsilon = *epsilon;
            FocalObjective::Poly1
        }
        Objective::QualityFocal => FocalObjective::QualityFocal,
        Objective::Varifocal { alpha } => {
            options.alpha = *alpha;
            FocalObjective::Varifocal
        }
        Objective::Asymmetric {
            gamma_negative,
            margin,
        } => {
            options.gamma_negative = *gamma_negative;
            options.margin = *margin;
            FocalObjective::Asymmetric
        }
        Objective::ReducedFocal { threshold } => {
            options.threshold = *threshold;
            FocalObjective::ReducedFocal
        }
    };
    options.objective = objective.into();
    options
}

/// The objective a C sigmoid function computes from `options` and the per-class γ its
/// `class_gamma` points to, as the header documents it; `None` where the call is refused
/// (`FOCAL_ERROR_INVALID_ARGUMENT`): an unknown code, or `class_gamma` with another objective
/// than the focal loss or a function that takes no class indices.
fn objective_of(
    options: &FocalSigmoidOptions,
    class_gamma: Option<Vec<f64>>,
    takes_classes: bool,
) -> Option<Objective> {
    let known = OBJECTIVES
        .into_iter()
        .find(|&o| FocalObjectiveCode::from(o) == options.objective)?;
    Some(match (known, class_gamma) {
        (FocalObjective::Focal, Some(class_gamma)) if takes_classes => {
            Objective::PerClassFocal { class_gamma }
        }
        (_, Some(_)) => return None,
        (FocalObjective::Focal, None) => Objective::Focal,
        (FocalObjective::FocalStar, None) => Objective::FocalStar { beta: options.beta },
        (FocalObjective::Poly1, None) => Objective::Poly1Focal {
            epsilon: options.epsilon,
        },
        (FocalObjective::Asymmetric, None) => Objective::Asymmetric {
            gamma_negative: options.gamma_negative,
            margin: options.margin,
        },
        (FocalObjective::QualityFocal, None) => Objective::QualityFocal,
        // Its α is not optional: a negative one is refused, not "off".
        (FocalObjective::Varifocal, None) => Objective::Varifocal {
            alpha: options.alpha,
        },
        (FocalObjective::ReducedFocal, None) => Objective::ReducedFocal {
            threshold: options.threshold,
        },
    })
}

/// The per-class γ a C call is given: the case's values, `classes` of them where the function
/// reads them (padded with 2), or `None` without per-class γ.
fn class_gamma_values(values: Option<&[f64]>, classes: Option<usize>) -> Option<Vec<f64>> {
    values.map(|v| {
        let mut v = v.to_vec();
        if let Some(classes) = classes {
            v.resize(classes, 2.0);
        }
        v
    })
}

/// The status the documentation gives to a Rust-level error.
fn status_of(error: &str) -> FocalStatus {
    match error {
        "LabelOutOfRange" | "SigmoidClassOutOfRange" | "SoftmaxClassOutOfRange" => {
            FocalStatus::FocalErrorTargetOutOfRange
        }
        "EmptyDimension" | "SizeOverflow" | "LengthMismatch" | "OutputLength" => {
            FocalStatus::FocalErrorLength
        }
        _ => FocalStatus::FocalErrorInvalidArgument,
    }
}

/// The pointer a C call gets for `buffer` in `role`: NULL, misaligned or plain, as the
/// fuzzer's abuse says.
fn pointer<E: Copy>(buffer: &mut Buffer<E>, abuse: &Abuse, role: Role) -> *mut E {
    if abuse.null.contains(&role) {
        null_mut()
    } else {
        buffer.ptr(abuse.misaligned == Some(role))
    }
}

/// The options pointer: NULL, 4 bytes off (misaligned for its f64 fields) or plain.
fn options_pointer<O>(storage: &[O; 2], abuse: &Abuse) -> *const O {
    if abuse.null.contains(&Role::Options) {
        null()
    } else if abuse.misaligned == Some(Role::Options) {
        storage.as_ptr().cast::<u8>().wrapping_add(4).cast()
    } else {
        &storage[0]
    }
}

/// Points an output at another buffer of the call, as the fuzzer's overlap says, when both
/// are passed and hold elements (`buffers` and `outputs` list only those). Returns whether it
/// did: the call must then be refused.
fn overlap<T>(
    abuse: &Abuse,
    buffers: &[(Role, *mut T)],
    outputs: &mut [(Role, &mut *mut T)],
) -> bool {
    let Some((out, other)) = abuse.overlap else {
        return false;
    };
    let target = buffers
        .iter()
        .find(|(role, _)| *role == other && other != out);
    let slot = outputs.iter_mut().find(|(role, _)| *role == out);
    match (target, slot) {
        (Some(&(_, target)), Some((_, slot))) => {
            **slot = target;
            true
        }
        _ => false,
    }
}

fn call<T: CFloat>(case: &Case, abuse: &Abuse) {
    match &case.problem {
        Problem::Sigmoid(s) => sigmoid::<T>(case, s, abuse),
        Problem::Softmax(s) => softmax::<T>(case, s, abuse),
    }
}

/// Checks the status and the outputs of a C call against what is expected.
#[allow(clippy::too_many_arguments)]
fn judge<T: Float>(
    case: &Case,
    abuse: &Abuse,
    status: FocalStatus,
    expected: &[FocalStatus],
    outputs: &[(&str, &Buffer<T>)],
    rust: Option<(Result<(), FocalError>, calls::Outputs)>,
) {
    if status != FocalStatus::FocalOk {
        assert!(
            expected.contains(&status),
            "status {status:?}, but the documented ones here are {expected:?} ({abuse:?}): {}",
            summary(case)
        );
        for (name, buffer) in outputs {
            assert!(
                buffer
                    .storage
                    .iter()
                    .all(|v| v.to_f64().to_bits() == SENTINEL.to_bits()),
                "{status:?} but `{name}` was written ({abuse:?}): {}",
                summary(case)
            );
        }
        return;
    }
    assert!(
        expected.is_empty(),
        "FOCAL_OK, but the documented statuses are {expected:?} ({abuse:?}): {}",
        summary(case)
    );
    let Some((result, want)) = rust else { return };
    assert!(
        result.is_ok(),
        "FOCAL_OK, but the Rust API refused it with {result:?}: {}",
        summary(case)
    );
    for (name, buffer) in outputs {
        let want = match *name {
            "loss" => &want.loss,
            "grad" => &want.grad,
            _ => &want.hess,
        };
        let got: Vec<u64> = buffer
            .values()
            .iter()
            .map(|v| v.to_f64().to_bits())
            .collect();
        let want: Vec<u64> = want.iter().map(|v| v.to_bits()).collect();
        assert!(
            got == want,
            "`{name}` differs from the Rust API's bits: {}",
            summary(case)
        );
    }
}

/// C-level statuses shared by the sigmoid and softmax functions.
fn pointer_statuses(
    abuse: &Abuse,
    required: &[Role],
    present: &[Role],
    expected: &mut Vec<FocalStatus>,
) {
    if required.iter().any(|r| abuse.null.contains(r)) {
        expected.push(FocalStatus::FocalErrorNullPointer);
    }
    if let Some(role) = abuse.misaligned
        && present.contains(&role)
        && !abuse.null.contains(&role)
    {
        expected.push(FocalStatus::FocalErrorInvalidArgument);
    }
}

fn sigmoid<T: CFloat>(case: &Case, s: &Sigmoid, abuse: &Abuse) {
    let grad_hess = matches!(s.mode, SigmoidMode::GradHess { .. })
        && !matches!(s.targets, Targets::Classes { .. });
    // The C functions have no output lengths, and weights only with soft targets and labels.
    let mut s = s.clone();
    s.output_skew = 0;
    if matches!(s.targets, Targets::Classes { .. }) || grad_hess {
        s.weights = None;
    }
    if let (true, Targets::Labels(y)) = (grad_hess, &s.targets) {
        s.targets = Targets::Soft(y.iter().map(|&v| f64::from(v)).collect());
    }
    if !grad_hess && matches!(s.mode, SigmoidMode::GradHess { .. }) {
        s.mode = SigmoidMode::LossGrad;
    }
    // One element count for every array: the C functions cannot express a mismatch.
    let n = match &mut s.targets {
        Targets::Soft(y) => {
            y.resize(s.logits.len(), 0.0);
            s.logits.len()
        }
        Targets::Labels(y) => {
            y.resize(s.logits.len(), 0);
            s.logits.len()
        }
        Targets::Classes { targets, classes } => {
            s.logits.resize(targets.len() * *classes, 0.0);
            s.logits.len()
        }
    };
    if let Some(w) = &mut s.weights {
        w.resize(n, 1.0);
    }
    let classes = match &s.targets {
        Targets::Classes { classes, .. } => Some(*classes),
        _ => None,
    };
    // Per-class γ: the values `class_gamma` points to (unless the fuzzer passes NULL).
    let gamma_values = class_gamma_values(
        match &s.objective {
            Objective::PerClassFocal { class_gamma } => Some(class_gamma),
            _ => None,
        },
        classes,
    );
    let with_class_gamma = gamma_values.is_some() && !abuse.null.contains(&Role::ClassGamma);
    let mut class_gamma = Buffer::new(gamma_values.as_deref().unwrap_or_default(), 0.0f64);
    let plain = FocalSigmoidOptions {
        class_gamma: if with_class_gamma {
            class_gamma.ptr(abuse.misaligned == Some(Role::ClassGamma))
        } else {
            null()
        },
        ..sigmoid_options_of(&s, abuse.threads)
    };
    let mut options = options_from(plain, abuse.raw_options, RAW_OPTIONS);
    if let Some(code) = abuse.objective_code {
        options.objective = FocalObjectiveCode(code);
    }
    let mut expected = Vec::new();
    // The case as the C function reads its options.
    s.gamma = options.gamma;
    s.alpha = alpha_is_on(options.alpha).then_some(options.alpha);
    s.label_smoothing = options.label_smoothing;
    s.normalizer = (options.normalizer != 0.0).then_some(options.normalizer);
    let passed_gamma = gamma_values.filter(|_| with_class_gamma);
    s.objective = objective_of(&options, passed_gamma, classes.is_some()).unwrap_or_else(|| {
        expected.push(FocalStatus::FocalErrorInvalidArgument);
        // Refused whatever the rest of the case: any objective stands for it.
        Objective::Focal
    });
    let floor = match s.mode {
        SigmoidMode::GradHess { floor } => floor.unwrap_or(f64::NEG_INFINITY),
        _ => f64::NEG_INFINITY,
    };
    if let SigmoidMode::GradHess { .. } = s.mode {
        s.mode = SigmoidMode::GradHess {
            floor: (floor != f64::NEG_INFINITY).then_some(floor),
        };
    }
    let reduction = reduction_of(options.reduction);
    match reduction {
        Some(r) => s.reduction = r,
        None if !grad_hess => expected.push(FocalStatus::FocalErrorInvalidArgument),
        None => s.reduction = Reduction::None,
    }
    let with_weights = s.weights.is_some() && !abuse.null.contains(&Role::Weights);
    if !with_weights {
        s.weights = None;
    }
    let mut required = vec![Role::Logits, Role::Targets, Role::Options];
    // u8 labels cannot be misaligned: their plain pointer is passed.
    let mut present = vec![Role::Logits, Role::Options, Role::Grad];
    if !matches!(s.targets, Targets::Labels(_)) {
        present.push(Role::Targets);
    }
    if with_class_gamma {
        present.push(Role::ClassGamma);
    }
    if grad_hess {
        required.extend([Role::Grad, Role::Hess]);
        present.push(Role::Hess);
    } else {
        present.push(Role::Loss);
        if s.weights.is_some() {
            present.push(Role::Weights);
        }
    }
    // Which outputs the plain call writes: loss+grad, loss (grad NULL) or grad (loss NULL).
    let null_loss = !grad_hess && abuse.null.contains(&Role::Loss);
    let null_grad = abuse.null.contains(&Role::Grad);
    if !grad_hess && null_loss && null_grad {
        expected.push(FocalStatus::FocalErrorInvalidArgument);
    }
    pointer_statuses(abuse, &required, &present, &mut expected);

    let logits_t: Vec<T> = typed(&s.logits);
    let sentinel = T::from_f64(SENTINEL);
    let loss_len = if s.reduction == Reduction::None || grad_hess {
        n
    } else {
        1
    };
    let mut logits = Buffer::new(&logits_t, T::default());
    let mut soft = Buffer::new(
        &typed::<T>(match &s.targets {
            Targets::Soft(y) => y,
            _ => &[],
        }),
        T::default(),
    );
    let mut labels = Buffer::new(
        match &s.targets {
            Targets::Labels(y) => y,
            _ => &[],
        },
        0u8,
    );
    let mut class_targets = Buffer::new(
        match &s.targets {
            Targets::Classes { targets, .. } => targets,
            _ => &[],
        },
        0i32,
    );
    let mut weights = Buffer::new(
        &typed::<T>(s.weights.as_deref().unwrap_or(&[])),
        T::default(),
    );
    let mut loss = Buffer::new(
        &vec![sentinel; if grad_hess { 0 } else { loss_len }],
        sentinel,
    );
    let mut grad = Buffer::new(&vec![sentinel; n], sentinel);
    let mut hess = Buffer::new(&vec![sentinel; if grad_hess { n } else { 0 }], sentinel);

    let is_null = |role: Role| abuse.null.contains(&role);
    let logits_ptr: *const T = pointer(&mut logits, abuse, Role::Logits);
    let mut loss_ptr: *mut T = if grad_hess {
        null_mut()
    } else {
        pointer(&mut loss, abuse, Role::Loss)
    };
    let mut grad_ptr: *mut T = pointer(&mut grad, abuse, Role::Grad);
    let mut hess_ptr: *mut T = if grad_hess {
        pointer(&mut hess, abuse, Role::Hess)
    } else {
        null_mut()
    };
    let weights_ptr: *const T = if with_weights {
        weights.ptr(abuse.misaligned == Some(Role::Weights))
    } else {
        null()
    };
    let options_storage = [options, options];
    let options_ptr = options_pointer(&options_storage, abuse);
    // The buffers of the call's element type that are passed and hold elements.
    let mut buffers = Vec::new();
    if !logits_ptr.is_null() && n > 0 {
        buffers.push((Role::Logits, logits.ptr(false)));
    }
    if with_weights && n > 0 {
        buffers.push((Role::Weights, weights.ptr(false)));
    }
    if !is_null(Role::Targets) && matches!(s.targets, Targets::Soft(_)) && n > 0 {
        buffers.push((Role::Targets, soft.ptr(false)));
    }
    // The f64 values of `class_gamma`, which an output of either type can overlap.
    if with_class_gamma && class_gamma.len > 0 {
        buffers.push((Role::ClassGamma, class_gamma.ptr(false).cast::<T>()));
    }
    let mut outputs: Vec<(Role, &mut *mut T)> = Vec::new();
    for (role, ptr, len, buffer) in [
        (Role::Loss, &mut loss_ptr, loss_len, &mut loss),
        (Role::Grad, &mut grad_ptr, n, &mut grad),
        (Role::Hess, &mut hess_ptr, n, &mut hess),
    ] {
        if !ptr.is_null() && len > 0 {
            buffers.push((role, buffer.ptr(false)));
            outputs.push((role, ptr));
        }
    }
    if overlap(abuse, &buffers, &mut outputs) {
        expected.push(FocalStatus::FocalErrorInvalidArgument);
    }
    // An element count whose byte size overflows (refused before anything is read).
    let huge = isize::MAX as usize / size_of::<T>() + 1;
    let count = if abuse.overflow { huge } else { n };
    let (rows, classes) = match &s.targets {
        Targets::Classes { targets, classes } => {
            if abuse.overflow {
                (usize::MAX / 2, (*classes).max(3))
            } else {
                (targets.len(), *classes)
            }
        }
        _ => (0, 0),
    };
    if abuse.overflow {
        expected.push(FocalStatus::FocalErrorLength);
    }

    // The documented Rust-level errors of the case as the C call has it.
    let rust_errors = model::sigmoid_errors::<T>(&s);
    expected.extend(rust_errors.iter().map(|e| status_of(e)));
    let targets_null = is_null(Role::Targets);
    let status = match &s.targets {
        Targets::Soft(_) if grad_hess => {
            let y: *const T = pointer(&mut soft, abuse, Role::Targets);
            // SAFETY: every pointer is NULL, or valid for the counts passed (or the count
            // overflows and is refused before any read); misaligned and overlapping ones
            // are refused before a slice is built.
            unsafe { T::grad_hess(logits_ptr, y, count, options_ptr, floor, grad_ptr, hess_ptr) }
        }
        Targets::Soft(_) => {
            let y: *const T = pointer(&mut soft, abuse, Role::Targets);
            // SAFETY: as above.
            unsafe {
                T::soft(
                    logits_ptr,
                    y,
                    weights_ptr,
                    count,
                    options_ptr,
                    loss_ptr,
                    grad_ptr,
                )
            }
        }
        Targets::Labels(_) => {
            let y: *const u8 = if targets_null {
                null()
            } else {
                labels.ptr(false)
            };
            // SAFETY: as above (a u8 pointer is never misaligned).
            unsafe {
                T::labels(
                    logits_ptr,
                    y,
                    weights_ptr,
                    count,
                    options_ptr,
                    loss_ptr,
                    grad_ptr,
                )
            }
        }
        Targets::Classes { .. } => {
            let t: *const i32 = pointer(&mut class_targets, abuse, Role::Targets);
            // SAFETY: as above.
            unsafe {
                T::classes(
                    logits_ptr,
                    t,
                    rows,
                    classes,
                    options_ptr,
                    loss_ptr,
                    grad_ptr,
                )
            }
        }
    };
    // On success, the same bits as the Rust API for the outputs that were asked for.
    let rust = (status == FocalStatus::FocalOk).then(|| {
        if !grad_hess && null_grad {
            s.mode = SigmoidMode::Loss;
        } else if !grad_hess {
            s.mode = SigmoidMode::LossGrad;
        }
        calls::sigmoid_api::<T>(&s)
    });
    let mut outputs: Vec<(&str, &Buffer<T>)> = Vec::new();
    if grad_hess {
        outputs.push(("grad", &grad));
        outputs.push(("hess", &hess));
    } else {
        if !null_loss {
            outputs.push(("loss", &loss));
        }
        if !null_grad {
            outputs.push(("grad", &grad));
        }
    }
    judge(case, abuse, status, &expected, &outputs, rust);
}

fn softmax<T: CFloat>(case: &Case, s: &Softmax, abuse: &Abuse) {
    let mut s = s.clone();
    s.output_skew = 0;
    // The Hessian functions write the Hessian where the others write the loss.
    let hessian = s.hessian;
    let second = if hessian { Role::Hess } else { Role::Loss };
    // The C function reads as many logits and targets as the shape says.
    s.logits.resize(s.batch * s.spatial * s.classes, 0.0);
    s.targets.resize(s.batch * s.spatial, 0);
    let class_alpha: Option<Vec<f64>> = match &s.alpha {
        SoftmaxAlpha::PerClass(v) => Some(v.clone()),
        _ => None,
    };
    let gamma_values = class_gamma_values(s.class_gamma.as_deref(), Some(s.classes));
    let with_class_gamma = gamma_values.is_some() && !abuse.null.contains(&Role::ClassGamma);
    let mut class_gamma = Buffer::new(gamma_values.as_deref().unwrap_or_default(), 0.0f64);
    let plain = FocalSoftmaxOptions {
        gamma: s.gamma,
        alpha: match s.alpha {
            SoftmaxAlpha::Uniform(a) => a,
            _ => -1.0,
        },
        label_smoothing: s.label_smoothing,
        reduction: reduction_code(s.reduction),
        normalizer: s.normalizer.unwrap_or(0.0),
        ignore_index: s.ignore_index,
        threads: abuse.threads,
        epsilon: s.epsilon,
        class_gamma: if with_class_gamma {
            class_gamma.ptr(abuse.misaligned == Some(Role::ClassGamma))
        } else {
            null()
        },
    };
    let options = options_from(
        plain,
        abuse.raw_options,
        offset_of!(FocalSoftmaxOptions, class_gamma),
    );
    let with_class_alpha = class_alpha.is_some() && !abuse.null.contains(&Role::Weights);
    let mut expected = Vec::new();
    s.gamma = options.gamma;
    s.label_smoothing = options.label_smoothing;
    s.normalizer = (options.normalizer != 0.0).then_some(options.normalizer);
    s.ignore_index = options.ignore_index;
    s.epsilon = options.epsilon;
    s.class_gamma = gamma_values.filter(|_| with_class_gamma);
    let alpha_on = alpha_is_on(options.alpha);
    if with_class_alpha && alpha_on {
        expected.push(FocalStatus::FocalErrorInvalidArgument);
    }
    // Class α crosses the C boundary in the element type.
    s.alpha = match (with_class_alpha, alpha_on) {
        (true, _) => SoftmaxAlpha::PerClass(
            class_alpha
                .as_deref()
                .unwrap_or(&[])
                .iter()
                .map(|&a| model::round::<T>(a))
                .collect(),
        ),
        (false, true) => SoftmaxAlpha::Uniform(options.alpha),
        (false, false) => SoftmaxAlpha::Off,
    };
    match reduction_of(options.reduction) {
        Some(r) => s.reduction = r,
        // The Hessian functions use no reduction: any code is no error there.
        None if hessian => {}
        None => expected.push(FocalStatus::FocalErrorInvalidArgument),
    }
    let is_null = |role: Role| abuse.null.contains(&role);
    let misaligned = |role: Role| abuse.misaligned == Some(role);
    let null_loss = is_null(second);
    let null_grad = is_null(Role::Grad);
    if null_loss && null_grad && !hessian {
        expected.push(FocalStatus::FocalErrorInvalidArgument);
    }
    let mut present = vec![
        Role::Logits,
        Role::Targets,
        Role::Options,
        second,
        Role::Grad,
    ];
    if with_class_alpha {
        present.push(Role::Weights);
    }
    if with_class_gamma {
        present.push(Role::ClassGamma);
    }
    let required: &[Role] = if hessian {
        &[
            Role::Logits,
            Role::Targets,
            Role::Options,
            Role::Grad,
            Role::Hess,
        ]
    } else {
        &[Role::Logits, Role::Targets, Role::Options]
    };
    pointer_statuses(abuse, required, &present, &mut expected);
    let positions = s.batch * s.spatial;
    let n = positions * s.classes;
    let loss_len = if hessian {
        n
    } else if s.reduction == Reduction::None {
        positions
    } else {
        1
    };
    let sentinel = T::from_f64(SENTINEL);
    let mut logits = Buffer::new(&typed::<T>(&s.logits), T::default());
    let mut targets = Buffer::new(&s.targets, 0i32);
    // The C function reads `classes` values of class α: give it what the case has, padded.
    let mut alpha_values: Vec<T> = typed(class_alpha.as_deref().unwrap_or(&[]));
    alpha_values.resize(alpha_values.len().max(s.classes), T::default());
    let mut alpha_buffer = Buffer::new(&alpha_values, T::default());
    if let (true, Some(v)) = (with_class_alpha, &class_alpha) {
        // The C call cannot express a wrong length: it reads `classes` values.
        let mut padded: Vec<f64> = v.iter().map(|&a| model::round::<T>(a)).collect();
        padded.resize(s.classes, 0.0);
        s.alpha = SoftmaxAlpha::PerClass(padded);
    }
    let mut loss = Buffer::new(&vec![sentinel; loss_len], sentinel);
    let mut grad = Buffer::new(&vec![sentinel; n], sentinel);
    let logits_ptr: *const T = pointer(&mut logits, abuse, Role::Logits);
    let targets_ptr: *const i32 = pointer(&mut targets, abuse, Role::Targets);
    let alpha_ptr: *const T = if with_class_alpha {
        alpha_buffer.ptr(misaligned(Role::Weights))
    } else {
        null()
    };
    let mut loss_ptr: *mut T = pointer(&mut loss, abuse, second);
    let mut grad_ptr: *mut T = pointer(&mut grad, abuse, Role::Grad);
    let options_storage = [options, options];
    let options_ptr = options_pointer(&options_storage, abuse);
    let mut buffers = Vec::new();
    if !logits_ptr.is_null() && n > 0 {
        buffers.push((Role::Logits, logits.ptr(false)));
    }
    if with_class_alpha && s.classes > 0 {
        buffers.push((Role::Weights, alpha_buffer.ptr(false)));
    }
    if with_class_gamma && s.classes > 0 {
        buffers.push((Role::ClassGamma, class_gamma.ptr(false).cast::<T>()));
    }
    let mut outputs: Vec<(Role, &mut *mut T)> = Vec::new();
    for (role, ptr, len, buffer) in [
        (second, &mut loss_ptr, loss_len, &mut loss),
        (Role::Grad, &mut grad_ptr, n, &mut grad),
    ] {
        if !ptr.is_null() && len > 0 {
            buffers.push((role, buffer.ptr(false)));
            outputs.push((role, ptr));
        }
    }
    if overlap(abuse, &buffers, &mut outputs) {
        expected.push(FocalStatus::FocalErrorInvalidArgument);
    }
    let (batch, spatial) = if abuse.overflow {
        (usize::MAX / 2 + 1, 2.max(s.spatial))
    } else {
        (s.batch, s.spatial)
    };
    if abuse.overflow {
        expected.push(FocalStatus::FocalErrorLength);
    }
    expected.extend(model::softmax_errors::<T>(&s).iter().map(|e| status_of(e)));
    // SAFETY: every pointer is NULL or valid for the counts passed (or they overflow and are
    // refused before any read); misaligned and overlapping ones are refused first.
    let status = unsafe {
        if hessian {
            <T as CFloat>::softmax_grad_hess(
                logits_ptr,
                targets_ptr,
                batch,
                s.classes,
                spatial,
                alpha_ptr,
                options_ptr,
                s.hessian_floor.unwrap_or(f64::NEG_INFINITY),
                grad_ptr,
                loss_ptr,
            )
        } else {
            <T as CFloat>::softmax(
                logits_ptr,
                targets_ptr,
                batch,
                s.classes,
                spatial,
                alpha_ptr,
                options_ptr,
                loss_ptr,
                grad_ptr,
            )
        }
    };
    let rust = (status == FocalStatus::FocalOk).then(|| {
        s.grad = !null_grad;
        calls::softmax_api::<T>(&s)
    });
    let mut outputs: Vec<(&str, &Buffer<T>)> = Vec::new();
    if !null_loss {
        outputs.push((if hessian { "hess" } else { "loss" }, &loss));
    }
    if !null_grad {
        outputs.push(("grad", &grad));
    }
    judge(case, abuse, status, &expected, &outputs, rust);
}
