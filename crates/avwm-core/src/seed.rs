//! Seeds: one `u64` per run, every sub-seed derived by hashing so that results never depend on
//! the order in which work is scheduled.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

/// A 64-bit seed. Derive sub-seeds with [`Seed::derive`]; draw numbers with [`Seed::rng`].
///
/// ```
/// use avwm_core::Seed;
/// let run = Seed(7);
/// assert_eq!(run.derive("scene", 3), run.derive("scene", 3));
/// assert_ne!(run.derive("scene", 3), run.derive("scene", 4));
/// assert_ne!(run.derive("scene", 3), run.derive("rays", 3));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Seed(pub u64);

/// SplitMix64 finaliser: a bijective mix with good avalanche (Steele, Lea & Flood 2014).
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl Seed {
    /// A child seed for `(label, index)`, a pure function of `self`, `label` and `index`.
    pub fn derive(self, label: &str, index: u64) -> Seed {
        // FNV-1a over the label keeps this stable across Rust versions (unlike `DefaultHasher`).
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for b in label.as_bytes() {
            h ^= u64::from(*b);
            h = h.wrapping_mul(0x0000_0100_0000_01B3);
        }
        Seed(mix(mix(self.0 ^ mix(h)) ^ index))
    }

    /// A ChaCha8 generator seeded from this seed.
    pub fn rng(self) -> ChaCha8Rng {
        ChaCha8Rng::seed_from_u64(self.0)
    }
}
