//! Every invalid argument is refused with its specific error, and no output is written.

use focal_loss::{
    FocalError, Reduction, SigmoidFocalOptions, SigmoidTargets, SoftmaxFocalOptions, SoftmaxShape,
    sigmoid_focal_grad_hess, sigmoid_focal_loss, sigmoid_focal_loss_grad, softmax_focal_grad_hess,
    softmax_focal_loss, softmax_focal_loss_grad,
};

const SENTINEL: f32 = -12345.0;

/// The loss-only functions take no gradient buffer, so they cannot refuse its length.
fn is_grad_length(error: &FocalError) -> bool {
    matches!(
        error,
        FocalError::OutputLength {
            argument: "grad",
            ..
        }
    )
}

/// Runs the fused sigmoid call on sentinel-filled buffers of the given lengths and checks
/// that it fails with `expected` and leaves both buffers untouched.
fn sigmoid_refuses(
    logits: &[f32],
    targets: SigmoidTargets<'_, f32>,
    weights: Option<&[f32]>,
    options: &SigmoidFocalOptions,
    loss_len: usize,
    grad_len: usize,
    expected: FocalError,
) {
    let mut loss = vec![SENTINEL; loss_len];
    let mut grad = vec![SENTINEL; grad_len];
    let err = sigmoid_focal_loss_grad(logits, targets, weights, options, &mut loss, &mut grad)
        .unwrap_err();
    assert_eq!(err, expected.clone());
    assert!(!err.to_string().is_empty());
    assert!(loss.iter().chain(&grad).all(|&v| v == SENTINEL));
    // The loss-only entry point refuses the same call and writes nothing either.
    if !is_grad_length(&expected) {
        let err = sigmoid_focal_loss(logits, targets, weights, options, &mut loss);
        assert_eq!(err, Err(expected));
        assert!(loss.iter().all(|&v| v == SENTINEL));
    }
}

fn softmax_refuses(
    logits: &[f32],
    targets: &[i32],
    shape: SoftmaxShape,
    options: &SoftmaxFocalOptions,
    loss_len: usize,
    grad_len: usize,
    expected: FocalError,
) {
    let mut loss = vec![SENTINEL; loss_len];
    let mut grad = vec![SENTINEL; grad_len];
    let err =
        softmax_focal_loss_grad(logits, targets, shape, options, &mut loss, &mut grad).unwrap_err();
    assert_eq!(err, expected.clone());
    assert!(!err.to_string().is_empty());
    assert!(loss.iter().chain(&grad).all(|&v| v == SENTINEL));
    if !is_grad_length(&expected) {
        let err = softmax_focal_loss(logits, targets, shape, options, &mut loss);
        assert_eq!(err, Err(expected.clone()));
        assert!(loss.iter().all(|&v| v == SENTINEL));
    }
    // The per-position gradient and Hessian take no loss and use no reduction: every other
    // error is theirs too, and they write nothing either.
    let per_position = matches!(
        expected,
        FocalError::OutputLength {
            argument: "loss",
            ..
        } | FocalError::InvalidNormalizer(_)
            | FocalError::NormalizerNeedsMean { .. }
    );
    if !per_position {
        let mut hess = vec![SENTINEL; grad_len];
        let err =
            softmax_focal_grad_hess(logits, targets, shape, options, None, &mut grad, &mut hess);
        assert_eq!(err, Err(expected));
        assert!(grad.iter().chain(&hess).all(|&v| v == SENTINEL));
    }
}

#[test]
fn softmax_hessian_needs_one_hot_targets_and_a_floor() {
    let logits = [0.5f32, -1.0, 2.0, 0.0, 1.0, 3.0];
    let shape = SoftmaxShape::rows(2, 3);
    let run = |options: &SoftmaxFocalOptions, floor: Option<f64>, hess_len: usize| {
        let (mut grad, mut hess) = (vec![SENTINEL; 6], vec![SENTINEL; hess_len]);
        let result = softmax_focal_grad_hess(
            &logits,
            &[0, 2],
            shape,
            options,
            floor,
            &mut grad,
            &mut hess,
        );
        assert!(grad.iter().chain(&hess).all(|&v| v == SENTINEL));
        result.unwrap_err()
    };
    let smoothed = softmax_defaults().label_smoothing(0.1);
    let err = run(&smoothed, None, 6);
    assert_eq!(
        err,
        FocalError::UnsupportedTargets {
            objective: "softmax focal Hessian",
            needs: "one-hot targets (label_smoothing 0)",
        }
    );
    assert_eq!(
        err.to_string(),
        "the softmax focal Hessian needs one-hot targets (label_smoothing 0)"
    );
    assert!(matches!(
        run(&softmax_defaults(), Some(f64::NAN), 6),
        FocalError::InvalidHessianFloor(v) if v.is_nan()
    ));
    assert_eq!(
        run(&softmax_defaults(), None, 5),
        FocalError::OutputLength {
            argument: "hess",
            expected: 6,
            actual: 5
        }
    );
    // An invalid label smoothing is that error, not "unsupported".
    assert_eq!(
        run(&softmax_defaults().label_smoothing(1.5), None, 6),
        FocalError::InvalidLabelSmoothing(1.5)
    );
}

const X: [f32; 4] = [0.5, -1.0, 2.0, 0.0];
const Y: [f32; 4] = [1.0, 0.0, 0.3, 1.0];
const LABELS: [u8; 4] = [1, 0, 0, 1];

fn defaults() -> SigmoidFocalOptions {
    SigmoidFocalOptions::default()
}

#[test]
fn sigmoid_options_out_of_range() {
    let soft = SigmoidTargets::Soft(&Y);
    for gamma in [
        -1.0,
        -1e-300,
        f64::NAN,
        f64::INFINITY,
        10000.000000000002,
        5.3e83,
    ] {
        let expected = FocalError::InvalidGamma(gamma);
        let options = defaults().gamma(gamma);
        let mut loss = [SENTINEL];
        let mut grad = [SENTINEL; 4];
        let err = sigmoid_focal_loss_grad(&X, soft, None, &options, &mut loss, &mut grad);
        // NaN != NaN: compare the variant and the message instead.
        match (err.unwrap_err(), expected) {
            (FocalError::InvalidGamma(a), FocalError::InvalidGamma(b)) => {
                assert!(a == b || (a.is_nan() && b.is_nan()))
            }
            (other, _) => panic!("unexpected {other:?}"),
        }
        assert!(loss.iter().chain(&grad).all(|&v| v == SENTINEL));
    }
    for alpha in [-0.01, 1.01] {
        sigmoid_refuses(
            &X,
            soft,
            None,
            &defaults().alpha(alpha),
            1,
            4,
            FocalError::InvalidAlpha(alpha),
        );
    }
    assert!(matches!(
        sigmoid_focal_loss(&X, soft, None, &defaults().alpha(f64::NAN), &mut [0.0]),
        Err(FocalError::InvalidAlpha(a)) if a.is_nan()
    ));
    for ls in [-0.1, 1.0, 2.0] {
        sigmoid_refuses(
            &X,
            soft,
            None,
            &defaults().label_smoothing(ls),
            1,
            4,
            FocalError::InvalidLabelSmoothing(ls),
        );
    }
    for v in [0.0, -3.0, f64::INFINITY] {
        sigmoid_refuses(
            &X,
            soft,
            None,
            &defaults().normalizer(v),
            1,
            4,
            FocalError::InvalidNormalizer(v),
        );
    }
    for reduction in [Reduction::Sum, Reduction::None] {
        let loss_len = if reduction == Reduction::None { 4 } else { 1 };
        sigmoid_refuses(
            &X,
            soft,
            None,
            &defaults().reduction(reduction).normalizer(8.0),
            loss_len,
            4,
            FocalError::NormalizerNeedsMean { reduction },
        );
    }
}

#[test]
fn sigmoid_lengths() {
    sigmoid_refuses(
        &X,
        SigmoidTargets::Soft(&Y[..3]),
        None,
        &defaults(),
        1,
        4,
        FocalError::LengthMismatch {
            argument: "targets",
            expected: 4,
            actual: 3,
        },
    );
    sigmoid_refuses(
        &X,
        SigmoidTargets::Labels(&[1, 0, 1, 0, 1]),
        None,
        &defaults(),
        1,
        4,
        FocalError::LengthMismatch {
            argument: "labels",
            expected: 4,
            actual: 5,
        },
    );
    sigmoid_refuses(
        &X,
        SigmoidTargets::Labels(&LABELS),
        Some(&[1.0; 3]),
        &defaults(),
        1,
        4,
        FocalError::LengthMismatch {
            argument: "weights",
            expected: 4,
            actual: 3,
        },
    );
    // Wrong output sizes: a reduced loss is one value, an unreduced one is one per element.
    sigmoid_refuses(
        &X,
        SigmoidTargets::Labels(&LABELS),
        None,
        &defaults(),
        4,
        4,
        FocalError::OutputLength {
            argument: "loss",
            expected: 1,
            actual: 4,
        },
    );
    sigmoid_refuses(
        &X,
        SigmoidTargets::Labels(&LABELS),
        None,
        &defaults().reduction(Reduction::None),
        1,
        4,
        FocalError::OutputLength {
            argument: "loss",
            expected: 4,
            actual: 1,
        },
    );
    sigmoid_refuses(
        &X,
        SigmoidTargets::Labels(&LABELS),
        None,
        &defaults(),
        1,
        5,
        FocalError::OutputLength {
            argument: "grad",
            expected: 4,
            actual: 5,
        },
    );
}

#[test]
fn sigmoid_class_index_shapes() {
    // 2 rows × 2 classes.
    sigmoid_refuses(
        &X,
        SigmoidTargets::Classes {
            targets: &[0, 1, 1],
            classes: 2,
        },
        None,
        &defaults(),
        1,
        4,
        FocalError::LengthMismatch {
            argument: "logits",
            expected: 6,
            actual: 4,
        },
    );
    sigmoid_refuses(
        &[],
        SigmoidTargets::Classes {
            targets: &[0],
            classes: 0,
        },
        None,
        &defaults(),
        1,
        0,
        FocalError::EmptyDimension {
            dimension: "classes",
        },
    );
    sigmoid_refuses(
        &X,
        SigmoidTargets::Classes {
            targets: &[0, 1],
            classes: usize::MAX,
        },
        None,
        &defaults(),
        1,
        4,
        FocalError::SizeOverflow,
    );
}

#[test]
fn sigmoid_target_and_weight_values() {
    for (i, bad) in [(2, -0.1f32), (0, 1.5), (3, f32::NAN), (1, f32::INFINITY)] {
        let mut y = Y;
        y[i] = bad;
        let mut loss = [SENTINEL];
        let err = sigmoid_focal_loss(&X, SigmoidTargets::Soft(&y), None, &defaults(), &mut loss)
            .unwrap_err();
        match err {
            FocalError::SoftTargetOutOfRange { index, value } => {
                assert_eq!(index, i);
                assert!(value == f64::from(bad) || (value.is_nan() && bad.is_nan()));
            }
            other => panic!("unexpected {other:?}"),
        }
        assert_eq!(loss, [SENTINEL]);
    }
    sigmoid_refuses(
        &X,
        SigmoidTargets::Labels(&[1, 0, 2, 1]),
        None,
        &defaults(),
        1,
        4,
        FocalError::LabelOutOfRange { index: 2, value: 2 },
    );
    // 2 rows × 2 classes: 2 is background, 3 is out of range.
    sigmoid_refuses(
        &X,
        SigmoidTargets::Classes {
            targets: &[2, 3],
            classes: 2,
        },
        None,
        &defaults(),
        1,
        4,
        FocalError::SigmoidClassOutOfRange {
            index: 1,
            value: 3,
            classes: 2,
        },
    );
    for bad in [-1.0f32, f32::INFINITY] {
        sigmoid_refuses(
            &X,
            SigmoidTargets::Labels(&LABELS),
            Some(&[1.0, 1.0, bad, 1.0]),
            &defaults(),
            1,
            4,
            FocalError::InvalidWeight {
                index: 2,
                value: f64::from(bad),
            },
        );
    }
}

#[test]
fn grad_hess_refusals() {
    let run = |floor: Option<f64>, grad_len: usize, hess_len: usize, labels: &[u8]| {
        let mut grad = vec![SENTINEL; grad_len];
        let mut hess = vec![SENTINEL; hess_len];
        let result = sigmoid_focal_grad_hess(
            &X,
            SigmoidTargets::Labels(labels),
            None,
            &defaults(),
            floor,
            &mut grad,
            &mut hess,
        );
        assert!(grad.iter().chain(&hess).all(|&v| v == SENTINEL));
        result.unwrap_err()
    };
    assert!(matches!(
        run(Some(f64::NAN), 4, 4, &LABELS),
        FocalError::InvalidHessianFloor(v) if v.is_nan()
    ));
    assert_eq!(
        run(None, 4, 3, &LABELS),
        FocalError::OutputLength {
            argument: "hess",
            expected: 4,
            actual: 3
        }
    );
    assert_eq!(
        run(None, 2, 4, &LABELS),
        FocalError::OutputLength {
            argument: "grad",
            expected: 4,
            actual: 2
        }
    );
    assert_eq!(
        run(None, 4, 4, &[0, 0, 0, 9]),
        FocalError::LabelOutOfRange { index: 3, value: 9 }
    );
    // The reduction and its normaliser do not apply to per-element derivatives.
    let mut grad = [0.0f32; 4];
    let mut hess = [0.0f32; 4];
    let options = defaults().reduction(Reduction::Sum);
    let mut options_with_normalizer = options;
    options_with_normalizer.normalizer = Some(-1.0);
    sigmoid_focal_grad_hess(
        &X,
        SigmoidTargets::Labels(&LABELS),
        None,
        &options_with_normalizer,
        None,
        &mut grad,
        &mut hess,
    )
    .unwrap();
}

fn softmax_defaults() -> SoftmaxFocalOptions {
    SoftmaxFocalOptions::default()
}

#[test]
fn softmax_shapes_and_lengths() {
    let logits = [0.0f32; 6];
    softmax_refuses(
        &logits,
        &[0, 1],
        SoftmaxShape::rows(2, 2),
        &softmax_defaults(),
        1,
        6,
        FocalError::LengthMismatch {
            argument: "logits",
            expected: 4,
            actual: 6,
        },
    );
    softmax_refuses(
        &logits,
        &[0, 1, 2],
        SoftmaxShape::rows(2, 3),
        &softmax_defaults(),
        1,
        6,
        FocalError::LengthMismatch {
            argument: "targets",
            expected: 2,
            actual: 3,
        },
    );
    softmax_refuses(
        &[],
        &[],
        SoftmaxShape::channels_first(2, 3, 0),
        &softmax_defaults(),
        1,
        0,
        FocalError::EmptyDimension {
            dimension: "spatial",
        },
    );
    softmax_refuses(
        &[],
        &[0, 0],
        SoftmaxShape::rows(2, 0),
        &softmax_defaults(),
        1,
        0,
        FocalError::EmptyDimension {
            dimension: "classes",
        },
    );
    softmax_refuses(
        &logits,
        &[0, 0],
        SoftmaxShape::channels_first(2, usize::MAX, 2),
        &softmax_defaults(),
        1,
        6,
        FocalError::SizeOverflow,
    );
    softmax_refuses(
        &logits,
        &[0, 0],
        SoftmaxShape::rows(2, 3),
        &softmax_defaults().reduction(Reduction::None),
        1,
        6,
        FocalError::OutputLength {
            argument: "loss",
            expected: 2,
            actual: 1,
        },
    );
    softmax_refuses(
        &logits,
        &[0, 0],
        SoftmaxShape::rows(2, 3),
        &softmax_defaults(),
        1,
        5,
        FocalError::OutputLength {
            argument: "grad",
            expected: 6,
            actual: 5,
        },
    );
}

#[test]
fn softmax_options_and_targets() {
    let logits = [0.0f32, 1.0, 2.0, 3.0, 4.0, 5.0];
    let shape = SoftmaxShape::rows(2, 3);
    softmax_refuses(
        &logits,
        &[0, 1],
        shape,
        &softmax_defaults().alpha(1.5),
        1,
        6,
        FocalError::InvalidAlpha(1.5),
    );
    softmax_refuses(
        &logits,
        &[0, 1],
        shape,
        &softmax_defaults().class_alpha(vec![1.0, 1.0]),
        1,
        6,
        FocalError::ClassAlphaLength {
            expected: 3,
            actual: 2,
        },
    );
    softmax_refuses(
        &logits,
        &[0, 1],
        shape,
        &softmax_defaults().class_alpha(vec![1.0, -0.5, 1.0]),
        1,
        6,
        FocalError::InvalidClassAlpha {
            class: 1,
            value: -0.5,
        },
    );
    softmax_refuses(
        &logits,
        &[0, 1],
        shape,
        &softmax_defaults().gamma(-0.5),
        1,
        6,
        FocalError::InvalidGamma(-0.5),
    );
    softmax_refuses(
        &logits,
        &[0, 1],
        shape,
        &softmax_defaults().class_gamma(vec![1.0, 2.0]),
        1,
        6,
        FocalError::ClassGammaLength {
            expected: 3,
            actual: 2,
        },
    );
    softmax_refuses(
        &logits,
        &[0, 1],
        shape,
        &softmax_defaults().class_gamma(vec![1.0, 2.0, -1.0]),
        1,
        6,
        FocalError::InvalidClassGamma {
            class: 2,
            value: -1.0,
        },
    );
    softmax_refuses(
        &logits,
        &[0, 1],
        shape,
        &softmax_defaults().class_gamma(vec![1.0, 2e4, 2.0]),
        1,
        6,
        FocalError::InvalidClassGamma {
            class: 1,
            value: 2e4,
        },
    );
    softmax_refuses(
        &logits,
        &[0, 1],
        shape,
        // Finite in f64, but not in the f32 of this call.
        &softmax_defaults().epsilon(1e39),
        1,
        6,
        FocalError::InvalidParameter {
            name: "epsilon",
            value: 1e39,
        },
    );
    softmax_refuses(
        &logits,
        &[0, 1],
        shape,
        &softmax_defaults().label_smoothing(1.0),
        1,
        6,
        FocalError::InvalidLabelSmoothing(1.0),
    );
    softmax_refuses(
        &logits,
        &[0, 1],
        shape,
        &softmax_defaults().reduction(Reduction::Sum).normalizer(2.0),
        1,
        6,
        FocalError::NormalizerNeedsMean {
            reduction: Reduction::Sum,
        },
    );
    for (targets, index, value) in [([0, 3], 1, 3), ([-1, 0], 0, -1), ([0, -101], 1, -101)] {
        softmax_refuses(
            &logits,
            &targets,
            shape,
            &softmax_defaults(),
            1,
            6,
            FocalError::SoftmaxClassOutOfRange {
                index,
                value,
                classes: 3,
                ignore_index: -100,
            },
        );
    }
    // -100 is only special while it is the ignore_index.
    softmax_refuses(
        &logits,
        &[-100, 0],
        shape,
        &softmax_defaults().ignore_index(255),
        1,
        6,
        FocalError::SoftmaxClassOutOfRange {
            index: 0,
            value: -100,
            classes: 3,
            ignore_index: 255,
        },
    );
    let mut loss = [SENTINEL];
    softmax_focal_loss(
        &logits,
        &[255, 2],
        shape,
        &softmax_defaults().ignore_index(255),
        &mut loss,
    )
    .unwrap();
    assert_ne!(loss[0], SENTINEL);
}
