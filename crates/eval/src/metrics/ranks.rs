//! Average ranks with tie groups, shared by the rank tests.

/// Ranks 1..=n of `values` (ties get the mean of their ranks, `scipy.stats.rankdata`'s
/// 'average') and the size of every tie group (groups of one included).
#[derive(Debug, Clone, PartialEq)]
pub struct Ranked {
    pub ranks: Vec<f64>,
    pub tie_groups: Vec<usize>,
}

impl Ranked {
    /// Sum of `t^3 - t` over tie groups, the tie correction of both rank tests.
    pub fn tie_term(&self) -> f64 {
        self.tie_groups
            .iter()
            .map(|&t| {
                let t = t as f64;
                t * t * t - t
            })
            .sum()
    }

    pub fn has_ties(&self) -> bool {
        self.tie_groups.iter().any(|&t| t > 1)
    }
}

/// Ranks finite `values` (the caller checks finiteness).
pub fn average_ranks(values: &[f64]) -> Ranked {
    let mut order: Vec<usize> = (0..values.len()).collect();
    order.sort_by(|&a, &b| {
        values[a]
            .partial_cmp(&values[b])
            .unwrap_or(std::cmp::Ordering::Equal)
    });
    let mut ranks = vec![0.0; values.len()];
    let mut tie_groups = Vec::new();
    let mut start = 0;
    while start < order.len() {
        let mut end = start + 1;
        while end < order.len() && values[order[end]] == values[order[start]] {
            end += 1;
        }
        // Positions start..end hold ranks start+1..=end; their mean:
        let rank = (start + 1 + end) as f64 / 2.0;
        for &i in &order[start..end] {
            ranks[i] = rank;
        }
        tie_groups.push(end - start);
        start = end;
    }
    Ranked { ranks, tie_groups }
}
