//! Training: the keras-io loop (reconstruction MSE over the training pixels' variance
//! plus the VQ loss, Adam), with a seeded validation split, per-epoch metrics, a
//! checkpoint after every epoch and resumption from it.
//!
//! A run writes into its output folder:
//! - `checkpoint/` after every epoch: weights, codebook-learning state, Adam's moments
//!   and the metrics so far. Resuming restores all of it, so a resumed run continues
//!   exactly where the interrupted one stopped (same batches, same moments);
//! - at the end, the model folder proper: `model.safetensors` and `model-card.json`.
//!
//! On the CPU a run is a function of the cutouts, the configuration (with its seed) and
//! the number of libtorch threads: with another thread count libtorch's reductions sum in
//! another order (measured: the loss differs in the 12th digit after one epoch, so the
//! weights' hash differs). [`TrainOptions::threads`] fixes the count and the card records
//! it. CUDA runs are not bitwise repeatable (cuDNN may pick non-deterministic kernels).

use crate::adam::Adam;
use crate::card::{save_model, MeanStd, ModelCard, ScoreStats, TrainingData, CARD_FORMAT};
use crate::config::{CodebookUpdate, QuantiserConfig, TrainConfig};
use crate::data::{
    check_pixels, epoch_order, gather, images_tensor, pixel_variance, pixels_sha256, rng, split,
    stream,
};
use crate::device::{device_name, inference_batch_size, set_threads};
use crate::error::{io_error, ModelError, Result};
use crate::metrics::{perplexity, EpochMetrics, PassAccumulator, SplitMetrics};
use crate::network::VqVae;
use crate::quantiser::{code_counts, CodebookTrainer};
use crate::score::{neg_log_frequencies, rarity, raw_scores};
use crate::store::{read_json, read_tensors, write_json, write_tensors};
use prospector_cutouts::CutoutSet;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::Instant;
use tch::{Device, Kind, Tensor};

/// Folder of the output folder holding the last epoch's checkpoint.
pub const CHECKPOINT_DIR: &str = "checkpoint";
const CHECKPOINT_FORMAT: &str = "prospector-model-checkpoint/1";
const STATE_FILE: &str = "state.json";
const WEIGHTS_FILE: &str = "weights.safetensors";
const OPTIMIZER_FILE: &str = "optimizer.safetensors";

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TrainOptions {
    pub device: Device,
    /// Continue from the output folder's checkpoint when there is one. Without it, a
    /// folder holding a checkpoint is refused rather than overwritten.
    pub resume: bool,
    /// libtorch CPU threads for the run (process-wide); None keeps the current setting.
    /// Bitwise-repeatable CPU training needs the same count.
    pub threads: Option<usize>,
}

/// What training reports as it goes (for a progress bar).
#[derive(Debug, Clone, PartialEq)]
pub enum Progress<'a> {
    Started {
        epochs: usize,
        steps_per_epoch: usize,
        /// Epochs already done by the checkpoint resumed from (0 for a fresh run).
        resumed_epochs: usize,
        train_cutouts: usize,
        validation_cutouts: usize,
    },
    /// After each optimiser step; `epoch` and `step` are 1-based. Perplexity is this
    /// batch's.
    Step {
        epoch: usize,
        step: usize,
        steps: usize,
        loss: f64,
        recon_loss: f64,
        vq_loss: f64,
        perplexity: f64,
    },
    /// After each epoch's validation and checkpoint.
    Epoch(&'a EpochMetrics),
    /// Scoring the training split for the code histogram and score statistics.
    Finalising,
}

/// The checkpoint's description of the run.
#[derive(Debug, Serialize, Deserialize)]
struct CheckpointState {
    format: String,
    config: TrainConfig,
    pixels_sha256: String,
    adam_steps: u64,
    epochs: Vec<EpochMetrics>,
}

/// The data of a run, checked.
struct Dataset<'a> {
    set: &'a CutoutSet,
    train: Vec<usize>,
    validation: Vec<usize>,
    variance: f64,
    sha256: String,
}

/// Everything that learns.
struct Learner {
    net: VqVae,
    codebook: CodebookTrainer,
    adam: Adam,
}

/// Trains a model on `set` and writes it into `out_dir` (see the module documentation);
/// returns its card. `progress` is called from this thread.
pub fn train(
    set: &CutoutSet,
    config: &TrainConfig,
    out_dir: &Path,
    options: &TrainOptions,
    progress: &mut dyn FnMut(&Progress),
) -> Result<ModelCard> {
    config.validate()?;
    if let Some(threads) = options.threads {
        set_threads(threads);
    }
    let data = Dataset::check(set, config)?;
    fs::create_dir_all(out_dir).map_err(io_error(out_dir))?;
    let mut net = VqVae::init(
        &config.architecture,
        &mut rng(config.seed, stream::WEIGHTS),
        options.device,
    )?;
    net.set_trainable(config.quantiser.update == CodebookUpdate::Gradient);
    let mut learner = Learner {
        codebook: CodebookTrainer::new(&config.quantiser, &net.codebook)?,
        adam: Adam::new(config.adam, &net.trainable_tensors())?,
        net,
    };
    let mut history = match resume_checkpoint(out_dir, config, &data, &mut learner, options.resume)?
    {
        Some(epochs) => epochs,
        None => {
            learner.kmeans_init(config, &data, options.device)?;
            Vec::new()
        }
    };
    let steps = data.train.len().div_ceil(config.batch_size);
    progress(&Progress::Started {
        epochs: config.epochs,
        steps_per_epoch: steps,
        resumed_epochs: history.len(),
        train_cutouts: data.train.len(),
        validation_cutouts: data.validation.len(),
    });
    for epoch in history.len()..config.epochs {
        let started = Instant::now();
        let train = learner.train_epoch(config, &data, epoch, options.device, progress)?;
        let validation = if data.validation.is_empty() {
            None
        } else {
            Some(evaluate(
                &learner.net,
                config,
                &data,
                &data.validation,
                options.device,
            )?)
        };
        history.push(EpochMetrics {
            epoch: epoch + 1,
            train,
            validation,
            seconds: started.elapsed().as_secs_f64(),
        });
        let state = CheckpointState {
            format: CHECKPOINT_FORMAT.to_string(),
            config: config.clone(),
            pixels_sha256: data.sha256.clone(),
            adam_steps: learner.adam.steps_taken(),
            epochs: history.clone(),
        };
        save_checkpoint(out_dir, &learner, &state)?;
        if let Some(last) = history.last() {
            progress(&Progress::Epoch(last));
        }
    }
    progress(&Progress::Finalising);
    let (code_histogram, score_stats) =
        training_split_statistics(&learner.net, &data, options.device)?;
    let mut card = ModelCard {
        format: CARD_FORMAT.to_string(),
        version_id: String::new(),
        trainer_version: env!("CARGO_PKG_VERSION").to_string(),
        config: config.clone(),
        training_data: TrainingData {
            pixels_sha256: data.sha256.clone(),
            cutouts: set.len(),
            train_cutouts: data.train.len(),
            validation_cutouts: data.validation.len(),
            side: set.side(),
            normalisation: set.normalisation().to_string(),
            pixel_variance: data.variance,
        },
        final_metrics: history
            .last()
            .cloned()
            .ok_or_else(|| ModelError::Config("training ran no epoch".into()))?,
        epochs: history,
        code_histogram,
        score_stats,
        device: device_name(options.device),
        threads: tch::get_num_threads(),
    };
    save_model(out_dir, &learner.net, &mut card)?;
    Ok(card)
}

impl<'a> Dataset<'a> {
    fn check(set: &'a CutoutSet, config: &TrainConfig) -> Result<Self> {
        let side = config.architecture.side;
        if set.side() != side {
            return Err(ModelError::Input(format!(
                "the cutout set holds {0}x{0} cutouts, the configuration expects {side}x{side}",
                set.side()
            )));
        }
        let n = check_pixels(set.pixels(), side)?;
        let (train, validation) = split(n, config.validation_fraction, config.seed);
        if train.is_empty() {
            return Err(ModelError::Input(format!(
                "{n} cutouts leave none to train on after the validation split"
            )));
        }
        let variance = pixel_variance(set.pixels(), side, &train);
        if variance <= 0.0 {
            return Err(ModelError::Input(
                "the training cutouts are all one constant value (zero pixel variance)".into(),
            ));
        }
        Ok(Dataset {
            set,
            train,
            validation,
            variance,
            sha256: pixels_sha256(set.pixels()),
        })
    }

    /// The cutouts at `indices` as the network's input.
    fn batch(&self, indices: &[usize], config: &TrainConfig, device: Device) -> Result<Tensor> {
        let a = &config.architecture;
        images_tensor(
            &gather(self.set.pixels(), a.side, indices),
            a.side,
            a.input_shift,
            device,
        )
    }
}

/// One forward pass with its losses.
struct Forward {
    loss: Tensor,
    recon_loss: Tensor,
    vq_loss: Tensor,
    /// Encoder outputs `[M, D]` and their codes `[M]`.
    rows: Tensor,
    codes: Tensor,
}

/// loss = MSE(x, x') / variance + beta ||z_e - sg[e]||^2 (+ ||sg[z_e] - e||^2 when the
/// codebook learns by gradient), decoding through the straight-through estimator.
fn forward(net: &VqVae, x: &Tensor, variance: f64, q: &QuantiserConfig) -> Result<Forward> {
    let encoded = net.assign(&net.encode(x)?)?;
    let rows = encoded.flat;
    let chosen = net.codebook.f_index_select(0, &encoded.codes)?;
    let commitment = (&rows - chosen.f_detach()?)
        .f_square()?
        .f_mean(Kind::Float)?;
    let mut vq_loss = commitment * q.commitment_cost;
    if q.update == CodebookUpdate::Gradient {
        let codebook_loss = (&chosen - rows.f_detach()?)
            .f_square()?
            .f_mean(Kind::Float)?;
        vq_loss += codebook_loss;
    }
    let straight_through = &rows + (&chosen - &rows).f_detach()?;
    let recon = net.decode(&net.to_grid(&straight_through)?)?;
    let recon_loss = (recon - x).f_square()?.f_mean(Kind::Float)? / variance;
    Ok(Forward {
        loss: &recon_loss + &vq_loss,
        recon_loss,
        vq_loss,
        rows,
        codes: encoded.codes,
    })
}

impl Learner {
    fn train_epoch(
        &mut self,
        config: &TrainConfig,
        data: &Dataset,
        epoch: usize,
        device: Device,
        progress: &mut dyn FnMut(&Progress),
    ) -> Result<SplitMetrics> {
        let k = config.architecture.num_codes;
        let order = epoch_order(&data.train, config.seed, epoch);
        let mut restarts = rng(config.seed, stream::RESTARTS + epoch as u64);
        let mut pass = PassAccumulator::new(k);
        let steps = order.len().div_ceil(config.batch_size);
        for (step, batch) in order.chunks(config.batch_size).enumerate() {
            let x = data.batch(batch, config, device)?;
            let out = forward(&self.net, &x, data.variance, &config.quantiser)?;
            out.loss.f_backward()?;
            self.adam.step()?;
            let counts = code_counts(&out.codes, k)?;
            self.codebook.after_step(
                &self.net.codebook,
                &out.rows,
                &out.codes,
                &counts,
                &mut restarts,
            )?;
            let counts = Vec::<i64>::try_from(&counts)?;
            let recon_loss = out.recon_loss.f_double_value(&[])?;
            let vq_loss = out.vq_loss.f_double_value(&[])?;
            pass.add(batch.len(), recon_loss, vq_loss, &counts);
            progress(&Progress::Step {
                epoch: epoch + 1,
                step: step + 1,
                steps,
                loss: recon_loss + vq_loss,
                recon_loss,
                vq_loss,
                perplexity: perplexity(&counts),
            });
        }
        Ok(pass.finish())
    }

    /// k-means initialisation of the codebook from the encoder outputs of epoch 1's
    /// first batches, when the configuration asks for it.
    fn kmeans_init(&mut self, config: &TrainConfig, data: &Dataset, device: Device) -> Result<()> {
        let Some(kmeans) = config.quantiser.kmeans_init else {
            return Ok(());
        };
        let order = epoch_order(&data.train, config.seed, 0);
        let mut rows = Vec::new();
        {
            let _guard = tch::no_grad_guard();
            for batch in order.chunks(config.batch_size).take(kmeans.batches) {
                let x = data.batch(batch, config, device)?;
                rows.push(self.net.assign(&self.net.encode(&x)?)?.flat);
            }
        }
        let batches = rows.len();
        let rows = Tensor::f_cat(&rows, 0)?;
        let mut kmeans_rng = rng(config.seed, stream::KMEANS);
        self.codebook.kmeans_init(
            &self.net.codebook,
            &rows,
            kmeans.iterations,
            batches,
            &mut kmeans_rng,
        )
    }
}

/// Losses and code statistics of the cutouts at `indices`, without learning.
fn evaluate(
    net: &VqVae,
    config: &TrainConfig,
    data: &Dataset,
    indices: &[usize],
    device: Device,
) -> Result<SplitMetrics> {
    let _guard = tch::no_grad_guard();
    let mut pass = PassAccumulator::new(config.architecture.num_codes);
    for batch in indices.chunks(inference_batch_size(device)) {
        let x = data.batch(batch, config, device)?;
        let out = forward(net, &x, data.variance, &config.quantiser)?;
        let counts =
            Vec::<i64>::try_from(&code_counts(&out.codes, config.architecture.num_codes)?)?;
        pass.add(
            batch.len(),
            out.recon_loss.f_double_value(&[])?,
            out.vq_loss.f_double_value(&[])?,
            &counts,
        );
    }
    Ok(pass.finish())
}

/// The code histogram of the training split under the final weights, and the mean and
/// spread of `1 - NCC` and rarity over it.
fn training_split_statistics(
    net: &VqVae,
    data: &Dataset,
    device: Device,
) -> Result<(Vec<u64>, ScoreStats)> {
    let arch = net.architecture();
    let mut one_minus_ncc = Vec::with_capacity(data.train.len());
    let mut codes = Vec::with_capacity(data.train.len() * arch.grid_side().pow(2));
    for batch in data.train.chunks(inference_batch_size(device)) {
        let pixels = gather(data.set.pixels(), arch.side, batch);
        let raw = raw_scores(net, &pixels, device, false)?;
        one_minus_ncc.extend(raw.ncc.iter().map(|v| 1.0 - v));
        codes.extend(raw.codes);
    }
    let mut histogram = vec![0u64; arch.num_codes];
    for &c in &codes {
        histogram[c as usize] += 1;
    }
    let nlf = neg_log_frequencies(&histogram);
    let rarities: Vec<f64> = codes
        .chunks(arch.grid_side().pow(2))
        .map(|c| rarity(c, &nlf))
        .collect();
    let stats = ScoreStats {
        one_minus_ncc: MeanStd::of(&one_minus_ncc),
        rarity: MeanStd::of(&rarities),
    };
    Ok((histogram, stats))
}

fn checkpoint_dirs(out_dir: &Path) -> (PathBuf, PathBuf, PathBuf) {
    (
        out_dir.join(CHECKPOINT_DIR),
        out_dir.join(format!("{CHECKPOINT_DIR}.partial")),
        out_dir.join(format!("{CHECKPOINT_DIR}.old")),
    )
}

/// Writes the checkpoint beside the previous one, then swaps it in, so that an
/// interruption leaves one whole checkpoint.
fn save_checkpoint(out_dir: &Path, learner: &Learner, state: &CheckpointState) -> Result<()> {
    let (current, partial, old) = checkpoint_dirs(out_dir);
    if partial.exists() {
        fs::remove_dir_all(&partial).map_err(io_error(&partial))?;
    }
    fs::create_dir_all(&partial).map_err(io_error(&partial))?;
    let mut weights = learner.net.named_tensors();
    weights.extend(learner.codebook.state());
    write_tensors(&partial.join(WEIGHTS_FILE), &weights)?;
    write_tensors(&partial.join(OPTIMIZER_FILE), &learner.adam.state())?;
    write_json(&partial.join(STATE_FILE), state)?;
    if current.exists() {
        fs::rename(&current, &old).map_err(io_error(&current))?;
    }
    fs::rename(&partial, &current).map_err(io_error(&partial))?;
    if old.exists() {
        fs::remove_dir_all(&old).map_err(io_error(&old))?;
    }
    Ok(())
}

/// Restores the learner from the output folder's checkpoint, if there is one and
/// `resume` allows it; returns the metrics of the epochs it holds.
fn resume_checkpoint(
    out_dir: &Path,
    config: &TrainConfig,
    data: &Dataset,
    learner: &mut Learner,
    resume: bool,
) -> Result<Option<Vec<EpochMetrics>>> {
    let (current, _, old) = checkpoint_dirs(out_dir);
    if !current.exists() && old.exists() {
        // Interrupted between the two renames of a swap: the old one is whole.
        fs::rename(&old, &current).map_err(io_error(&old))?;
    }
    let state_path = current.join(STATE_FILE);
    if !state_path.is_file() {
        return Ok(None);
    }
    let refuse = |reason: String| ModelError::Resume {
        path: current.clone(),
        reason,
    };
    if !resume {
        return Err(refuse(
            "the folder holds a checkpoint of an earlier run: resume it, or train into an empty folder".into(),
        ));
    }
    let state: CheckpointState = read_json(&state_path)?;
    if state.format != CHECKPOINT_FORMAT {
        return Err(refuse(format!(
            "checkpoint format is `{}`, this build reads `{CHECKPOINT_FORMAT}`",
            state.format
        )));
    }
    // More (or fewer) epochs may be asked of a resumed run; nothing else may change.
    let same_recipe = TrainConfig {
        epochs: config.epochs,
        ..state.config.clone()
    };
    if same_recipe != *config {
        return Err(refuse(
            "the training configuration differs from the checkpoint's".into(),
        ));
    }
    if state.epochs.len() > config.epochs {
        return Err(refuse(format!(
            "the checkpoint holds {} epochs, more than the {} asked for",
            state.epochs.len(),
            config.epochs
        )));
    }
    if state.pixels_sha256 != data.sha256 {
        return Err(refuse(format!(
            "the checkpoint was trained on cutouts with pixel hash {}, these hash to {}",
            state.pixels_sha256, data.sha256
        )));
    }
    let weights = read_tensors(&current.join(WEIGHTS_FILE))?;
    let moments = read_tensors(&current.join(OPTIMIZER_FILE))?;
    let lookup_in = |tensors: &BTreeMap<String, Tensor>, file: &str, name: &str| {
        tensors
            .get(name)
            .map(Tensor::shallow_clone)
            .ok_or_else(|| ModelError::BadFile {
                path: current.join(file),
                reason: format!("tensor `{name}` is missing"),
            })
    };
    learner
        .net
        .load_values(&|name| lookup_in(&weights, WEIGHTS_FILE, name))?;
    learner
        .codebook
        .restore(&|name| lookup_in(&weights, WEIGHTS_FILE, name))?;
    learner.adam.restore(state.adam_steps, &|name| {
        lookup_in(&moments, OPTIMIZER_FILE, name)
    })?;
    Ok(Some(state.epochs))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Preset;

    /// Gradients of one forward pass on random input.
    fn gradients(preset: Preset) -> BTreeMap<String, f64> {
        let config = TrainConfig::preset(preset);
        let mut net = VqVae::init(
            &config.architecture,
            &mut rng(0, stream::WEIGHTS),
            Device::Cpu,
        )
        .unwrap();
        net.set_trainable(config.quantiser.update == CodebookUpdate::Gradient);
        let x = Tensor::f_rand([4, 1, 64, 64], (Kind::Float, Device::Cpu)).unwrap() - 0.5;
        forward(&net, &x, 0.1, &config.quantiser)
            .unwrap()
            .loss
            .backward();
        net.named_tensors()
            .into_iter()
            .map(|(name, t)| {
                let g = t.grad();
                let size = if g.defined() {
                    g.abs().sum(Kind::Double).double_value(&[])
                } else {
                    0.0
                };
                (name, size)
            })
            .collect()
    }

    #[test]
    fn gradients_reach_the_encoder_through_the_quantiser() {
        let grads = gradients(Preset::Baseline);
        for name in [
            "encoder.conv1.weight",
            "encoder.conv3.weight",
            "decoder.deconv1.weight",
        ] {
            assert!(grads[name] > 0.0, "{name} got no gradient: {grads:?}");
        }
        assert!(
            grads[crate::network::CODEBOOK] > 0.0,
            "the codebook loss moves the codes"
        );
    }

    #[test]
    fn an_ema_codebook_gets_no_gradient() {
        let grads = gradients(Preset::Improved);
        assert!(grads["encoder.conv1.weight"] > 0.0);
        assert_eq!(grads[crate::network::CODEBOOK], 0.0);
    }
}
