//! Adam in keras's form, with state that a checkpoint can hold.
//!
//! tch's optimiser keeps its moments inside libtorch where they cannot be saved, so a
//! resumed run would restart them; this one keeps them as tensors. The update is keras's
//! (and the study's): `p -= lr * sqrt(1 - b2^t) / (1 - b1^t) * m / (sqrt(v) + eps)`,
//! which differs from PyTorch's only in where epsilon sits.

use crate::config::AdamConfig;
use crate::error::{ModelError, Result};
use tch::Tensor;

#[derive(Debug)]
struct Moments {
    name: String,
    /// Shares storage with the network's parameter: updates land in the network.
    param: Tensor,
    first: Tensor,
    second: Tensor,
}

#[derive(Debug)]
pub(crate) struct Adam {
    config: AdamConfig,
    /// Steps taken so far (t).
    step: u64,
    moments: Vec<Moments>,
}

impl Adam {
    /// Zero moments for each named parameter.
    pub(crate) fn new(config: AdamConfig, params: &[(String, &Tensor)]) -> Result<Self> {
        let moments = params
            .iter()
            .map(|(name, p)| {
                Ok(Moments {
                    name: name.clone(),
                    param: p.shallow_clone(),
                    first: Tensor::f_zeros_like(p)?,
                    second: Tensor::f_zeros_like(p)?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Adam {
            config,
            step: 0,
            moments,
        })
    }

    pub(crate) fn steps_taken(&self) -> u64 {
        self.step
    }

    /// One update of the parameters from their gradients, which are then zeroed.
    /// A parameter without a gradient is left alone.
    pub(crate) fn step(&mut self) -> Result<()> {
        let _guard = tch::no_grad_guard();
        self.step += 1;
        let c = &self.config;
        let t = self.step as f64;
        let step_size = c.learning_rate * (1.0 - c.beta2.powf(t)).sqrt() / (1.0 - c.beta1.powf(t));
        for m in &mut self.moments {
            let mut grad = m.param.grad();
            if !grad.defined() {
                continue;
            }
            let _ = m.first.f_lerp_(&grad, 1.0 - c.beta1)?;
            let _ = m.second.f_mul_scalar_(c.beta2)?;
            let _ = m.second.f_add_(&(grad.f_square()? * (1.0 - c.beta2)))?;
            let update = m.first.f_div(&(m.second.f_sqrt()? + c.epsilon))? * step_size;
            let _ = m.param.f_sub_(&update)?;
            let _ = grad.f_zero_()?;
        }
        Ok(())
    }

    /// The moments by name (`adam.m.<param>`, `adam.v.<param>`).
    pub(crate) fn state(&self) -> Vec<(String, &Tensor)> {
        let mut out = Vec::with_capacity(2 * self.moments.len());
        for m in &self.moments {
            out.push((format!("adam.m.{}", m.name), &m.first));
            out.push((format!("adam.v.{}", m.name), &m.second));
        }
        out
    }

    /// Restores moments from [`state`](Self::state) and the step count.
    pub(crate) fn restore(
        &mut self,
        step: u64,
        lookup: &dyn Fn(&str) -> Result<Tensor>,
    ) -> Result<()> {
        for m in &mut self.moments {
            let first = lookup(&format!("adam.m.{}", m.name))?;
            let second = lookup(&format!("adam.v.{}", m.name))?;
            if first.size() != m.first.size() || second.size() != m.second.size() {
                return Err(ModelError::Input(format!(
                    "Adam moments of `{}` have the wrong shape",
                    m.name
                )));
            }
            m.first.f_copy_(&first)?;
            m.second.f_copy_(&second)?;
        }
        self.step = step;
        Ok(())
    }
}
