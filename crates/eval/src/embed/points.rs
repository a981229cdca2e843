//! Shared pieces of the embeddings: input checks, distances, PCA initialisation and the
//! code-form features.

use crate::error::MetricError;
use crate::protocol::CodeForm;

/// Checks that `points` holds at least `min_points` (and at least one) equally long,
/// finite vectors; returns the dimension.
pub fn check_points(
    what: &'static str,
    points: &[Vec<f64>],
    min_points: usize,
) -> Result<usize, MetricError> {
    if points.len() < min_points.max(1) {
        return Err(MetricError::Invalid {
            what,
            reason: format!(
                "needs at least {} points, got {}",
                min_points.max(1),
                points.len()
            ),
        });
    }
    let dim = points.first().map_or(0, Vec::len);
    for (i, p) in points.iter().enumerate() {
        if p.len() != dim {
            return Err(MetricError::Invalid {
                what,
                reason: format!("point {i} has {} values, point 0 has {dim}", p.len()),
            });
        }
        if let Some(v) = p.iter().find(|v| !v.is_finite()) {
            return Err(MetricError::Invalid {
                what,
                reason: format!("point {i} holds a non-finite value {v}"),
            });
        }
    }
    Ok(dim)
}

pub fn squared_distance(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum()
}

/// All pairwise squared distances, row-major n x n.
pub fn squared_distances(points: &[Vec<f64>]) -> Vec<f64> {
    let n = points.len();
    let mut d = vec![0.0; n * n];
    for i in 0..n {
        for j in i + 1..n {
            let v = squared_distance(&points[i], &points[j]);
            d[i * n + j] = v;
            d[j * n + i] = v;
        }
    }
    d
}

/// The data projected on its first two principal components (power iteration with
/// deflation, started from a fixed vector, so deterministic). Components with no variance
/// project to zero.
pub fn pca_2d(points: &[Vec<f64>]) -> Vec<[f64; 2]> {
    let n = points.len();
    let dim = points.first().map_or(0, Vec::len);
    let mut mean = vec![0.0; dim];
    for p in points {
        for (m, v) in mean.iter_mut().zip(p) {
            *m += v / n as f64;
        }
    }
    let centred: Vec<Vec<f64>> = points
        .iter()
        .map(|p| p.iter().zip(&mean).map(|(v, m)| v - m).collect())
        .collect();
    let mut components: Vec<Vec<f64>> = Vec::new();
    for c in 0..2 {
        // Start away from symmetric points: a fixed, non-degenerate vector.
        let mut v: Vec<f64> = (0..dim).map(|i| 1.0 + ((i + c) % 7) as f64 * 0.1).collect();
        for _ in 0..200 {
            // w = X^T X v, minus projections on the components already found.
            let xv: Vec<f64> = centred.iter().map(|row| dot(row, &v)).collect();
            let mut w = vec![0.0; dim];
            for (row, s) in centred.iter().zip(&xv) {
                for (wi, ri) in w.iter_mut().zip(row) {
                    *wi += ri * s;
                }
            }
            for prev in &components {
                let proj = dot(&w, prev);
                for (wi, pi) in w.iter_mut().zip(prev) {
                    *wi -= proj * pi;
                }
            }
            let norm = dot(&w, &w).sqrt();
            if norm < 1e-300 {
                v = vec![0.0; dim];
                break;
            }
            v = w.into_iter().map(|x| x / norm).collect();
        }
        components.push(v);
    }
    centred
        .iter()
        .map(|row| [dot(row, &components[0]), dot(row, &components[1])])
        .collect()
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// Feature vectors of code forms: the square root of each codebook entry's share of the
/// grid. Euclidean distance between these is the Hellinger distance between code-usage
/// distributions: sources built from the same codes are close whatever their layout,
/// which suits cutouts whose orientation and position vary. (A one-hot flattening would
/// have width x height x codebook dimensions and separate shifted copies of one shape.)
pub fn code_usage_features(forms: &[&CodeForm]) -> Result<Vec<Vec<f64>>, MetricError> {
    const WHAT: &str = "code_usage_features";
    let size = forms
        .first()
        .map(|f| f.codebook_size)
        .ok_or(MetricError::Empty { what: WHAT })?;
    forms
        .iter()
        .enumerate()
        .map(|(i, form)| {
            if form.codebook_size != size {
                return Err(MetricError::Invalid {
                    what: WHAT,
                    reason: format!(
                        "code form {i} has codebook size {}, form 0 has {size}",
                        form.codebook_size
                    ),
                });
            }
            if form.codes.is_empty() || form.codes.len() != form.width * form.height {
                return Err(MetricError::Invalid {
                    what: WHAT,
                    reason: format!(
                        "code form {i} holds {} codes for a {}x{} grid",
                        form.codes.len(),
                        form.width,
                        form.height
                    ),
                });
            }
            let mut counts = vec![0.0; size];
            for &c in &form.codes {
                let slot = counts
                    .get_mut(c as usize)
                    .ok_or_else(|| MetricError::Invalid {
                        what: WHAT,
                        reason: format!("code form {i} uses code {c} of a codebook of {size}"),
                    })?;
                *slot += 1.0;
            }
            let total = form.codes.len() as f64;
            Ok(counts.into_iter().map(|c| (c / total).sqrt()).collect())
        })
        .collect()
}
