//! Deterministic seeding of libtorch on the CPU.
//!
//! A run has one [`Seed`]; every use derives its own sub-seed (`init`, `noise` per step, data
//! order per epoch), and libtorch's global generator is re-seeded from it right before the use.
//! Re-seeding per step (rather than carrying the generator's state) is what makes a resumed run
//! draw exactly the noise an uninterrupted run would.

use avwm_core::Seed;

/// Seeds libtorch's global generators from `seed`.
pub fn torch_seed(seed: Seed) {
    // manual_seed takes an i64; keep all 64 bits.
    tch::manual_seed(seed.0 as i64);
}

/// Seeds libtorch from `(run, label, index)`.
pub fn torch_seed_derived(run: Seed, label: &str, index: u64) {
    torch_seed(run.derive(label, index));
}

/// Sets libtorch's intra-op thread count (`0` leaves libtorch's default, i.e. all cores).
///
/// Results on the CPU are bit-identical for a given thread count; change it and the order of
/// floating-point reductions may change.
pub fn set_threads(n: usize) {
    if n > 0 {
        tch::set_num_threads(n as i32);
    }
}
