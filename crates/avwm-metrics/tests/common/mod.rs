//! Deterministic test inputs, written identically in `tests/reference/gen_reference.py`.
#![allow(dead_code)]

/// 64-bit LCG (Knuth's MMIX constants).
pub struct Lcg(pub u64);

impl Lcg {
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0
    }

    /// Uniform in [-1, 1).
    pub fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0
    }
}

pub const FS: f64 = 16_000.0;

/// `(x*7 + y*13 + c*29) % 256`, HWC.
pub fn pattern(w: usize, h: usize, c: usize) -> Vec<u8> {
    let mut v = Vec::with_capacity(w * h * c);
    for y in 0..h {
        for x in 0..w {
            for ch in 0..c {
                v.push(((x * 7 + y * 13 + ch * 29) % 256) as u8);
            }
        }
    }
    v
}

/// `clip(a + (x*3 + y*5 + c*11) % 17 − 8, 0, 255)`.
pub fn perturb_formula(a: &[u8], w: usize, h: usize, c: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(a.len());
    for y in 0..h {
        for x in 0..w {
            for ch in 0..c {
                let v = i64::from(a[(y * w + x) * c + ch]);
                let d = ((x * 3 + y * 5 + ch * 11) % 17) as i64 - 8;
                out.push((v + d).clamp(0, 255) as u8);
            }
        }
    }
    out
}

/// `clip(a + (lcg >> 33) % 61 − 30, 0, 255)`, one LCG draw per value in buffer order.
pub fn perturb_noise(a: &[u8], seed: u64) -> Vec<u8> {
    let mut rng = Lcg(seed);
    a.iter()
        .map(|&v| {
            let d = ((rng.next_u64() >> 33) % 61) as i64 - 30;
            (i64::from(v) + d).clamp(0, 255) as u8
        })
        .collect()
}

/// Σ amp·sin(2π f n / fs + phase) + noise_amp·uniform, in f64.
pub fn tone_noise(n: usize, seed: u64, parts: &[(f64, f64, f64)], noise_amp: f64) -> Vec<f64> {
    let mut rng = Lcg(seed);
    let mut x = vec![0.0f64; n];
    for &(amp, freq, phase) in parts {
        for (i, v) in x.iter_mut().enumerate() {
            *v += amp * (2.0 * std::f64::consts::PI * freq * i as f64 / FS + phase).sin();
        }
    }
    for v in x.iter_mut() {
        *v += noise_amp * rng.uniform();
    }
    x
}

/// `gain · x[n − d]`, zero before `d`.
pub fn delayed(x: &[f64], d: usize, gain: f64) -> Vec<f64> {
    let mut y = vec![0.0; x.len()];
    for i in d..x.len() {
        y[i] = gain * x[i - d];
    }
    y
}

pub fn to_f32(x: &[f64]) -> Vec<f32> {
    x.iter().map(|&v| v as f32).collect()
}

/// (ref_l, ref_r, est_l, est_r): the right ears are the left ones delayed by 5 (gain 0.7)
/// and 3 (gain 0.5) samples.
pub fn signals(n: usize) -> [Vec<f32>; 4] {
    let a = tone_noise(n, 1, &[(0.5, 440.0, 0.0), (0.25, 1733.0, 0.3)], 0.1);
    let b = tone_noise(n, 2, &[(0.45, 440.0, 0.1), (0.2, 2100.0, 0.0)], 0.15);
    [
        to_f32(&a),
        to_f32(&delayed(&a, 5, 0.7)),
        to_f32(&b),
        to_f32(&delayed(&b, 3, 0.5)),
    ]
}

/// White noise burst: `n` samples, zero except `len` uniform samples starting at `start`.
pub fn burst(n: usize, start: usize, len: usize, seed: u64) -> Vec<f64> {
    let mut rng = Lcg(seed);
    let mut x = vec![0.0; n];
    for v in &mut x[start..start + len] {
        *v = rng.uniform();
    }
    x
}

pub fn assert_close(got: f64, want: f64, tol: f64, what: &str) {
    assert!(
        (got - want).abs() <= tol,
        "{what}: got {got:.17}, want {want:.17} (diff {:.3e} > {tol:.0e})",
        (got - want).abs()
    );
}
