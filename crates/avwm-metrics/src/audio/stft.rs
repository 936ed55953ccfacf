//! STFT configuration, analysis windows and the power spectrogram type.

use serde::{Deserialize, Serialize};

use crate::error::{MetricsError, Result};

/// Analysis window applied to every STFT frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Window {
    /// Periodic ("DFT-even") Hann: `w[n] = 0.5 − 0.5 cos(2πn / N)`, `n = 0..N`, the
    /// `scipy.signal.get_window("hann", N)` / `torch.hann_window(N)` window.
    HannPeriodic,
    /// Symmetric Hann: `w[n] = 0.5 − 0.5 cos(2πn / (N − 1))`, `numpy.hanning(N)`.
    HannSymmetric,
    /// All ones.
    Rectangular,
}

impl Window {
    /// The `n` coefficients of this window (`n = 1` gives `[1.0]` for the Hann windows,
    /// where the formulas degenerate).
    pub fn coefficients(self, n: usize) -> Vec<f64> {
        if n == 1 {
            return vec![1.0];
        }
        let tau = std::f64::consts::TAU;
        match self {
            Window::HannPeriodic => (0..n)
                .map(|i| 0.5 - 0.5 * (tau * i as f64 / n as f64).cos())
                .collect(),
            Window::HannSymmetric => (0..n)
                .map(|i| 0.5 - 0.5 * (tau * i as f64 / (n - 1) as f64).cos())
                .collect(),
            Window::Rectangular => vec![1.0; n],
        }
    }
}

/// Framing of the short-time Fourier transform.
///
/// The default is the metric convention of this crate: `n_fft = 512` (32 ms at 16 kHz),
/// `hop = 128`, periodic Hann, `center = true`. With centring the signal is padded by
/// `n_fft / 2` samples on both sides by *reflection without repeating the edge sample*
/// (numpy `np.pad(x, n_fft // 2, mode="reflect")`, librosa/torch `center=True,
/// pad_mode="reflect"`), and frame `t` covers padded samples `t·hop .. t·hop + n_fft`, so it is
/// centred on input sample `t·hop`. Signals shorter than the padding are reflected again
/// and again, as numpy does (the mirror image has period `2(len − 1)`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct StftConfig {
    /// Frame length and FFT size (no zero padding inside a frame); at least 2.
    pub n_fft: usize,
    /// Hop between frame starts in samples; at least 1.
    pub hop: usize,
    /// Analysis window, `n_fft` long.
    pub window: Window,
    /// Centre frames on `t·hop` with reflect padding (true) or start them there (false).
    pub center: bool,
}

impl Default for StftConfig {
    fn default() -> Self {
        Self {
            n_fft: 512,
            hop: 128,
            window: Window::HannPeriodic,
            center: true,
        }
    }
}

impl StftConfig {
    /// Checks `n_fft >= 2` and `hop >= 1`.
    ///
    /// # Errors
    /// [`MetricsError::InvalidParameter`] naming the offending field.
    pub fn validate(&self) -> Result<()> {
        if self.n_fft < 2 {
            return Err(MetricsError::InvalidParameter {
                name: "n_fft",
                reason: "must be at least 2",
            });
        }
        if self.hop == 0 {
            return Err(MetricsError::InvalidParameter {
                name: "hop",
                reason: "must be at least 1",
            });
        }
        Ok(())
    }

    /// Number of frequency bins, `n_fft / 2 + 1` (DC to Nyquist).
    pub fn n_bins(&self) -> usize {
        self.n_fft / 2 + 1
    }

    /// Number of frames for a signal of `len` samples, `None` if there is none
    /// (`len == 0`, or `len < n_fft` without centring).
    ///
    /// Centred: `1 + (len + 2·(n_fft/2) − n_fft) / hop` (floor), i.e. `1 + len / hop` for an
    /// even `n_fft` (19 frames for 2400 samples with the default). Not centred:
    /// `1 + (len − n_fft) / hop`.
    pub fn n_frames(&self, len: usize) -> Option<usize> {
        if len == 0 || self.hop == 0 {
            return None;
        }
        let padded = if self.center {
            len + 2 * (self.n_fft / 2)
        } else {
            len
        };
        if padded < self.n_fft {
            return None;
        }
        Some(1 + (padded - self.n_fft) / self.hop)
    }
}

/// Index of the reflect-padded signal: maps any integer position onto `0..len` by mirroring
/// at the first and last sample without repeating them (period `2(len − 1)`).
pub(crate) fn reflect_index(i: isize, len: usize) -> usize {
    if len == 1 {
        return 0;
    }
    let period = 2 * (len as isize - 1);
    let m = i.rem_euclid(period);
    if m < len as isize {
        m as usize
    } else {
        (period - m) as usize
    }
}

/// Power spectrogram `|X(t, f)|²`: `n_frames` rows of `n_bins` values, frames major.
///
/// The DFT is unnormalised (`X(f) = Σ_n w[n] x[n] e^{−2πi f n / N}`, numpy's `rfft`), so a
/// full-scale sinusoid of amplitude `A` at a bin centre shows `(A · Σw / 2)²` there.
#[derive(Debug, Clone, PartialEq)]
pub struct Spectrogram {
    pub(crate) n_frames: usize,
    pub(crate) n_bins: usize,
    pub(crate) power: Vec<f64>,
}

impl Spectrogram {
    /// Number of frames (rows).
    pub fn n_frames(&self) -> usize {
        self.n_frames
    }

    /// Number of frequency bins per frame (columns), `n_fft / 2 + 1`.
    pub fn n_bins(&self) -> usize {
        self.n_bins
    }

    /// Power of frame `t`, bin `f`. Panics if out of range.
    pub fn get(&self, t: usize, f: usize) -> f64 {
        assert!(
            t < self.n_frames && f < self.n_bins,
            "spectrogram index out of range"
        );
        self.power[t * self.n_bins + f]
    }

    /// The `n_bins` powers of frame `t`. Panics if out of range.
    pub fn frame(&self, t: usize) -> &[f64] {
        &self.power[t * self.n_bins..(t + 1) * self.n_bins]
    }

    /// All powers, frame-major (`power[t * n_bins + f]`).
    pub fn as_slice(&self) -> &[f64] {
        &self.power
    }

    /// Consumes the spectrogram, returning the frame-major powers.
    pub fn into_vec(self) -> Vec<f64> {
        self.power
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reflect_matches_numpy() {
        // np.pad(np.arange(3), 7, mode="reflect") == [1 2 1 0 1 2 1 0 1 2 1 0 1 2 1 0 1]
        let got: Vec<usize> = (-7..10).map(|i| reflect_index(i, 3)).collect();
        assert_eq!(got, [1, 2, 1, 0, 1, 2, 1, 0, 1, 2, 1, 0, 1, 2, 1, 0, 1]);
        // np.pad(np.arange(2), 5, mode="reflect") == [1 0 1 0 1 0 1 0 1 0 1 0]
        let got: Vec<usize> = (-5..7).map(|i| reflect_index(i, 2)).collect();
        assert_eq!(got, [1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0]);
        assert_eq!(reflect_index(-3, 1), 0);
    }

    #[test]
    fn frames_and_bins() {
        let c = StftConfig::default();
        assert_eq!(c.n_bins(), 257);
        assert_eq!(c.n_frames(2400), Some(19));
        assert_eq!(c.n_frames(0), None);
        assert_eq!(c.n_frames(1), Some(1));
        let nc = StftConfig { center: false, ..c };
        assert_eq!(nc.n_frames(511), None);
        assert_eq!(nc.n_frames(512), Some(1));
        assert_eq!(nc.n_frames(2400), Some(15));
    }

    #[test]
    fn windows() {
        let w = Window::HannPeriodic.coefficients(4);
        let want = [0.0, 0.5, 1.0, 0.5];
        for (a, b) in w.iter().zip(want) {
            assert!((a - b).abs() < 1e-15);
        }
        let s = Window::HannSymmetric.coefficients(3);
        assert!((s[0]).abs() < 1e-15 && (s[1] - 1.0).abs() < 1e-15 && s[2].abs() < 1e-15);
    }

    #[test]
    fn validate() {
        assert!(StftConfig::default().validate().is_ok());
        let bad = StftConfig {
            hop: 0,
            ..Default::default()
        };
        assert!(matches!(
            bad.validate(),
            Err(MetricsError::InvalidParameter { name: "hop", .. })
        ));
        let bad = StftConfig {
            n_fft: 1,
            ..Default::default()
        };
        assert!(bad.validate().is_err());
    }
}
