//! UMAP (McInnes, Healy & Melville 2018) following umap-learn's algorithm: exact k-nearest
//! neighbours, the fuzzy simplicial set from smooth-kNN distances (per-point rho and
//! sigma), fuzzy union, and stochastic gradient descent with negative sampling on the
//! curve 1 / (1 + a d^(2b)) fitted to `min_dist`.
//!
//! Simplifications against umap-learn, documented because they change the picture a
//! little but not what it shows: nearest neighbours are exact (brute force, O(n^2), no
//! NN-descent); the layout starts from the first two principal components scaled to
//! [0, 10] instead of the spectral embedding of the graph; one thread, so a seed gives
//! one result.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::points::{check_points, pca_2d, squared_distance};
use crate::error::MetricError;

/// UMAP parameters (umap-learn's defaults).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct UmapSettings {
    pub n_neighbors: usize,
    pub min_dist: f64,
    pub spread: f64,
    /// 0 = umap-learn's choice: 500 for up to 10 000 points, else 200.
    pub epochs: usize,
    pub negative_sample_rate: usize,
    pub learning_rate: f64,
}

impl Default for UmapSettings {
    fn default() -> Self {
        UmapSettings {
            n_neighbors: 15,
            min_dist: 0.1,
            spread: 1.0,
            epochs: 0,
            negative_sample_rate: 5,
            learning_rate: 1.0,
        }
    }
}

/// Each point's k nearest neighbours (itself first, as umap-learn) with distances.
fn knn(points: &[Vec<f64>], k: usize) -> Vec<Vec<(usize, f64)>> {
    (0..points.len())
        .map(|i| {
            let mut all: Vec<(usize, f64)> = points
                .iter()
                .enumerate()
                .map(|(j, q)| {
                    (
                        j,
                        if i == j {
                            0.0
                        } else {
                            squared_distance(&points[i], q).sqrt()
                        },
                    )
                })
                .collect();
            all.sort_by(|a, b| {
                (a.0 != i)
                    .cmp(&(b.0 != i))
                    .then(a.1.total_cmp(&b.1))
                    .then(a.0.cmp(&b.0))
            });
            all.truncate(k);
            all
        })
        .collect()
}

/// Membership strengths exp(-(d - rho) / sigma) of each point's neighbours, with rho the
/// distance to the nearest neighbour and sigma found by bisection so the strengths sum
/// to log2(k) (umap-learn's `smooth_knn_dist`).
fn memberships(neighbours: &[Vec<(usize, f64)>], k: usize) -> Vec<Vec<(usize, f64)>> {
    let target = (k as f64).log2();
    let mean_all: f64 = neighbours
        .iter()
        .flat_map(|ns| ns.iter().map(|n| n.1))
        .sum::<f64>()
        / (neighbours.len() * k) as f64;
    neighbours
        .iter()
        .enumerate()
        .map(|(i, ns)| {
            let others: Vec<(usize, f64)> = ns.iter().copied().filter(|n| n.0 != i).collect();
            let rho = others.iter().map(|n| n.1).find(|&d| d > 0.0).unwrap_or(0.0);
            let strength = |sigma: f64| -> f64 {
                others
                    .iter()
                    .map(|n| (-((n.1 - rho).max(0.0)) / sigma).exp())
                    .sum()
            };
            let (mut lo, mut hi, mut sigma) = (0.0f64, f64::INFINITY, 1.0f64);
            for _ in 0..64 {
                let s = strength(sigma);
                if (s - target).abs() < 1e-5 {
                    break;
                }
                if s > target {
                    hi = sigma;
                    sigma = (lo + hi) / 2.0;
                } else {
                    lo = sigma;
                    sigma = if hi.is_infinite() {
                        sigma * 2.0
                    } else {
                        (lo + hi) / 2.0
                    };
                }
            }
            let mean_own = others.iter().map(|n| n.1).sum::<f64>() / others.len().max(1) as f64;
            let floor = 1e-3 * if rho > 0.0 { mean_own } else { mean_all };
            let sigma = sigma.max(floor).max(f64::MIN_POSITIVE);
            others
                .iter()
                .map(|n| (n.0, (-((n.1 - rho).max(0.0)) / sigma).exp()))
                .collect()
        })
        .collect()
}

/// Symmetric fuzzy union w = a + b - a b of the directed memberships, as edges (i, j, w)
/// in both directions.
fn fuzzy_union(directed: &[Vec<(usize, f64)>]) -> Vec<(usize, usize, f64)> {
    let mut weights = std::collections::BTreeMap::new();
    for (i, ns) in directed.iter().enumerate() {
        for &(j, w) in ns {
            weights.insert((i, j), w);
        }
    }
    let mut edges = Vec::new();
    for (&(i, j), &w) in &weights {
        let back = weights.get(&(j, i)).copied().unwrap_or(0.0);
        edges.push((i, j, w + back - w * back));
        if back == 0.0 {
            edges.push((j, i, w));
        }
    }
    edges.sort_by_key(|e| (e.0, e.1));
    edges
}

/// Fits (a, b) of 1 / (1 + a x^(2b)) to the target curve (1 below `min_dist`, then
/// exp(-(x - min_dist) / spread)) on 300 points of [0, 3 spread] by Gauss-Newton with
/// step halving, as umap-learn's `find_ab_params` does with scipy's `curve_fit`.
pub fn fit_ab(spread: f64, min_dist: f64) -> (f64, f64) {
    let xs: Vec<f64> = (0..300).map(|i| 3.0 * spread * i as f64 / 299.0).collect();
    let target: Vec<f64> = xs
        .iter()
        .map(|&x| {
            if x < min_dist {
                1.0
            } else {
                (-(x - min_dist) / spread).exp()
            }
        })
        .collect();
    let curve = |a: f64, b: f64, x: f64| 1.0 / (1.0 + a * x.powf(2.0 * b));
    let loss = |a: f64, b: f64| -> f64 {
        xs.iter()
            .zip(&target)
            .map(|(&x, &t)| (curve(a, b, x) - t).powi(2))
            .sum()
    };
    let (mut a, mut b) = (1.0f64, 1.0f64);
    for _ in 0..200 {
        // Normal equations of the 2-parameter least squares problem.
        let (mut jtj, mut jtr) = ([[0.0f64; 2]; 2], [0.0f64; 2]);
        for (&x, &t) in xs.iter().zip(&target) {
            if x <= 0.0 {
                continue;
            }
            let x2b = x.powf(2.0 * b);
            let f = curve(a, b, x);
            let da = -x2b * f * f;
            let db = -a * x2b * 2.0 * x.ln() * f * f;
            let r = f - t;
            let jrow = [da, db];
            for p in 0..2 {
                jtr[p] += jrow[p] * r;
                for q in 0..2 {
                    jtj[p][q] += jrow[p] * jrow[q];
                }
            }
        }
        let det = jtj[0][0] * jtj[1][1] - jtj[0][1] * jtj[1][0];
        if det.abs() < 1e-300 {
            break;
        }
        let step_a = (jtj[1][1] * jtr[0] - jtj[0][1] * jtr[1]) / det;
        let step_b = (jtj[0][0] * jtr[1] - jtj[1][0] * jtr[0]) / det;
        let current = loss(a, b);
        let mut scale = 1.0;
        while scale > 1e-6 {
            let (na, nb) = (a - scale * step_a, b - scale * step_b);
            if na > 0.0 && nb > 0.0 && loss(na, nb) < current {
                a = na;
                b = nb;
                break;
            }
            scale /= 2.0;
        }
        if scale <= 1e-6 || (step_a.abs() + step_b.abs()) < 1e-12 {
            break;
        }
    }
    (a, b)
}

fn clip(v: f64) -> f64 {
    v.clamp(-4.0, 4.0)
}

/// Embeds `points` in 2-D; the same (points, settings, seed) always give the same layout.
pub fn umap(
    points: &[Vec<f64>],
    settings: &UmapSettings,
    seed: u64,
) -> Result<Vec<[f64; 2]>, MetricError> {
    const WHAT: &str = "umap";
    check_points(WHAT, points, 3)?;
    let n = points.len();
    let k = settings.n_neighbors.clamp(2, n);
    let edges = fuzzy_union(&memberships(&knn(points, k), k));
    let epochs = match settings.epochs {
        0 if n <= 10_000 => 500,
        0 => 200,
        e => e,
    };
    let max_w = edges.iter().map(|e| e.2).fold(0.0, f64::max);
    // Edges too weak to be sampled once in all epochs are dropped (umap-learn does too).
    let edges: Vec<_> = edges
        .into_iter()
        .filter(|e| e.2 >= max_w / epochs as f64)
        .collect();
    let epochs_per_sample: Vec<f64> = edges.iter().map(|e| max_w / e.2).collect();
    let neg_rate = settings.negative_sample_rate as f64;
    let epochs_per_negative: Vec<f64> = epochs_per_sample.iter().map(|e| e / neg_rate).collect();
    let mut next_sample = epochs_per_sample.clone();
    let mut next_negative = epochs_per_negative.clone();
    let (a, b) = fit_ab(settings.spread, settings.min_dist);

    let mut y = initial_layout(points);
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    for epoch in 0..epochs {
        let alpha = settings.learning_rate * (1.0 - epoch as f64 / epochs as f64);
        for (e, &(i, j, _)) in edges.iter().enumerate() {
            if next_sample[e] > epoch as f64 {
                continue;
            }
            attract(&mut y, i, j, a, b, alpha);
            next_sample[e] += epochs_per_sample[e];
            let negatives = ((epoch as f64 - next_negative[e]) / epochs_per_negative[e]) as usize;
            for _ in 0..negatives {
                let other = rng.random_range(0..n);
                if other != i {
                    repel(&mut y, i, other, a, b, alpha);
                }
            }
            next_negative[e] += negatives as f64 * epochs_per_negative[e];
        }
    }
    Ok(y)
}

fn attract(y: &mut [[f64; 2]], i: usize, j: usize, a: f64, b: f64, alpha: f64) {
    let d = [y[i][0] - y[j][0], y[i][1] - y[j][1]];
    let dist2 = d[0] * d[0] + d[1] * d[1];
    if dist2 <= 0.0 {
        return;
    }
    let coeff = -2.0 * a * b * dist2.powf(b - 1.0) / (a * dist2.powf(b) + 1.0);
    for k in 0..2 {
        let g = clip(coeff * d[k]) * alpha;
        y[i][k] += g;
        y[j][k] -= g;
    }
}

fn repel(y: &mut [[f64; 2]], i: usize, other: usize, a: f64, b: f64, alpha: f64) {
    let d = [y[i][0] - y[other][0], y[i][1] - y[other][1]];
    let dist2 = d[0] * d[0] + d[1] * d[1];
    for k in 0..2 {
        let g = if dist2 > 0.0 {
            let coeff = 2.0 * b / ((0.001 + dist2) * (a * dist2.powf(b) + 1.0));
            clip(coeff * d[k])
        } else {
            4.0
        };
        y[i][k] += g * alpha;
    }
}

/// First two principal components, each scaled to [0, 10] (umap-learn rescales its
/// initial layout to this box too).
fn initial_layout(points: &[Vec<f64>]) -> Vec<[f64; 2]> {
    let mut y = pca_2d(points);
    for d in 0..2 {
        let lo = y.iter().map(|p| p[d]).fold(f64::INFINITY, f64::min);
        let hi = y.iter().map(|p| p[d]).fold(f64::NEG_INFINITY, f64::max);
        let range = if hi > lo { hi - lo } else { 1.0 };
        for p in y.iter_mut() {
            p[d] = 10.0 * (p[d] - lo) / range;
        }
    }
    y
}
