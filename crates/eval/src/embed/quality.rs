//! How faithfully a 2-D embedding keeps neighbourhoods.

use super::points::{check_points, squared_distance};
use crate::error::MetricError;
use crate::metrics::check_same_length;

/// Indices of the `k` nearest other points of every point, nearest first (ties by index).
pub fn nearest_neighbours(points: &[Vec<f64>], k: usize) -> Vec<Vec<usize>> {
    let n = points.len();
    (0..n)
        .map(|i| {
            let mut others: Vec<(f64, usize)> = (0..n)
                .filter(|&j| j != i)
                .map(|j| (squared_distance(&points[i], &points[j]), j))
                .collect();
            others.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
            others.into_iter().take(k).map(|(_, j)| j).collect()
        })
        .collect()
}

fn as_vectors(embedding: &[[f64; 2]]) -> Vec<Vec<f64>> {
    embedding.iter().map(|p| p.to_vec()).collect()
}

/// Trustworthiness (Venna & Kaski; `sklearn.manifold.trustworthiness`): 1 when every
/// point's `k` nearest neighbours in the embedding are among its `k` nearest in the
/// original space, penalising intruders by how far they really are.
pub fn trustworthiness(
    high: &[Vec<f64>],
    embedding: &[[f64; 2]],
    k: usize,
) -> Result<f64, MetricError> {
    const WHAT: &str = "trustworthiness";
    check_points(WHAT, high, 1)?;
    let n = high.len();
    check_same_length(WHAT, n, embedding.len())?;
    if k == 0 || 2 * k >= n {
        return Err(MetricError::Invalid {
            what: WHAT,
            reason: format!("k = {k} must be in 1..{}", n / 2),
        });
    }
    let high_order = nearest_neighbours(high, n - 1);
    let low = nearest_neighbours(&as_vectors(embedding), k);
    let mut penalty = 0.0;
    for i in 0..n {
        let mut rank = vec![0usize; n];
        for (r, &j) in high_order[i].iter().enumerate() {
            rank[j] = r + 1;
        }
        penalty += low[i]
            .iter()
            .map(|&j| rank[j].saturating_sub(k) as f64)
            .sum::<f64>();
    }
    let (n, k) = (n as f64, k as f64);
    Ok(1.0 - penalty * 2.0 / (n * k * (2.0 * n - 3.0 * k - 1.0)))
}

/// Fraction of each point's `k` nearest embedded neighbours sharing its label, averaged:
/// near 1 when classes stay apart, near the class share for a random layout.
pub fn neighbour_label_agreement(
    embedding: &[[f64; 2]],
    labels: &[usize],
    k: usize,
) -> Result<f64, MetricError> {
    const WHAT: &str = "neighbour_label_agreement";
    check_same_length(WHAT, labels.len(), embedding.len())?;
    if k == 0 || k >= embedding.len() {
        return Err(MetricError::Invalid {
            what: WHAT,
            reason: format!("k = {k} must be in 1..{}", embedding.len()),
        });
    }
    let neighbours = nearest_neighbours(&as_vectors(embedding), k);
    let agreeing: usize = neighbours
        .iter()
        .enumerate()
        .map(|(i, ns)| ns.iter().filter(|&&j| labels[j] == labels[i]).count())
        .sum();
    Ok(agreeing as f64 / (embedding.len() * k) as f64)
}
