//! Exact t-SNE (van der Maaten & Hinton 2008) as scikit-learn's `method='exact'`:
//! perplexity-calibrated Gaussian affinities, Student-t similarities in 2-D, gradient
//! descent with early exaggeration, momentum and per-parameter gains. O(n^2) per
//! iteration: fine for the few thousand sources of a test set.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::points::{check_points, pca_2d, squared_distances};
use crate::error::MetricError;

/// t-SNE parameters (scikit-learn's defaults).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct TsneSettings {
    pub perplexity: f64,
    pub early_exaggeration: f64,
    pub early_iterations: usize,
    pub iterations: usize,
}

impl Default for TsneSettings {
    fn default() -> Self {
        TsneSettings {
            perplexity: 30.0,
            early_exaggeration: 12.0,
            early_iterations: 250,
            iterations: 1000,
        }
    }
}

const MACHINE_EPSILON: f64 = f64::EPSILON;

/// Conditional affinities p(j|i) with each row's Gaussian width found by bisection so
/// its entropy equals log(perplexity) (scikit-learn's `_binary_search_perplexity`).
fn conditional_affinities(distances: &[f64], n: usize, perplexity: f64) -> Vec<f64> {
    let target_entropy = perplexity.ln();
    let mut p = vec![0.0; n * n];
    for i in 0..n {
        let row = &distances[i * n..(i + 1) * n];
        let (mut beta, mut lo, mut hi) = (1.0f64, f64::NEG_INFINITY, f64::INFINITY);
        for _ in 0..100 {
            let mut sum = 0.0;
            for j in (0..n).filter(|&j| j != i) {
                let v = (-row[j] * beta).exp();
                p[i * n + j] = v;
                sum += v;
            }
            let sum = if sum == 0.0 { MACHINE_EPSILON } else { sum };
            let mut weighted = 0.0;
            for j in (0..n).filter(|&j| j != i) {
                p[i * n + j] /= sum;
                weighted += row[j] * p[i * n + j];
            }
            let entropy = sum.ln() + beta * weighted;
            let diff = entropy - target_entropy;
            if diff.abs() <= 1e-5 {
                break;
            }
            if diff > 0.0 {
                lo = beta;
                beta = if hi.is_infinite() {
                    beta * 2.0
                } else {
                    (beta + hi) / 2.0
                };
            } else {
                hi = beta;
                beta = if lo.is_infinite() {
                    beta / 2.0
                } else {
                    (beta + lo) / 2.0
                };
            }
        }
    }
    p
}

/// Embeds `points` in 2-D. Deterministic: initialised from the first two principal
/// components scaled to standard deviation 1e-4 (scikit-learn's `init='pca'`), so `seed`
/// is only used to break exact symmetry with a tiny deterministic jitter.
pub fn tsne(
    points: &[Vec<f64>],
    settings: &TsneSettings,
    seed: u64,
) -> Result<Vec<[f64; 2]>, MetricError> {
    const WHAT: &str = "tsne";
    check_points(WHAT, points, 4)?;
    let n = points.len();
    // scikit-learn refuses perplexity >= n; capping at (n - 1) / 3 keeps small test sets
    // (a few dozen sources) usable with the default of 30.
    let perplexity = settings.perplexity.min((n - 1) as f64 / 3.0);
    let distances = squared_distances(points);
    let conditional = conditional_affinities(&distances, n, perplexity);
    let mut p = vec![0.0; n * n];
    let mut total = 0.0;
    for i in 0..n {
        for j in 0..n {
            let v = conditional[i * n + j] + conditional[j * n + i];
            p[i * n + j] = v;
            total += v;
        }
    }
    for v in p.iter_mut() {
        *v = (*v / total).max(MACHINE_EPSILON);
    }

    let mut y = initial_layout(points, seed);
    let learning_rate = (n as f64 / settings.early_exaggeration / 4.0).max(50.0);
    let mut update = vec![[0.0; 2]; n];
    let mut gains = vec![[1.0f64; 2]; n];
    let mut grad = vec![[0.0; 2]; n];
    let mut q_num = vec![0.0; n * n];
    for iteration in 0..settings.iterations {
        let early = iteration < settings.early_iterations;
        let exaggeration = if early {
            settings.early_exaggeration
        } else {
            1.0
        };
        let momentum = if early { 0.5 } else { 0.8 };
        gradient(&p, &y, exaggeration, &mut q_num, &mut grad);
        for i in 0..n {
            for d in 0..2 {
                let g = grad[i][d];
                if update[i][d] * g < 0.0 {
                    gains[i][d] += 0.2;
                } else {
                    gains[i][d] *= 0.8;
                }
                gains[i][d] = gains[i][d].max(0.01);
                update[i][d] = momentum * update[i][d] - learning_rate * gains[i][d] * g;
                y[i][d] += update[i][d];
            }
        }
    }
    Ok(y)
}

fn initial_layout(points: &[Vec<f64>], seed: u64) -> Vec<[f64; 2]> {
    let mut y = pca_2d(points);
    let n = y.len() as f64;
    let mean = y.iter().map(|p| p[0]).sum::<f64>() / n;
    let std = (y.iter().map(|p| (p[0] - mean).powi(2)).sum::<f64>() / n).sqrt();
    let scale = if std > 0.0 { 1e-4 / std } else { 1.0 };
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    for p in y.iter_mut() {
        for v in p.iter_mut() {
            *v = *v * scale + 1e-8 * (rng.random::<f64>() - 0.5);
        }
    }
    y
}

/// KL-divergence gradient: 4 sum_j (exaggeration * p_ij - q_ij) q_num_ij (y_i - y_j).
fn gradient(
    p: &[f64],
    y: &[[f64; 2]],
    exaggeration: f64,
    q_num: &mut [f64],
    grad: &mut [[f64; 2]],
) {
    let n = y.len();
    let mut sum_q = 0.0;
    for i in 0..n {
        q_num[i * n + i] = 0.0;
        for j in i + 1..n {
            let dx = y[i][0] - y[j][0];
            let dy = y[i][1] - y[j][1];
            let v = 1.0 / (1.0 + dx * dx + dy * dy);
            q_num[i * n + j] = v;
            q_num[j * n + i] = v;
            sum_q += 2.0 * v;
        }
    }
    let sum_q = sum_q.max(MACHINE_EPSILON);
    for i in 0..n {
        let mut g = [0.0; 2];
        for j in 0..n {
            if i == j {
                continue;
            }
            let qn = q_num[i * n + j];
            let q = (qn / sum_q).max(MACHINE_EPSILON);
            let coeff = (exaggeration * p[i * n + j] - q) * qn;
            g[0] += coeff * (y[i][0] - y[j][0]);
            g[1] += coeff * (y[i][1] - y[j][1]);
        }
        grad[i] = [4.0 * g[0], 4.0 * g[1]];
    }
}
