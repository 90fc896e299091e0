//! The Rust API's per-call thread limit, gradient-only functions and partial results of
//! sharded batches.

use focal_loss::{
    Float, FocalError, PartialLoss, Reduction, SigmoidFocalOptions, SigmoidTargets,
    SoftmaxFocalOptions, SoftmaxShape, sigmoid_focal_grad, sigmoid_focal_loss_grad,
    sigmoid_focal_partial, softmax_focal_grad, softmax_focal_loss_grad, softmax_focal_partial,
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

/// A batch cut into shards at chunk boundaries (16 384 elements; softmax: whole samples per
/// chunk) gives, shard by shard, the single call's sum and count, and with the global count
/// as normaliser its gradient: the same bits. At other cuts, the same values within the
/// accuracy contract. The shards are combined out of order (an all-reduce's).
#[test]
fn shards_combine_to_the_whole_batch() {
    const CHUNK: usize = 16 * 1024;
    let n = 3 * CHUNK + 1234;
    let x = logits(n);
    let labels: Vec<u8> = (0..n).map(|i| u8::from(i % 7 == 0)).collect();
    let options = SigmoidFocalOptions::default().gamma(1.5);
    let (mut whole_loss, mut whole_grad) = ([0.0f32], vec![0.0f32; n]);
    sigmoid_focal_loss_grad(
        &x,
        SigmoidTargets::Labels(&labels),
        None,
        &options,
        &mut whole_loss,
        &mut whole_grad,
    )
    .unwrap();
    for (cuts, exact) in [
        (vec![0, CHUNK, 3 * CHUNK, n], true),
        (vec![0, 2 * CHUNK, n], true),
        (vec![0, 1000, CHUNK + 77, n], false),
    ] {
        let sharded = options.normalizer(n as f64);
        let mut grad = vec![0.0f32; n];
        let mut parts = Vec::new();
        for w in cuts.windows(2) {
            let (start, end) = (w[0], w[1]);
            parts.push(
                sigmoid_focal_partial(
                    &x[start..end],
                    SigmoidTargets::Labels(&labels[start..end]),
                    None,
                    &sharded,
                    Some(&mut grad[start..end]),
                )
                .unwrap(),
            );
        }
        let mut total = PartialLoss::default();
        for part in parts.iter().rev() {
            total.combine(part);
        }
        assert_eq!(total.count(), n);
        let mean = f32::from_f64(total.mean());
        if exact {
            assert_eq!(mean.to_bits(), whole_loss[0].to_bits(), "cuts {cuts:?}");
        } else {
            assert!(
                (mean - whole_loss[0]).abs() <= 2e-6 * whole_loss[0],
                "cuts {cuts:?}"
            );
        }
        // The gradient of the global mean does not depend on the cuts at all.
        assert_eq!(bits(&grad), bits(&whole_grad), "cuts {cuts:?}");
    }
}

/// Softmax shards of whole chunks (16 384 / 80 = 204 rows each) combine to the single call.
#[test]
fn softmax_shards_combine_to_the_whole_batch() {
    let (classes, rows_per_chunk) = (80, 16 * 1024 / 80);
    let rows = 3 * rows_per_chunk + 17;
    let x = logits(rows * classes);
    let targets: Vec<i32> = (0..rows)
        .map(|r| {
            if r % 11 == 0 {
                -100
            } else {
                (r * 7 % classes) as i32
            }
        })
        .collect();
    let options = SoftmaxFocalOptions::default().label_smoothing(0.1);
    let (mut whole_loss, mut whole_grad) = ([0.0f32], vec![0.0f32; x.len()]);
    softmax_focal_loss_grad(
        &x,
        &targets,
        SoftmaxShape::rows(rows, classes),
        &options,
        &mut whole_loss,
        &mut whole_grad,
    )
    .unwrap();
    let count = targets.iter().filter(|&&t| t != -100).count();
    let sharded = options.clone().normalizer(count as f64);
    let mut grad = vec![0.0f32; x.len()];
    let mut total = PartialLoss::default();
    for (start, end) in [(0, rows_per_chunk), (rows_per_chunk, rows)] {
        let part = softmax_focal_partial(
            &x[start * classes..end * classes],
            &targets[start..end],
            SoftmaxShape::rows(end - start, classes),
            &sharded,
            Some(&mut grad[start * classes..end * classes]),
        )
        .unwrap();
        total.combine(&part);
    }
    assert_eq!(total.count(), count);
    assert_eq!(
        f32::from_f64(total.mean()).to_bits(),
        whole_loss[0].to_bits()
    );
    assert_eq!(bits(&grad), bits(&whole_grad));
}

/// The row kernel computes the per-row terms of up to one row per SIMD lane at once: each
/// row, alone in a call, has the bits it has among others (ignored rows and extreme logits
/// among them), for every option that reaches those terms. (Finite logits: a chunk with an
/// infinite loss is computed again in f64, the finite rows beside it too.)
#[test]
fn a_softmax_row_has_the_same_bits_alone_and_in_a_batch() {
    let (rows, classes) = (37, 40);
    let mut x = logits(rows * classes);
    for (i, special) in [1e30, -1e30, f32::MAX, -f32::MAX, 88.0, -104.0]
        .into_iter()
        .enumerate()
    {
        x[(5 * i + 3) * classes + (7 * i) % classes] = special;
    }
    let targets: Vec<i32> = (0..rows)
        .map(|r| {
            if r % 6 == 4 {
                -100
            } else {
                (r * 13 % classes) as i32
            }
        })
        .collect();
    let class_gamma: Vec<f64> = (0..classes).map(|c| (c % 5) as f64 * 0.7).collect();
    let class_alpha: Vec<f64> = (0..classes).map(|c| 0.2 + (c % 4) as f64 * 0.2).collect();
    for options in [
        SoftmaxFocalOptions::default(),
        SoftmaxFocalOptions::default().gamma(0.5).alpha(0.25),
        SoftmaxFocalOptions::default().epsilon(1.0),
        SoftmaxFocalOptions::default()
            .class_gamma(class_gamma.clone())
            .class_alpha(class_alpha.clone()),
    ] {
        let options = options.reduction(Reduction::None).ignore_index(-100);
        let mut loss = vec![0.0f32; rows];
        let mut grad = vec![0.0f32; rows * classes];
        let shape = SoftmaxShape::rows(rows, classes);
        softmax_focal_loss_grad(&x, &targets, shape, &options, &mut loss, &mut grad).unwrap();
        for r in 0..rows {
            let span = r * classes..(r + 1) * classes;
            let (mut row_loss, mut row_grad) = ([0.0f32], vec![0.0f32; classes]);
            softmax_focal_loss_grad(
                &x[span.clone()],
                &targets[r..r + 1],
                SoftmaxShape::rows(1, classes),
                &options,
                &mut row_loss,
                &mut row_grad,
            )
            .unwrap();
            assert_eq!(loss[r].to_bits(), row_loss[0].to_bits(), "row {r}");
            assert_eq!(bits(&grad[span]), bits(&row_grad), "row {r}");
        }
    }
}
