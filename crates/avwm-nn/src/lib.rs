//! Neural-network foundation of avwm on libtorch through `tch`.
//!
//! * [`seed`]: one run seed, derived sub-seeds, deterministic CPU initialisation and noise;
//! * [`ckpt`]: `.safetensors` checkpoints written atomically, loaded with clear errors, and JSON
//!   configs beside them;
//! * [`optim`]: AdamW whose state (moments, step) is saved with the checkpoint, so that a resumed
//!   run is bit-identical to an uninterrupted one; parameter groups by name for freezing;
//! * [`ema`]: exponential moving average of the weights;
//! * [`resume`]: the checkpoint folder of a run (model, EMA, optimiser, state) for exact resumes;
//! * [`runlog`]: JSONL logs.
//!
//! Networks live in the crates that use them (`avwm-tokenizer`, `avwm-model`).
#![warn(missing_docs)]

pub mod ckpt;
pub mod ema;
mod error;
pub mod optim;
pub mod resume;
pub mod runlog;
pub mod seed;

pub use error::{NnError, Result};
pub use tch;

/// The device to run on: CUDA if libtorch sees a GPU and `AVWM_DEVICE` is not `cpu`, else the CPU.
pub fn default_device() -> tch::Device {
    match std::env::var("AVWM_DEVICE").as_deref() {
        Ok("cpu") => tch::Device::Cpu,
        _ => tch::Device::cuda_if_available(),
    }
}
