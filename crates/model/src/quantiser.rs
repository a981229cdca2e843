//! How the codebook learns during training, beyond the gradient: EMA updates,
//! dead-code restarts and k-means initialisation (the `improved` preset).
//!
//! All of it works on the codebook tensor in place, outside autograd, and keeps its state
//! in tensors so that a checkpoint holds it exactly.

use crate::config::{CodebookUpdate, QuantiserConfig};
use crate::error::Result;
use crate::network::nearest_codes;
use rand::seq::index::sample;
use rand_chacha::ChaCha8Rng;
use tch::{Device, Kind, Tensor};

const EMA_COUNTS: &str = "ema.cluster_size";
const EMA_SUMS: &str = "ema.embedding_sum";
const IDLE_STEPS: &str = "restart.idle_steps";

/// The codebook's training state besides the codes themselves.
#[derive(Debug)]
pub(crate) struct CodebookTrainer {
    config: QuantiserConfig,
    /// EMA of how many rows each code received per step, `[K]`.
    ema_counts: Option<Tensor>,
    /// EMA of the sum of the rows each code received, `[K, D]`.
    ema_sums: Option<Tensor>,
    /// Steps since each code was last used, `[K]` int64.
    idle_steps: Tensor,
}

/// Usage of each code in one step.
pub(crate) fn code_counts(codes: &Tensor, num_codes: usize) -> Result<Tensor> {
    Ok(codes.f_bincount::<Tensor>(None, num_codes as i64)?)
}

impl CodebookTrainer {
    pub(crate) fn new(config: &QuantiserConfig, codebook: &Tensor) -> Result<Self> {
        let (k, device) = (codebook.size()[0], codebook.device());
        let (ema_counts, ema_sums) = match config.update {
            CodebookUpdate::Gradient => (None, None),
            CodebookUpdate::Ema { .. } => {
                // Each code starts as if it had received itself once.
                let mut sums = Tensor::f_zeros_like(codebook)?;
                sums.f_copy_(codebook)?;
                (
                    Some(Tensor::f_ones([k], (Kind::Float, device))?),
                    Some(sums),
                )
            }
        };
        Ok(CodebookTrainer {
            config: config.clone(),
            ema_counts,
            ema_sums,
            idle_steps: Tensor::f_zeros([k], (Kind::Int64, device))?,
        })
    }

    /// The state a checkpoint must keep, by name.
    pub(crate) fn state(&self) -> Vec<(String, &Tensor)> {
        let mut out = vec![(IDLE_STEPS.to_string(), &self.idle_steps)];
        if let (Some(c), Some(s)) = (&self.ema_counts, &self.ema_sums) {
            out.push((EMA_COUNTS.to_string(), c));
            out.push((EMA_SUMS.to_string(), s));
        }
        out
    }

    /// Restores the state [`state`](Self::state) gave.
    pub(crate) fn restore(&mut self, lookup: &dyn Fn(&str) -> Result<Tensor>) -> Result<()> {
        self.idle_steps.f_copy_(&lookup(IDLE_STEPS)?)?;
        if let (Some(c), Some(s)) = (&mut self.ema_counts, &mut self.ema_sums) {
            c.f_copy_(&lookup(EMA_COUNTS)?)?;
            s.f_copy_(&lookup(EMA_SUMS)?)?;
        }
        Ok(())
    }

    /// After an optimiser step: moves EMA codes towards the rows assigned to them and
    /// re-seeds codes idle for too long. `rows` `[M, D]` are this step's encoder
    /// outputs, `counts` `[K]` how many went to each code.
    pub(crate) fn after_step(
        &mut self,
        codebook: &Tensor,
        rows: &Tensor,
        codes: &Tensor,
        counts: &Tensor,
        rng: &mut ChaCha8Rng,
    ) -> Result<()> {
        let _guard = tch::no_grad_guard();
        // A handle on the same storage: the updates below land in the network's codebook.
        let mut codebook = codebook.shallow_clone();
        let rows = rows.f_detach()?;
        if let CodebookUpdate::Ema { decay, epsilon } = self.config.update {
            self.ema_update(&mut codebook, &rows, codes, counts, decay, epsilon)?;
        }
        if let Some(limit) = self.config.dead_code_steps {
            self.restart_idle(&mut codebook, &rows, counts, limit, rng)?;
        }
        Ok(())
    }

    fn ema_update(
        &mut self,
        codebook: &mut Tensor,
        rows: &Tensor,
        codes: &Tensor,
        counts: &Tensor,
        decay: f64,
        epsilon: f64,
    ) -> Result<()> {
        let (Some(ema_counts), Some(ema_sums)) = (&mut self.ema_counts, &mut self.ema_sums) else {
            return Ok(());
        };
        let k = codebook.size()[0];
        let sums = Tensor::f_zeros_like(ema_sums)?.f_index_add(0, codes, rows)?;
        // e <- decay * e + (1 - decay) * new, i.e. lerp towards the new value.
        let _ = ema_counts.f_lerp_(&counts.f_to_kind(Kind::Float)?, 1.0 - decay)?;
        let _ = ema_sums.f_lerp_(&sums, 1.0 - decay)?;
        // Laplace smoothing: (N_k + eps) / (n + K eps) * n keeps n and lifts zeros.
        let n = ema_counts.f_sum(Kind::Float)?;
        let smoothed = (&*ema_counts + epsilon) / (&n + epsilon * k as f64) * &n;
        codebook.f_copy_(&(&*ema_sums / smoothed.f_unsqueeze(1)?))?;
        Ok(())
    }

    fn restart_idle(
        &mut self,
        codebook: &mut Tensor,
        rows: &Tensor,
        counts: &Tensor,
        limit: u32,
        rng: &mut ChaCha8Rng,
    ) -> Result<()> {
        let used = counts.f_gt(0)?;
        let idle = (&self.idle_steps + 1).f_masked_fill(&used, 0)?;
        self.idle_steps.f_copy_(&idle)?;
        let dead = Vec::<i64>::try_from(
            self.idle_steps
                .f_ge(limit as i64)?
                .f_nonzero()?
                .f_view([-1])?,
        )?;
        let available = rows.size()[0] as usize;
        if dead.is_empty() || available == 0 {
            return Ok(());
        }
        let take = dead.len().min(available);
        let picks: Vec<i64> = sample(rng, available, take)
            .into_iter()
            .map(|i| i as i64)
            .collect();
        let device = codebook.device();
        let dead_index = Tensor::f_from_slice(&dead[..take])?.f_to_device(device)?;
        let seeds = rows.f_index_select(0, &Tensor::f_from_slice(&picks)?.f_to_device(device)?)?;
        let _ = codebook.f_index_copy_(0, &dead_index, &seeds)?;
        if let (Some(c), Some(s)) = (&mut self.ema_counts, &mut self.ema_sums) {
            // A re-seeded code starts as if it had received its seed once.
            let _ = c.f_index_fill_(0, &dead_index, 1.0)?;
            let _ = s.f_index_copy_(0, &dead_index, &seeds)?;
        }
        let _ = self.idle_steps.f_index_fill_(0, &dead_index, 0)?;
        Ok(())
    }

    /// Sets the codebook to the k-means centres of `rows` `[M, D]` (Lloyd's algorithm
    /// from K distinct random rows; a centre left without rows keeps its place).
    /// `steps` is how many training steps the rows came from, to scale the EMA counts
    /// to one step's worth.
    pub(crate) fn kmeans_init(
        &mut self,
        codebook: &Tensor,
        rows: &Tensor,
        iterations: usize,
        steps: usize,
        rng: &mut ChaCha8Rng,
    ) -> Result<()> {
        let _guard = tch::no_grad_guard();
        let (k, m) = (codebook.size()[0] as usize, rows.size()[0] as usize);
        if m < k {
            // Too few rows to place every centre: keep the initial codebook.
            return Ok(());
        }
        let device: Device = rows.device();
        let starts: Vec<i64> = sample(rng, m, k).into_iter().map(|i| i as i64).collect();
        let mut centres =
            rows.f_index_select(0, &Tensor::f_from_slice(&starts)?.f_to_device(device)?)?;
        let mut counts = Tensor::f_zeros([k as i64], (Kind::Float, device))?;
        for _ in 0..iterations {
            let codes = nearest_codes(rows, &centres)?;
            counts = code_counts(&codes, k)?.f_to_kind(Kind::Float)?;
            let sums = Tensor::f_zeros_like(&centres)?.f_index_add(0, &codes, rows)?;
            let means = sums / counts.f_clamp_min(1.0)?.f_unsqueeze(1)?;
            let empty = counts.f_eq(0.0)?.f_unsqueeze(1)?;
            centres = means.f_where_self(&empty.f_logical_not()?, &centres)?;
        }
        codebook.shallow_clone().f_copy_(&centres)?;
        if let (Some(c), Some(s)) = (&mut self.ema_counts, &mut self.ema_sums) {
            // A centre that drew no rows gets a token count, so that its EMA sum still
            // divides back to the centre rather than to the origin.
            let per_step = (counts / steps.max(1) as f64).f_clamp_min(1e-3)?;
            s.f_copy_(&(&centres * per_step.f_unsqueeze(1)?))?;
            c.f_copy_(&per_step)?;
        }
        Ok(())
    }
}
