//! Checkpoints: `.safetensors` weights (written atomically: temp file + rename) and JSON configs.

use crate::{NnError, Result};
use std::collections::BTreeMap;
use std::path::Path;
use tch::{Tensor, nn::VarStore};

/// Writes `value` as pretty JSON, atomically.
///
/// # Errors
/// [`NnError::Json`] or [`NnError::Io`].
pub fn write_json<T: serde::Serialize>(path: &Path, value: &T) -> Result<()> {
    let mut bytes = serde_json::to_vec_pretty(value).map_err(|source| NnError::Json {
        path: path.to_path_buf(),
        source,
    })?;
    bytes.push(b'\n');
    Ok(avwm_core::write_atomic(path, &bytes)?)
}

/// Reads JSON from `path`.
///
/// # Errors
/// [`NnError::Io`] or [`NnError::Json`] naming the file.
pub fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T> {
    let bytes = std::fs::read(path).map_err(NnError::io(path))?;
    serde_json::from_slice(&bytes).map_err(|source| NnError::Json {
        path: path.to_path_buf(),
        source,
    })
}

/// Writes named tensors as `.safetensors`, atomically. Tensors are written contiguous, on the CPU.
///
/// # Errors
/// [`NnError::Torch`] or [`NnError::Io`].
pub fn save_tensors(path: &Path, tensors: &[(String, Tensor)]) -> Result<()> {
    let tmp = avwm_core::fs::temporary(path);
    let cpu: Vec<(String, Tensor)> = tensors
        .iter()
        .map(|(n, t)| {
            (
                n.clone(),
                t.detach().to_device(tch::Device::Cpu).contiguous(),
            )
        })
        .collect();
    let result = Tensor::write_safetensors(&cpu, &tmp)
        .map_err(NnError::torch(format!("writing {}", tmp.display())))
        .and_then(|()| std::fs::rename(&tmp, path).map_err(NnError::io(path)));
    if result.is_err() {
        std::fs::remove_file(&tmp).ok();
    }
    result
}

/// Reads all tensors of a `.safetensors` file, by name.
///
/// # Errors
/// [`NnError::Io`] if the file is missing, [`NnError::Checkpoint`] if it is not valid safetensors.
pub fn load_tensors(path: &Path) -> Result<BTreeMap<String, Tensor>> {
    if !path.is_file() {
        return Err(NnError::Io {
            path: path.to_path_buf(),
            source: std::io::Error::new(std::io::ErrorKind::NotFound, "no such checkpoint file"),
        });
    }
    let list = Tensor::read_safetensors(path).map_err(|e| NnError::Checkpoint {
        path: path.to_path_buf(),
        message: format!("not a readable safetensors file ({e})"),
    })?;
    Ok(list.into_iter().collect())
}

/// Reads the weights of a network described by the file `config` before the network is built:
/// all tensors of `weights` ([`load_tensors`]), refused if they hold fewer elements than
/// `needed`, the configuration's lower bound on its parameter count. A loader calls this
/// first, so a configuration far larger than its weights never reaches libtorch's allocator;
/// it then builds the network and fills it with [`fill_var_store`].
///
/// # Errors
/// As [`load_tensors`]; [`NnError::TooFewParameters`] naming both files.
pub fn load_tensors_for(
    weights: &Path,
    config: &Path,
    needed: u128,
) -> Result<BTreeMap<String, Tensor>> {
    let tensors = load_tensors(weights)?;
    let held: u128 = tensors.values().map(|t| t.numel() as u128).sum();
    if needed > held {
        return Err(NnError::TooFewParameters {
            config: config.to_path_buf(),
            weights: weights.to_path_buf(),
            needed: u64::try_from(needed).unwrap_or(u64::MAX),
            held: u64::try_from(held).unwrap_or(u64::MAX),
        });
    }
    Ok(tensors)
}

/// All variables of a var store, sorted by name (the order used by optimiser state and EMA).
pub fn named_variables(vs: &VarStore) -> Vec<(String, Tensor)> {
    let mut v: Vec<(String, Tensor)> = vs.variables().into_iter().collect();
    v.sort_by(|a, b| a.0.cmp(&b.0));
    v
}

/// Saves every variable of `vs` to `path` (safetensors, atomic).
///
/// # Errors
/// See [`save_tensors`].
pub fn save_var_store(vs: &VarStore, path: &Path) -> Result<()> {
    save_tensors(path, &named_variables(vs))
}

/// Copies tensors from `path` into the variables of `vs`.
///
/// Every variable must be present with the same shape; tensors in the file that the model does
/// not have are an error too, unless `allow_extra`. Values are converted to the variable's kind.
///
/// # Errors
/// [`NnError::Checkpoint`] naming the first missing, unexpected or mis-shaped tensor, or a tensor
/// with non-finite values.
pub fn load_var_store(vs: &mut VarStore, path: &Path, allow_extra: bool) -> Result<()> {
    fill_var_store(vs, load_tensors(path)?, path, allow_extra)
}

/// [`load_var_store`] with the tensors already read from `path` by [`load_tensors`] (for a
/// loader that inspects the file before it builds the model).
///
/// # Errors
/// As [`load_var_store`].
pub fn fill_var_store(
    vs: &mut VarStore,
    mut tensors: BTreeMap<String, Tensor>,
    path: &Path,
    allow_extra: bool,
) -> Result<()> {
    copy_into(&named_variables(vs), &mut tensors, path)?;
    if !allow_extra && let Some(name) = tensors.keys().next() {
        return Err(NnError::Checkpoint {
            path: path.to_path_buf(),
            message: format!(
                "tensor `{name}` is not a parameter of this model ({} unexpected)",
                tensors.len()
            ),
        });
    }
    Ok(())
}

/// Copies `tensors[name]` into each `(name, var)`, removing used entries from `tensors`.
///
/// # Errors
/// [`NnError::Checkpoint`] for a missing or mis-shaped tensor or non-finite values.
pub fn copy_into(
    vars: &[(String, Tensor)],
    tensors: &mut BTreeMap<String, Tensor>,
    path: &Path,
) -> Result<()> {
    let bad = |message: String| NnError::Checkpoint {
        path: path.to_path_buf(),
        message,
    };
    tch::no_grad(|| {
        for (name, var) in vars {
            let src = tensors
                .remove(name)
                .ok_or_else(|| bad(format!("missing tensor `{name}`")))?;
            if src.size() != var.size() {
                return Err(bad(format!(
                    "tensor `{name}` has shape {:?}, the model expects {:?}",
                    src.size(),
                    var.size()
                )));
            }
            let src = src.to_kind(var.kind()).to_device(var.device());
            if src.is_floating_point() && !bool::try_from(src.isfinite().all()).unwrap_or(false) {
                return Err(bad(format!("tensor `{name}` holds NaN or infinite values")));
            }
            let mut var = var.shallow_clone();
            var.copy_(&src);
        }
        Ok(())
    })
}
