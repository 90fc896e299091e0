//! Generated inputs: the same values for any thread count (each block of elements has its
//! own seeded generator), made once at the largest size and sliced by every row.

use focal_loss::Float;
use rayon::prelude::*;

const BLOCK: usize = 1 << 16;

/// splitmix64: small, fast and good enough for benchmark inputs.
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Standard normal (Box–Muller, one of the pair).
    fn normal(&mut self) -> f64 {
        let u = 1.0 - self.unit();
        let v = self.unit();
        (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
    }
}

/// `n` values, block `b` from the generator seeded with `seed` and `b`.
fn generate<V: Send + Default + Clone>(
    n: usize,
    seed: u64,
    one: impl Fn(&mut SplitMix) -> V + Sync,
) -> Vec<V> {
    let mut values = vec![V::default(); n];
    values
        .par_chunks_mut(BLOCK)
        .enumerate()
        .for_each(|(block, chunk)| {
            let mut rng = SplitMix(seed ^ (block as u64).wrapping_mul(0xa076_1d64_78bd_642f));
            for v in chunk {
                *v = one(&mut rng);
            }
        });
    values
}

/// The inputs of every row of one element type.
pub struct Data<T> {
    /// Logits ~ N(−2, 2²): mostly easy negatives, as a detector's are.
    pub logits: Vec<T>,
    /// Labels, 1 with probability 0.1.
    pub labels: Vec<u8>,
    /// Soft targets: 0 with probability 0.9, else uniform in [0, 1) (an IoU-like score).
    pub soft: Vec<T>,
    /// Uniform draws in [0, 1), turned into class indices for each shape.
    class_draws: Vec<f32>,
}

/// Bytes of generated data per element of an element type: logit, label, soft target and
/// class draw.
pub fn bytes_per_element(dtype: crate::rows::Dtype) -> usize {
    2 * dtype.bytes() + 1 + 4
}

impl<T: Float + Send + Sync> Data<T> {
    pub fn new(n: usize) -> Data<T> {
        Data {
            logits: generate(n, 1, |r| T::from_f64(-2.0 + 2.0 * r.normal())),
            labels: generate(n, 2, |r| u8::from(r.unit() < 0.1)),
            soft: generate(n, 3, |r| {
                let u = r.unit();
                T::from_f64(if u < 0.9 { 0.0 } else { (u - 0.9) * 10.0 })
            }),
            class_draws: generate(n, 4, |r| r.unit() as f32),
        }
    }

    /// `count` class indices in `0..classes`.
    pub fn class_targets(&self, count: usize, classes: usize) -> Vec<i32> {
        self.class_draws[..count]
            .iter()
            .map(|&u| ((u as f64 * classes as f64) as usize).min(classes - 1) as i32)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_values_for_any_thread_count() {
        let one = rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .build()
            .expect("a pool of one thread");
        let serial: Data<f32> = one.install(|| Data::new(200_000));
        let parallel: Data<f32> = Data::new(200_000);
        assert_eq!(serial.logits, parallel.logits);
        assert_eq!(serial.labels, parallel.labels);
        assert_eq!(serial.soft, parallel.soft);
    }

    #[test]
    fn the_distributions_are_what_the_docs_say() {
        let data: Data<f64> = Data::new(400_000);
        let n = data.logits.len() as f64;
        let mean = data.logits.iter().sum::<f64>() / n;
        let var = data.logits.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n;
        assert!(
            (mean + 2.0).abs() < 0.02 && (var - 4.0).abs() < 0.05,
            "{mean} {var}"
        );
        let positives = data.labels.iter().filter(|&&y| y == 1).count() as f64 / n;
        assert!((positives - 0.1).abs() < 0.005, "{positives}");
        let zeros = data.soft.iter().filter(|&&y| y == 0.0).count() as f64 / n;
        assert!((zeros - 0.9).abs() < 0.005, "{zeros}");
        assert!(data.soft.iter().all(|&y| (0.0..1.0).contains(&y)));
        let classes = data.class_targets(100_000, 80);
        assert!(classes.iter().all(|&c| (0..80).contains(&c)));
        assert!((0..80).all(|c| classes.contains(&c)));
    }
}
