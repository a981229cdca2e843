//! Checks shared by every metric: paired lengths, finite values, both classes present.

use crate::error::MetricError;

/// Counts of each class in a labelled score vector (positive = exotic).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClassCounts {
    pub positives: usize,
    pub negatives: usize,
}

/// Checks that every value is finite, naming the first offender.
pub fn check_finite(what: &'static str, values: &[f64]) -> Result<(), MetricError> {
    match values.iter().position(|v| !v.is_finite()) {
        Some(index) => Err(MetricError::NotFinite {
            what,
            index,
            value: values[index],
        }),
        None => Ok(()),
    }
}

/// Checks that two paired vectors have the same length.
pub fn check_same_length(what: &'static str, left: usize, right: usize) -> Result<(), MetricError> {
    if left == right {
        Ok(())
    } else {
        Err(MetricError::LengthMismatch { what, left, right })
    }
}

/// Checks a (labels, scores) pair and returns the class counts; both classes must occur.
pub fn check_binary(
    what: &'static str,
    labels: &[bool],
    scores: &[f64],
) -> Result<ClassCounts, MetricError> {
    check_same_length(what, labels.len(), scores.len())?;
    if labels.is_empty() {
        return Err(MetricError::Empty { what });
    }
    check_finite(what, scores)?;
    let positives = labels.iter().filter(|&&l| l).count();
    let negatives = labels.len() - positives;
    if positives == 0 || negatives == 0 {
        return Err(MetricError::SingleClass {
            what,
            positives,
            negatives,
        });
    }
    Ok(ClassCounts {
        positives,
        negatives,
    })
}

/// Indices of `scores` ordered by decreasing score (ties keep no particular order;
/// every metric here treats tied scores as one threshold).
pub fn descending_order(scores: &[f64]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..scores.len()).collect();
    // Scores are checked finite before this is called, so partial_cmp never fails;
    // it also treats -0.0 and 0.0 as one value, as numpy does.
    order.sort_by(|&a, &b| {
        scores[b]
            .partial_cmp(&scores[a])
            .unwrap_or(std::cmp::Ordering::Equal)
    });
    order
}
