//! Real-FFT plan caching.

use std::collections::HashMap;
use std::sync::Arc;

use realfft::{ComplexToReal, RealFftPlanner, RealToComplex};

/// The smallest `n ≥ min_len` of the form 2^a·3^b·5^c (sizes RustFFT handles fastest), even.
pub fn fast_fft_len(min_len: usize) -> usize {
    let mut n = min_len.max(2);
    loop {
        let mut m = n;
        for p in [2, 3, 5] {
            while m.is_multiple_of(p) {
                m /= p;
            }
        }
        if m == 1 && n.is_multiple_of(2) {
            return n;
        }
        n += 1;
    }
}

/// The smallest `n ≥ min_len` of the form 2^k (k ≥ 1) or 3·2^k (k ≥ 1): always even.
///
/// Used wherever the length varies from call to call (RIR lengths change with every pose): the
/// set of distinct lengths, and so the plans and masks cached per length, stays small (two per
/// octave), at the price of FFTs up to 1.5× `min_len` (1.2× on average).
pub fn coarse_fft_len(min_len: usize) -> usize {
    let p = min_len.max(2).next_power_of_two();
    if p >= 8 && 3 * (p / 4) >= min_len {
        3 * (p / 4)
    } else {
        p
    }
}

/// A pair of forward and inverse real-FFT plans.
#[derive(Clone)]
pub struct FftPair {
    /// Real → complex.
    pub forward: Arc<dyn RealToComplex<f32>>,
    /// Complex → real (unnormalised: the result is `n` times the input of the forward pass).
    pub inverse: Arc<dyn ComplexToReal<f32>>,
}

/// Caches real-FFT plans by length. Cloning is cheap (plans are shared).
#[derive(Default)]
pub struct FftCache {
    planner: RealFftPlanner<f32>,
    plans: HashMap<usize, FftPair>,
}

impl Clone for FftCache {
    fn clone(&self) -> Self {
        FftCache {
            planner: RealFftPlanner::new(),
            plans: self.plans.clone(),
        }
    }
}

impl std::fmt::Debug for FftCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut lens: Vec<_> = self.plans.keys().copied().collect();
        lens.sort_unstable();
        f.debug_struct("FftCache").field("lengths", &lens).finish()
    }
}

impl FftCache {
    /// An empty cache.
    pub fn new() -> FftCache {
        FftCache::default()
    }

    /// The plans for length `n` (planned on first use).
    pub fn plans(&mut self, n: usize) -> FftPair {
        if let Some(p) = self.plans.get(&n) {
            return p.clone();
        }
        let pair = FftPair {
            forward: self.planner.plan_fft_forward(n),
            inverse: self.planner.plan_fft_inverse(n),
        };
        self.plans.insert(n, pair.clone());
        pair
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fast_len_is_smooth_and_minimal() {
        assert_eq!(fast_fft_len(19199), 19200);
        assert_eq!(fast_fft_len(4097), 4320);
        assert_eq!(fast_fft_len(1), 2);
        for n in 2..3000 {
            let c = coarse_fft_len(n);
            assert!(
                c >= n && c * 2 <= n * 3 + 2 && c.is_multiple_of(2),
                "{n} → {c}"
            );
            assert!(c.is_power_of_two() || (c.is_multiple_of(3) && (c / 3).is_power_of_two()));
            let f = fast_fft_len(n);
            assert!(f >= n && f.is_multiple_of(2));
        }
    }
}
