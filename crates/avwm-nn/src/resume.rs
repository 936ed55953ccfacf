//! The resumable state of a training run: model, EMA and optimiser weights plus a JSON state,
//! in one checkpoint folder.
//!
//! ```text
//! ckpt/model.safetensors  ckpt/ema.safetensors  ckpt/optim.safetensors  ckpt/state.json
//! ```
//! Every file is written atomically and `state.json` last, so a checkpoint counts only once it is
//! complete; an interrupted write leaves the previous checkpoint usable.

use crate::Result;
use crate::ckpt;
use crate::ema::Ema;
use crate::optim::AdamW;
use std::path::Path;
use tch::nn::VarStore;

/// Name of the state file inside a checkpoint folder.
pub const STATE_FILE: &str = "state.json";

/// Writes the checkpoint of a run into `dir` (which must exist).
///
/// Each file is written atomically, and the state file, which [`load_training`] needs to see a
/// checkpoint at all, is removed first and written last: a process killed while the set is being
/// written leaves no checkpoint (the run restarts from the beginning and ends with the same
/// files) rather than weights of one step beside the state of another.
///
/// # Errors
/// I/O.
pub fn save_training<S: serde::Serialize>(
    dir: &Path,
    vs: &VarStore,
    ema: &Ema,
    opt: &AdamW,
    state: &S,
) -> Result<()> {
    remove_state(&dir.join(STATE_FILE))?;
    ckpt::save_var_store(vs, &dir.join("model.safetensors"))?;
    ema.save(&dir.join("ema.safetensors"))?;
    opt.save(&dir.join("optim.safetensors"))?;
    ckpt::write_json(&dir.join(STATE_FILE), state)
}

/// Removes the state file of a checkpoint (if any) before the checkpoint's other files are
/// rewritten, so that a checkpoint without its state file reads as none.
///
/// # Errors
/// I/O other than the file not existing.
pub fn remove_state(path: &Path) -> Result<()> {
    match std::fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(crate::NnError::io(path)(e)),
    }
}

/// Restores a checkpoint written by [`save_training`] into `vs`, `ema` and `opt`, and returns its
/// state; `None` (nothing touched) if `dir` holds no complete checkpoint.
///
/// # Errors
/// A corrupt or mismatched file (named).
pub fn load_training<S: serde::de::DeserializeOwned>(
    dir: &Path,
    vs: &mut VarStore,
    ema: &mut Ema,
    opt: &mut AdamW,
) -> Result<Option<S>> {
    let state_path = dir.join(STATE_FILE);
    if !state_path.is_file() {
        return Ok(None);
    }
    let state = ckpt::read_json(&state_path)?;
    ckpt::load_var_store(vs, &dir.join("model.safetensors"), false)?;
    ema.load(&dir.join("ema.safetensors"))?;
    opt.load(&dir.join("optim.safetensors"))?;
    Ok(Some(state))
}
