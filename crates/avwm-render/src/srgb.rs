//! Linear → 8-bit encoding.

use std::sync::LazyLock;

const LUT_SIZE: usize = 1 << 14;

/// sRGB opto-electronic transfer function (IEC 61966-2-1) for a linear value in [0, 1].
pub(crate) fn srgb_oetf(x: f32) -> f32 {
    if x <= 0.003_130_8 {
        12.92 * x
    } else {
        1.055 * x.powf(1.0 / 2.4) - 0.055
    }
}

/// 16 k-entry table: linear value quantised to 14 bits → sRGB byte. At the steepest point of the
/// curve (slope 12.92 near 0) one table step moves the output by 0.2 code values, so the table
/// never differs from the exact encoding by more than one code.
static SRGB_LUT: LazyLock<Vec<u8>> = LazyLock::new(|| {
    (0..LUT_SIZE)
        .map(|i| {
            let x = i as f32 / (LUT_SIZE - 1) as f32;
            (srgb_oetf(x) * 255.0 + 0.5).clamp(0.0, 255.0) as u8
        })
        .collect()
});

/// Encodes linear colour values (clamped to [0, 1]) to bytes.
#[derive(Clone, Copy)]
pub(crate) struct Encoder {
    lut: Option<&'static [u8]>,
}

impl Encoder {
    pub fn new(srgb: bool) -> Encoder {
        Encoder {
            lut: srgb.then(|| SRGB_LUT.as_slice()),
        }
    }

    #[inline]
    pub fn encode(&self, x: f32) -> u8 {
        // `clamp` maps NaN to NaN, and `as u8/usize` maps NaN to 0: a NaN pixel becomes black.
        let x = x.clamp(0.0, 1.0);
        match self.lut {
            Some(lut) => lut[(x * (LUT_SIZE - 1) as f32 + 0.5) as usize],
            None => (x * 255.0 + 0.5) as u8,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lut_encoding_is_within_one_code_of_the_exact_curve_and_monotone() {
        let enc = Encoder::new(true);
        let mut prev = 0u8;
        for i in 0..=100_000 {
            let x = i as f32 / 100_000.0;
            let exact = srgb_oetf(x) * 255.0;
            let got = enc.encode(x);
            assert!(
                (f32::from(got) - exact).abs() <= 1.0,
                "x={x}: {got} vs {exact}"
            );
            assert!(got >= prev);
            prev = got;
        }
        // Reference values of the sRGB curve: 0.5 linear ↦ 0.7354 ↦ 188; 0.18 ↦ 0.4614 ↦ 118.
        assert_eq!(enc.encode(0.5), 188);
        assert_eq!(enc.encode(0.18), 118);
        assert_eq!(
            (
                enc.encode(0.0),
                enc.encode(1.0),
                enc.encode(7.0),
                enc.encode(f32::NAN)
            ),
            (0, 255, 255, 0)
        );
        assert_eq!(Encoder::new(false).encode(0.5), 128);
    }
}
