//! A derived score fusing several model scores without labels: the mean of their
//! normalised ranks within the test set. Ranks need no common scale (NCC lies in [-1, 1],
//! MSE is unbounded), and using no label keeps the fusion honest.

use super::evaluate::{score_values, ScoredSource};
use super::scorer::ScoreSpec;
use crate::error::MetricError;
use crate::metrics::average_ranks;

/// Name of the derived score.
pub const COMBINED: &str = "combined";

/// Adds [`COMBINED`] to every source's scores: for each of `names`, the score oriented so
/// higher is more anomalous, ranked (ties averaged) and scaled to [0, 1]; then the mean
/// over `names`. Returns its spec.
pub fn add_combined_score(
    sources: &mut [ScoredSource],
    specs: &[ScoreSpec],
    names: &[String],
) -> Result<ScoreSpec, MetricError> {
    const WHAT: &str = "combined score";
    if names.len() < 2 {
        return Err(MetricError::Invalid {
            what: WHAT,
            reason: format!("needs at least two scores to combine, got {names:?}"),
        });
    }
    let n = sources.len();
    let mut combined = vec![0.0; n];
    for name in names {
        let spec = specs
            .iter()
            .find(|s| &s.name == name)
            .ok_or_else(|| MetricError::Invalid {
                what: WHAT,
                reason: format!("the scorer declares no score {name:?}"),
            })?;
        let sign = if spec.higher_is_anomalous { 1.0 } else { -1.0 };
        let oriented: Vec<f64> = score_values(sources, name)?
            .into_iter()
            .map(|v| sign * v)
            .collect();
        let ranks = average_ranks(&oriented).ranks;
        let scale = (n.max(2) - 1) as f64;
        for (c, r) in combined.iter_mut().zip(ranks) {
            *c += (r - 1.0) / scale / names.len() as f64;
        }
    }
    for (source, value) in sources.iter_mut().zip(combined) {
        source.scores.insert(COMBINED.to_string(), value);
    }
    Ok(ScoreSpec {
        name: COMBINED.to_string(),
        higher_is_anomalous: true,
        description: format!("mean normalised rank of {}", names.join(", ")),
    })
}
