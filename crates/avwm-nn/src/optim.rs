//! AdamW (Loshchilov & Hutter 2019, decoupled weight decay) over a chosen group of variables,
//! with its state saved beside the checkpoint so that resuming is exact.
//!
//! Variables outside the trainable group are frozen: `requires_grad` is switched off, so they get
//! no gradient and are never written.

use crate::ckpt;
use crate::{NnError, Result};
use serde::{Deserialize, Serialize};
use std::path::Path;
use tch::{Tensor, nn::VarStore};

/// AdamW hyper-parameters.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct AdamWConfig {
    /// First-moment decay.
    pub beta1: f64,
    /// Second-moment decay.
    pub beta2: f64,
    /// Denominator epsilon.
    pub eps: f64,
    /// Decoupled weight decay (multiplied by the learning rate).
    pub weight_decay: f64,
}

/// The step count stored in an optimiser file: one non-negative `i64` (`None` otherwise).
fn step_count(step: &Tensor) -> Option<u64> {
    if step.kind() != tch::Kind::Int64 || step.numel() != 1 {
        return None;
    }
    let n = step.reshape([1]).f_int64_value(&[0]).ok()?;
    u64::try_from(n).ok()
}

impl Default for AdamWConfig {
    fn default() -> Self {
        AdamWConfig {
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            weight_decay: 0.0,
        }
    }
}

struct Slot {
    name: String,
    var: Tensor,
    m: Tensor,
    v: Tensor,
}

/// AdamW over the trainable variables of a var store.
pub struct AdamW {
    cfg: AdamWConfig,
    step: u64,
    slots: Vec<Slot>,
}

impl AdamW {
    /// Builds the optimiser over the variables of `vs` whose name satisfies `trainable`; all the
    /// others are frozen (`requires_grad = false`).
    pub fn new(vs: &VarStore, cfg: AdamWConfig, trainable: impl Fn(&str) -> bool) -> AdamW {
        let mut slots = Vec::new();
        for (name, var) in ckpt::named_variables(vs) {
            if trainable(&name) {
                let var = var.set_requires_grad(true);
                let m = var.zeros_like();
                let v = var.zeros_like();
                slots.push(Slot { name, var, m, v });
            } else {
                let _ = var.set_requires_grad(false);
            }
        }
        AdamW {
            cfg,
            step: 0,
            slots,
        }
    }

    /// Number of steps taken.
    pub fn steps(&self) -> u64 {
        self.step
    }

    /// Names of the trainable variables.
    pub fn trainable(&self) -> impl Iterator<Item = &str> {
        self.slots.iter().map(|s| s.name.as_str())
    }

    /// Number of trainable scalars.
    pub fn trainable_numel(&self) -> i64 {
        self.slots.iter().map(|s| s.var.numel() as i64).sum()
    }

    /// Clears the gradients of the trainable variables.
    pub fn zero_grad(&mut self) {
        for s in &mut self.slots {
            s.var.zero_grad();
        }
    }

    /// Global gradient L2 norm over the trainable variables.
    pub fn grad_norm(&self) -> f64 {
        tch::no_grad(|| {
            let mut total = 0.0f64;
            for s in &self.slots {
                let g = s.var.grad();
                if g.defined() {
                    total += g.square().sum(tch::Kind::Double).double_value(&[]);
                }
            }
            total.sqrt()
        })
    }

    /// Scales gradients so that their global norm is at most `max_norm`; returns the norm before.
    pub fn clip_grad_norm(&mut self, max_norm: f64) -> f64 {
        let norm = self.grad_norm();
        if norm.is_finite() && norm > max_norm && max_norm > 0.0 {
            let scale = max_norm / (norm + 1e-6);
            tch::no_grad(|| {
                for s in &self.slots {
                    let mut g = s.var.grad();
                    if g.defined() {
                        let _ = g.g_mul_scalar_(scale);
                    }
                }
            });
        }
        norm
    }

    /// One AdamW update with learning rate `lr`.
    pub fn step(&mut self, lr: f64) {
        self.step += 1;
        let t = self.step as f64;
        let c = self.cfg;
        let bc1 = 1.0 - c.beta1.powf(t);
        let bc2 = 1.0 - c.beta2.powf(t);
        tch::no_grad(|| {
            for s in &mut self.slots {
                let g = s.var.grad();
                if !g.defined() {
                    continue;
                }
                let _ = s.m.g_mul_scalar_(c.beta1);
                let _ = s.m.g_add_(&(&g * (1.0 - c.beta1)));
                let _ = s.v.g_mul_scalar_(c.beta2);
                let _ = s.v.g_add_(&(g.square() * (1.0 - c.beta2)));
                if c.weight_decay > 0.0 {
                    let _ = s.var.g_mul_scalar_(1.0 - lr * c.weight_decay);
                }
                let denom = (&s.v / bc2).sqrt() + c.eps;
                let update = (&s.m / bc1) / denom * lr;
                let _ = s.var.g_sub_(&update);
            }
        });
    }

    /// One optimisation step on `loss` at training step `step`: refuses a non-finite loss
    /// ([`NnError::NonFinite`], nothing updated), then clears the gradients, back-propagates, clips
    /// the global gradient norm at `grad_clip` and applies AdamW with `lr`. Returns the loss value
    /// and the gradient norm before clipping.
    ///
    /// # Errors
    /// [`NnError::NonFinite`] for a NaN or infinite loss.
    pub fn minimize(
        &mut self,
        loss: &Tensor,
        step: u64,
        grad_clip: f64,
        lr: f64,
    ) -> Result<(f64, f64)> {
        let value = loss.double_value(&[]);
        if !value.is_finite() {
            return Err(NnError::NonFinite {
                step,
                name: "loss".into(),
                value,
            });
        }
        self.zero_grad();
        loss.backward();
        let grad_norm = self.clip_grad_norm(grad_clip);
        self.step(lr);
        Ok((value, grad_norm))
    }

    /// Saves the moments and the step count (`.safetensors`, atomic).
    ///
    /// # Errors
    /// See [`ckpt::save_tensors`].
    pub fn save(&self, path: &Path) -> Result<()> {
        let mut tensors = Vec::with_capacity(2 * self.slots.len() + 1);
        tensors.push(("step".to_string(), Tensor::from(self.step as i64)));
        for s in &self.slots {
            tensors.push((format!("m.{}", s.name), s.m.shallow_clone()));
            tensors.push((format!("v.{}", s.name), s.v.shallow_clone()));
        }
        ckpt::save_tensors(path, &tensors)
    }

    /// Restores state saved by [`AdamW::save`] for the same trainable group.
    ///
    /// # Errors
    /// [`NnError::Checkpoint`] if the file's variables differ from this optimiser's.
    pub fn load(&mut self, path: &Path) -> Result<()> {
        let mut map = ckpt::load_tensors(path)?;
        let step = map.remove("step").ok_or_else(|| NnError::Checkpoint {
            path: path.to_path_buf(),
            message: "no `step` tensor".into(),
        })?;
        let mut targets = Vec::with_capacity(2 * self.slots.len());
        for s in &self.slots {
            targets.push((format!("m.{}", s.name), s.m.shallow_clone()));
            targets.push((format!("v.{}", s.name), s.v.shallow_clone()));
        }
        ckpt::copy_into(&targets, &mut map, path)?;
        if let Some(extra) = map.keys().next() {
            return Err(NnError::Checkpoint {
                path: path.to_path_buf(),
                message: format!("optimiser state for `{extra}`, which is not trainable here"),
            });
        }
        self.step = step_count(&step).ok_or_else(|| NnError::Checkpoint {
            path: path.to_path_buf(),
            message: format!(
                "`step` must be one non-negative 64-bit integer, found {:?} of shape {:?}",
                step.kind(),
                step.size()
            ),
        })?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_step_that_is_not_one_non_negative_integer_is_an_error_not_a_panic() {
        let dir = tempfile::tempdir().unwrap();
        let vs = VarStore::new(tch::Device::Cpu);
        let _w = vs.root().zeros("w", &[2, 3]);
        let mut opt = AdamW::new(&vs, AdamWConfig::default(), |_| true);
        let path = dir.path().join("optim.safetensors");
        opt.save(&path).unwrap();
        opt.load(&path).unwrap();
        let slots = |step: Tensor| {
            let z = Tensor::zeros([2, 3], (tch::Kind::Float, tch::Device::Cpu));
            vec![
                ("step".to_string(), step),
                ("m.w".to_string(), z.shallow_clone()),
                ("v.w".to_string(), z),
            ]
        };
        for (step, what) in [
            (Tensor::from_slice(&[1i64, 2, 3]), "a vector"),
            (Tensor::from_slice::<i64>(&[]), "an empty tensor"),
            (Tensor::from(-4i64), "a negative count"),
            (Tensor::from(2.5f64), "a float"),
        ] {
            ckpt::save_tensors(&path, &slots(step)).unwrap();
            let e = opt.load(&path).expect_err(what).to_string();
            assert!(e.contains("`step` must be one non-negative"), "{what}: {e}");
        }
        ckpt::save_tensors(&path, &slots(Tensor::from_slice(&[7i64]))).unwrap();
        opt.load(&path).unwrap();
        assert_eq!(opt.step, 7, "a one-element vector is a count");
    }
}
