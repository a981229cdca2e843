//! What training reports: losses, and how much of the codebook is in use.
//!
//! Codebook collapse (a handful of codes doing all the work) is the known failure of the
//! baseline recipe; perplexity and usage make it visible epoch by epoch.

use serde::{Deserialize, Serialize};

/// Losses and codebook statistics over one pass of one split.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SplitMetrics {
    /// Reconstruction loss plus VQ loss.
    pub loss: f64,
    /// Mean squared error divided by the training pixels' variance.
    pub recon_loss: f64,
    /// Codebook plus commitment terms (commitment only when the codebook is an EMA).
    pub vq_loss: f64,
    /// `exp(entropy)` of the code frequencies: the effective number of codes in use.
    pub perplexity: f64,
    /// Fraction of the K codes used at least once.
    pub code_usage: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EpochMetrics {
    /// 1-based.
    pub epoch: usize,
    pub train: SplitMetrics,
    /// None when the run holds no validation cutouts.
    pub validation: Option<SplitMetrics>,
    pub seconds: f64,
}

/// `exp(-sum p ln p)` of the frequencies in `counts` (1 when nothing was counted).
pub fn perplexity(counts: &[i64]) -> f64 {
    let total: i64 = counts.iter().sum();
    if total <= 0 {
        return 1.0;
    }
    let entropy: f64 = counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = c as f64 / total as f64;
            -p * p.ln()
        })
        .sum();
    entropy.exp()
}

/// Fraction of codes with a non-zero count.
pub fn code_usage(counts: &[i64]) -> f64 {
    if counts.is_empty() {
        return 0.0;
    }
    counts.iter().filter(|&&c| c > 0).count() as f64 / counts.len() as f64
}

/// Sums losses weighted by batch size and code counts over a pass.
#[derive(Debug)]
pub(crate) struct PassAccumulator {
    images: usize,
    loss: f64,
    recon_loss: f64,
    vq_loss: f64,
    counts: Vec<i64>,
}

impl PassAccumulator {
    pub(crate) fn new(num_codes: usize) -> Self {
        PassAccumulator {
            images: 0,
            loss: 0.0,
            recon_loss: 0.0,
            vq_loss: 0.0,
            counts: vec![0; num_codes],
        }
    }

    pub(crate) fn add(&mut self, images: usize, recon_loss: f64, vq_loss: f64, counts: &[i64]) {
        let w = images as f64;
        self.images += images;
        self.recon_loss += w * recon_loss;
        self.vq_loss += w * vq_loss;
        self.loss += w * (recon_loss + vq_loss);
        for (total, c) in self.counts.iter_mut().zip(counts) {
            *total += c;
        }
    }

    pub(crate) fn finish(&self) -> SplitMetrics {
        let w = self.images.max(1) as f64;
        SplitMetrics {
            loss: self.loss / w,
            recon_loss: self.recon_loss / w,
            vq_loss: self.vq_loss / w,
            perplexity: perplexity(&self.counts),
            code_usage: code_usage(&self.counts),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn perplexity_counts_the_codes_in_equal_use() {
        assert!((perplexity(&[5, 5, 5, 5, 0, 0]) - 4.0).abs() < 1e-12);
        assert_eq!(perplexity(&[0, 9, 0]), 1.0);
        assert_eq!(perplexity(&[0, 0]), 1.0);
        let skewed = perplexity(&[90, 10]);
        assert!(skewed > 1.0 && skewed < 2.0);
        assert_eq!(code_usage(&[1, 0, 3, 0]), 0.5);
    }

    #[test]
    fn pass_metrics_weight_batches_by_their_size() {
        let mut acc = PassAccumulator::new(2);
        acc.add(3, 1.0, 0.5, &[3, 0]);
        acc.add(1, 5.0, 0.5, &[0, 1]);
        let m = acc.finish();
        assert!((m.recon_loss - 2.0).abs() < 1e-12);
        assert!((m.loss - 2.5).abs() < 1e-12);
        assert_eq!(m.code_usage, 1.0);
    }
}
