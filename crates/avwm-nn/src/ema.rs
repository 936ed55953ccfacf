//! Exponential moving average of model weights (evaluation uses the EMA weights).

use crate::ckpt;
use crate::{NnError, Result};
use std::path::Path;
use tch::{Tensor, nn::VarStore};

/// Shadow copies of a var store's variables, `shadow ← decay·shadow + (1 − decay)·weight`.
pub struct Ema {
    decay: f64,
    shadow: Vec<(String, Tensor)>,
}

impl Ema {
    /// Starts the average at the current weights.
    pub fn new(vs: &VarStore, decay: f64) -> Ema {
        let shadow = tch::no_grad(|| {
            ckpt::named_variables(vs)
                .into_iter()
                .map(|(n, t)| (n, t.detach().copy()))
                .collect()
        });
        Ema { decay, shadow }
    }

    /// The decay rate.
    pub fn decay(&self) -> f64 {
        self.decay
    }

    /// Moves the average towards the current weights of `vs` (same variables as at creation).
    pub fn update(&mut self, vs: &VarStore) {
        self.update_where(vs, |_| true);
    }

    /// [`Ema::update`] of the variables whose name passes `learns`; the others keep their
    /// average bit for bit (a frozen weight's average would otherwise drift by rounding).
    pub fn update_where(&mut self, vs: &VarStore, learns: impl Fn(&str) -> bool) {
        let vars = ckpt::named_variables(vs);
        tch::no_grad(|| {
            for ((name, s), (_, v)) in self.shadow.iter_mut().zip(vars.iter()) {
                if !learns(name) {
                    continue;
                }
                // s = decay * s + (1 - decay) * v, in place.
                let _ = s.g_mul_scalar_(self.decay);
                let _ = s.g_add_(&(v * (1.0 - self.decay)));
            }
        });
    }

    /// Copies the averaged weights into `vs` (which must have the same variables).
    ///
    /// # Errors
    /// [`NnError::Checkpoint`] if the variables differ.
    pub fn copy_to(&self, vs: &mut VarStore) -> Result<()> {
        let mut map = self
            .shadow
            .iter()
            .map(|(n, t)| (n.clone(), t.shallow_clone()))
            .collect();
        ckpt::copy_into(&ckpt::named_variables(vs), &mut map, Path::new("<ema>"))
    }

    /// The averaged tensors, by name.
    pub fn tensors(&self) -> &[(String, Tensor)] {
        &self.shadow
    }

    /// Saves the averaged weights.
    ///
    /// # Errors
    /// See [`ckpt::save_tensors`].
    pub fn save(&self, path: &Path) -> Result<()> {
        ckpt::save_tensors(path, &self.shadow)
    }

    /// Loads averaged weights saved by [`Ema::save`].
    ///
    /// # Errors
    /// [`NnError::Checkpoint`] on a missing or mis-shaped tensor.
    pub fn load(&mut self, path: &Path) -> Result<()> {
        let mut map = ckpt::load_tensors(path)?;
        let copies: Vec<(String, Tensor)> = self
            .shadow
            .iter()
            .map(|(n, t)| (n.clone(), t.shallow_clone()))
            .collect();
        ckpt::copy_into(&copies, &mut map, path)?;
        if let Some(extra) = map.keys().next() {
            return Err(NnError::Checkpoint {
                path: path.to_path_buf(),
                message: format!("unexpected tensor `{extra}`"),
            });
        }
        Ok(())
    }
}
