//! The Rust API's per-call thread limit and gradient-only functions.

use focal_loss::{
    FocalError, Reduction, SigmoidFocalOptions, SigmoidTargets, SoftmaxFocalOptions, SoftmaxShape,
    sigmoid_focal_grad, sigmoid_focal_loss_grad, softmax_focal_grad, softmax_focal_loss_grad,
};

/// Logits spread over [-12, 12], deterministic.
fn logits(n: usize) -> Vec<f32> {
    (0..n)
        .map(|i| ((i * 7919 % 2003) as f32 / 2003.0 - 0.5) * 24.0)
        .collect()
}

fn bits(values: &[f32]) -> Vec<u32> {
    values.iter().map(|v| v.to_bits()).collect()
}

#[test]
fn the_thread_limit_does_not_change_the_bits() {
    // Several of the parallel driver's 16 Ki-element chunks.
    let n = 70_001;
    let x = logits(n);
    let labels: Vec<u8> = (0..n).map(|i| (i % 3 == 0) as u8).collect();
    let sigmoid = |threads: usize| {
        let options = SigmoidFocalOptions::default().gamma(1.5).threads(threads);
        let (mut loss, mut grad) = ([0.0f32], vec![0.0f32; n]);
        sigmoid_focal_loss_grad(
            &x,
            SigmoidTargets::Labels(&labels),
            None,
            &options,
            &mut loss,
            &mut grad,
        )
        .unwrap();
        (loss[0].to_bits(), bits(&grad))
    };
    let one = sigmoid(1);
    assert_eq!(one, sigmoid(0));
    assert_eq!(one, sigmoid(2));
    assert_eq!(one, sigmoid(3));

    let (batch, classes) = (n / 7, 7);
    let targets: Vec<i32> = (0..batch).map(|r| (r % classes) as i32).collect();
    let softmax = |threads: usize| {
        let options = SoftmaxFocalOptions::default()
            .label_smoothing(0.1)
            .threads(threads);
        let (mut loss, mut grad) = ([0.0f32], vec![0.0f32; batch * classes]);
        softmax_focal_loss_grad(
            &x[..batch * classes],
            &targets,
            SoftmaxShape::rows(batch, classes),
            &options,
            &mut loss,
            &mut grad,
        )
        .unwrap();
        (loss[0].to_bits(), bits(&grad))
    };
    let one = softmax(1);
    assert_eq!(one, softmax(0));
    assert_eq!(one, softmax(2));
}

#[test]
fn the_gradient_alone_is_the_fused_gradient() {
    let n = 1000;
    let x = logits(n);
    let soft: Vec<f32> = (0..n).map(|i| (i % 5) as f32 / 4.0).collect();
    let labels: Vec<u8> = (0..n).map(|i| (i % 2) as u8).collect();
    let classes: Vec<i32> = (0..n / 10).map(|r| (r % 11) as i32 - 1).collect();
    for reduction in [Reduction::None, Reduction::Sum, Reduction::Mean] {
        let options = SigmoidFocalOptions::default()
            .gamma(0.7)
            .label_smoothing(0.05)
            .reduction(reduction);
        let loss_len = if reduction == Reduction::None { n } else { 1 };
        for targets in [
            SigmoidTargets::Soft(&soft),
            SigmoidTargets::Labels(&labels),
            SigmoidTargets::Classes {
                targets: &classes,
                classes: 10,
            },
        ] {
            let mut alone = vec![0.0f32; n];
            sigmoid_focal_grad(&x, targets, None, &options, &mut alone).unwrap();
            let (mut loss, mut fused) = (vec![0.0f32; loss_len], vec![0.0f32; n]);
            sigmoid_focal_loss_grad(&x, targets, None, &options, &mut loss, &mut fused).unwrap();
            assert_eq!(bits(&alone), bits(&fused), "{reduction:?}");
            assert!(alone.iter().any(|&g| g != 0.0));
        }
    }
    for (shape, positions) in [
        (SoftmaxShape::rows(50, 20), 50usize),
        (SoftmaxShape::channels_first(5, 4, 50), 250),
    ] {
        let targets: Vec<i32> = (0..positions).map(|p| (p % 4) as i32).collect();
        let options = SoftmaxFocalOptions::default().reduction(Reduction::Sum);
        let mut alone = vec![0.0f32; n];
        softmax_focal_grad(&x, &targets, shape, &options, &mut alone).unwrap();
        let (mut loss, mut fused) = ([0.0f32], vec![0.0f32; n]);
        softmax_focal_loss_grad(&x, &targets, shape, &options, &mut loss, &mut fused).unwrap();
        assert_eq!(bits(&alone), bits(&fused));
    }
}

#[test]
fn the_gradient_alone_refuses_bad_input_and_leaves_its_output() {
    let x = [0.5f32, -1.0, 2.0];
    let mut grad = [7.0f32; 2];
    let error = sigmoid_focal_grad(
        &x,
        SigmoidTargets::Labels(&[1, 0, 1]),
        None,
        &SigmoidFocalOptions::default(),
        &mut grad,
    )
    .unwrap_err();
    assert_eq!(
        error,
        FocalError::OutputLength {
            argument: "grad",
            expected: 3,
            actual: 2
        }
    );
    assert_eq!(grad, [7.0; 2]);
    let mut grad = [7.0f32; 3];
    let error = softmax_focal_grad(
        &x,
        &[3],
        SoftmaxShape::rows(1, 3),
        &SoftmaxFocalOptions::default().gamma(-1.0),
        &mut grad,
    )
    .unwrap_err();
    assert_eq!(error, FocalError::InvalidGamma(-1.0));
    assert_eq!(grad, [7.0; 3]);
}
