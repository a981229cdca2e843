//! Anomaly scores of cutouts under a trained model.
//!
//! Per cutout:
//! - `ncc`: the study's equation 2, the mean over pixels of the product of the input and
//!   its reconstruction, each standardised by its own mean and population standard
//!   deviation. 1 = perfect reconstruction, -1 = the negated image. **Lower is more
//!   anomalous.** An image whose standard deviation is below [`CONSTANT_STD`] (a
//!   constant cutout, or a constant reconstruction) has no NCC: it is reported as 0 with
//!   `ncc_defined = false`, never NaN.
//! - `mse`: mean squared error in pixel units. Higher is more anomalous.
//! - `rarity`: mean over the code form of `-ln p(code)`, with `p` the code's frequency in
//!   the training split with add-one smoothing, `(count + 1) / (total + K)`. Higher is
//!   more anomalous (sources made of codes the training data rarely used).
//! - `combined`: `z(1 - ncc) + z(rarity)`, each z-scored with the mean and standard
//!   deviation of that score over the training split (kept in the model card). Higher is
//!   more anomalous.
//! - `anomaly`: the one the caller ranks by, higher = more anomalous: by default the
//!   combined score; [`AnomalyMeasure`] picks another.

use crate::card::{load_model, ModelCard};
use crate::data::{check_pixels, images_tensor};
use crate::error::{ModelError, Result};
use crate::network::VqVae;
use prospector_cutouts::CutoutSet;
use std::path::Path;
use tch::{Device, Kind, Tensor};

/// Below this population standard deviation (in pixel units; cutouts are normalised to
/// [0, 1]) an image counts as constant and its NCC is undefined.
pub const CONSTANT_STD: f64 = 1e-9;

/// Which score `anomaly` carries. Every choice is oriented higher = more anomalous.
///
/// The default is the study's `1 - NCC`: on the MiraBest protocol runs made so far the
/// code-rarity score ranked exotic galaxies *below* typical ones (AUC under 0.5), so the
/// combined score was worse than NCC alone. Change the default only on protocol evidence.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum AnomalyMeasure {
    /// `1 - ncc`: the study's ranking.
    #[default]
    OneMinusNcc,
    Mse,
    Rarity,
    Combined,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ScoreOptions {
    /// Return each cutout's reconstruction (for galleries of input, reconstruction and
    /// residual).
    pub reconstructions: bool,
    pub anomaly: AnomalyMeasure,
}

/// The scores of one cutout (see the module documentation for each one's direction).
#[derive(Debug, Clone, PartialEq)]
pub struct SourceScore {
    pub ncc: f64,
    /// False when the input or its reconstruction is constant (then `ncc` is 0).
    pub ncc_defined: bool,
    pub mse: f64,
    pub rarity: f64,
    pub combined: f64,
    /// Higher = more anomalous.
    pub anomaly: f64,
    /// The code form: the code index of each latent-grid cell, row-major
    /// (`side/4` x `side/4`, 16x16 for 64x64 cutouts).
    pub codes: Vec<u16>,
    /// The reconstruction in pixel units, row-major `side` x `side`, when asked for.
    pub reconstruction: Option<Vec<f32>>,
}

/// NCC of two images of the same size.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Ncc {
    pub value: f64,
    /// False when either image is constant (then `value` is 0).
    pub defined: bool,
}

/// NCC (equation 2 of the study) of two images given as pixels.
pub fn ncc(a: &[f32], b: &[f32]) -> Result<Ncc> {
    if a.len() != b.len() || a.is_empty() {
        return Err(ModelError::Input(format!(
            "NCC needs two non-empty images of one size, got {} and {} pixels",
            a.len(),
            b.len()
        )));
    }
    let (value, defined) = ncc_rows(
        &Tensor::f_from_slice(a)?.f_view([1, -1])?,
        &Tensor::f_from_slice(b)?.f_view([1, -1])?,
    )?;
    Ok(Ncc {
        value: value.f_double_value(&[0])?,
        defined: defined.f_int64_value(&[0])? != 0,
    })
}

/// Row-wise NCC of `[N, P]` tensors, computed in f64: (values `[N]`, defined `[N]` bool).
fn ncc_rows(a: &Tensor, b: &Tensor) -> Result<(Tensor, Tensor)> {
    let standardise = |t: &Tensor| -> Result<(Tensor, Tensor)> {
        let t = t.f_to_kind(Kind::Double)?;
        let centred = &t - t.f_mean_dim(1i64, true, Kind::Double)?;
        let std = centred
            .f_square()?
            .f_mean_dim(1i64, true, Kind::Double)?
            .f_sqrt()?;
        let defined = std.f_gt(CONSTANT_STD)?;
        // Dividing by 1 where undefined keeps the arithmetic finite; masked below.
        let safe_std = std.f_where_self(&defined, &Tensor::f_ones_like(&std)?)?;
        Ok((centred / safe_std, defined))
    };
    let (sa, da) = standardise(a)?;
    let (sb, db) = standardise(b)?;
    let defined = da.f_logical_and(&db)?.f_view([-1])?;
    let values = (sa * sb).f_mean_dim(1i64, false, Kind::Double)?;
    let values = values.f_where_self(&defined, &Tensor::f_zeros_like(&values)?)?;
    Ok((values, defined))
}

/// What the network makes of one batch, before the training-split statistics.
#[derive(Debug)]
pub(crate) struct RawScores {
    pub(crate) ncc: Vec<f64>,
    pub(crate) ncc_defined: Vec<bool>,
    pub(crate) mse: Vec<f64>,
    /// `grid * grid` codes per cutout, cutout after cutout.
    pub(crate) codes: Vec<u16>,
    /// `side * side` pixels per cutout, in pixel units.
    pub(crate) reconstructions: Option<Vec<f32>>,
}

/// Runs the network on contiguous cutouts (one device batch) and scores them.
pub(crate) fn raw_scores(
    net: &VqVae,
    pixels: &[f32],
    device: Device,
    reconstructions: bool,
) -> Result<RawScores> {
    let _guard = tch::no_grad_guard();
    let arch = net.architecture();
    let x = images_tensor(pixels, arch.side, arch.input_shift, device)?;
    let encoded = net.assign(&net.encode(&x)?)?;
    let rows = net.codebook.f_index_select(0, &encoded.codes)?;
    let recon = net.decode(&net.to_grid(&rows)?)?;
    let n = x.size()[0];
    let (x, recon) = (x.f_view([n, -1])?, recon.f_reshape([n, -1])?);
    let (ncc, defined) = ncc_rows(&x, &recon)?;
    let mse = (&x - &recon)
        .f_square()?
        .f_mean_dim(1i64, false, Kind::Double)?;
    let codes = Vec::<i64>::try_from(&encoded.codes)?;
    let reconstructions = if reconstructions {
        let shifted = recon
            .f_add_scalar(arch.input_shift as f64)?
            .f_reshape([-1])?;
        Some(Vec::<f32>::try_from(&shifted)?)
    } else {
        None
    };
    Ok(RawScores {
        ncc: Vec::<f64>::try_from(&ncc)?,
        ncc_defined: Vec::<bool>::try_from(&defined)?,
        mse: Vec::<f64>::try_from(&mse)?,
        // Codes index a codebook of at most 65536 entries (checked by the configuration).
        codes: codes.into_iter().map(|c| c as u16).collect(),
        reconstructions,
    })
}

/// `-ln p(code)` for each code, from a usage histogram with add-one smoothing.
pub(crate) fn neg_log_frequencies(histogram: &[u64]) -> Vec<f64> {
    let total: u64 = histogram.iter().sum();
    let denominator = (total + histogram.len() as u64) as f64;
    histogram
        .iter()
        .map(|&c| -(((c + 1) as f64) / denominator).ln())
        .collect()
}

/// Mean `-ln p(code)` over one cutout's code form.
pub(crate) fn rarity(codes: &[u16], neg_log_frequencies: &[f64]) -> f64 {
    let sum: f64 = codes.iter().map(|&c| neg_log_frequencies[c as usize]).sum();
    sum / codes.len().max(1) as f64
}

/// A trained model ready to score cutouts on one device.
///
/// `Send` but not `Sync` (libtorch tensors): one per worker thread, see [`crate::device`].
#[derive(Debug)]
pub struct Scorer {
    net: VqVae,
    card: ModelCard,
    device: Device,
    batch_size: usize,
    neg_log_frequencies: Vec<f64>,
}

impl Scorer {
    /// Loads the model in folder `dir` onto `device`.
    pub fn load(dir: &Path, device: Device) -> Result<Scorer> {
        let (net, card) = load_model(dir, device)?;
        Ok(Scorer {
            neg_log_frequencies: neg_log_frequencies(&card.code_histogram),
            batch_size: crate::device::inference_batch_size(device),
            net,
            card,
            device,
        })
    }

    pub fn card(&self) -> &ModelCard {
        &self.card
    }

    /// The content hash of the weights, as recorded in the card.
    pub fn version_id(&self) -> &str {
        &self.card.version_id
    }

    pub fn device(&self) -> Device {
        self.device
    }

    /// Side of the cutouts the model takes.
    pub fn side(&self) -> usize {
        self.net.architecture().side
    }

    /// Cutouts per forward pass (default: [`crate::inference_batch_size`] of the device).
    pub fn batch_size(&self) -> usize {
        self.batch_size
    }

    pub fn set_batch_size(&mut self, batch_size: usize) {
        self.batch_size = batch_size.max(1);
    }

    /// Scores every cutout of `set`, in order.
    pub fn score_set(&self, set: &CutoutSet, options: &ScoreOptions) -> Result<Vec<SourceScore>> {
        self.score_set_with_progress(set, options, &mut |_, _| {})
    }

    /// As [`score_set`](Self::score_set), calling `progress(done, total)` after each batch.
    pub fn score_set_with_progress(
        &self,
        set: &CutoutSet,
        options: &ScoreOptions,
        progress: &mut dyn FnMut(usize, usize),
    ) -> Result<Vec<SourceScore>> {
        if set.side() != self.side() {
            return Err(ModelError::Input(format!(
                "the cutout set holds {0}x{0} cutouts, model {1} takes {2}x{2}",
                set.side(),
                self.version_id(),
                self.side()
            )));
        }
        self.score_batches(set.pixels(), options, progress)
    }

    /// Scores contiguous `side` x `side` cutouts given as raw pixels (any number, split
    /// into device-sized batches).
    pub fn score_pixels(&self, pixels: &[f32], options: &ScoreOptions) -> Result<Vec<SourceScore>> {
        self.score_batches(pixels, options, &mut |_, _| {})
    }

    fn score_batches(
        &self,
        pixels: &[f32],
        options: &ScoreOptions,
        progress: &mut dyn FnMut(usize, usize),
    ) -> Result<Vec<SourceScore>> {
        let side = self.side();
        let total = check_pixels(pixels, side)?;
        let mut scores = Vec::with_capacity(total);
        for batch in pixels.chunks(self.batch_size * side * side) {
            let raw = raw_scores(&self.net, batch, self.device, options.reconstructions)?;
            self.finish(raw, options, &mut scores);
            progress(scores.len(), total);
        }
        Ok(scores)
    }

    /// Adds rarity and the combined score to a batch's raw scores.
    fn finish(&self, raw: RawScores, options: &ScoreOptions, out: &mut Vec<SourceScore>) {
        let stats = &self.card.score_stats;
        let grid = self.net.architecture().grid_side().pow(2);
        let pixels = self.side().pow(2);
        for (i, codes) in raw.codes.chunks(grid).enumerate() {
            let rarity = rarity(codes, &self.neg_log_frequencies);
            let (ncc, mse) = (raw.ncc[i], raw.mse[i]);
            let combined = stats.one_minus_ncc.z(1.0 - ncc) + stats.rarity.z(rarity);
            let anomaly = match options.anomaly {
                AnomalyMeasure::OneMinusNcc => 1.0 - ncc,
                AnomalyMeasure::Mse => mse,
                AnomalyMeasure::Rarity => rarity,
                AnomalyMeasure::Combined => combined,
            };
            out.push(SourceScore {
                ncc,
                ncc_defined: raw.ncc_defined[i],
                mse,
                rarity,
                combined,
                anomaly,
                codes: codes.to_vec(),
                reconstruction: raw
                    .reconstructions
                    .as_ref()
                    .map(|r| r[i * pixels..(i + 1) * pixels].to_vec()),
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_scorer_can_move_to_a_worker_thread() {
        fn assert_send<T: Send>() {}
        assert_send::<Scorer>();
    }

    #[test]
    fn add_one_smoothing_gives_unseen_codes_the_highest_rarity() {
        let nlf = neg_log_frequencies(&[6, 2, 0]);
        // (c + 1) / (8 + 3)
        assert!((nlf[0] - (11.0f64 / 7.0).ln()).abs() < 1e-12);
        assert!((nlf[2] - 11.0f64.ln()).abs() < 1e-12);
        assert!((rarity(&[0, 2], &nlf) - (nlf[0] + nlf[2]) / 2.0).abs() < 1e-12);
    }
}
