//! Frame metrics: PSNR and SSIM on interleaved `u8` images.
//!
//! Images are row-major, channels interleaved (HWC): the value of channel `c` of pixel
//! `(x, y)` is at `(y * width + x) * channels + c`. The dataset's frames are 128x128x3.

use crate::error::{MetricsError, Result};
use crate::ssim_core;

/// Peak value of 8-bit data, the `L` of PSNR and image SSIM.
pub const DATA_RANGE_U8: f64 = 255.0;
/// SSIM stabiliser constant K1 (Wang et al. 2004).
pub const SSIM_K1: f64 = ssim_core::K1;
/// SSIM stabiliser constant K2 (Wang et al. 2004).
pub const SSIM_K2: f64 = ssim_core::K2;
/// Standard deviation of the Gaussian SSIM window, in pixels.
pub const SSIM_SIGMA: f64 = ssim_core::SIGMA;
/// Side of the Gaussian SSIM window: 11, i.e. radius `int(3.5 * 1.5 + 0.5) = 5`, the
/// truncation scikit-image uses for `gaussian_weights=True`.
pub const SSIM_WINDOW: usize = ssim_core::WINDOW;

/// Peak signal-to-noise ratio in dB with data range 255:
/// `PSNR = 10 log10(255² / MSE)`, `MSE` the mean squared difference over all values
/// (all pixels and channels alike).
///
/// Identical buffers give `f64::INFINITY`. Matches scikit-image
/// `peak_signal_noise_ratio(a, b, data_range=255)`.
///
/// # Errors
/// [`MetricsError::Empty`] for empty buffers, [`MetricsError::LengthMismatch`] if the
/// lengths differ.
pub fn psnr(a: &[u8], b: &[u8]) -> Result<f64> {
    if a.len() != b.len() {
        return Err(MetricsError::LengthMismatch {
            what: "psnr images",
            left: a.len(),
            right: b.len(),
        });
    }
    if a.is_empty() {
        return Err(MetricsError::Empty { what: "psnr image" });
    }
    let sse: u64 = a
        .iter()
        .zip(b)
        .map(|(&x, &y)| {
            let d = u64::from(x.abs_diff(y));
            d * d
        })
        .sum();
    if sse == 0 {
        return Ok(f64::INFINITY);
    }
    let mse = sse as f64 / a.len() as f64;
    Ok(10.0 * (DATA_RANGE_U8 * DATA_RANGE_U8 / mse).log10())
}

/// Structural similarity (Wang et al. 2004) of two interleaved `u8` images.
///
/// Per channel: local means, population variances and covariance with an 11x11 Gaussian
/// window (σ = 1.5, taps normalised to sum 1), `K1 = 0.01`, `K2 = 0.03`, `L = 255`; the
/// SSIM map is averaged over the *valid* positions (window fully inside the image, i.e. the
/// `(width − 10) x (height − 10)` interior), then the channel means are averaged.
///
/// This is exactly what scikit-image computes with
/// `structural_similarity(a, b, channel_axis=2, data_range=255, gaussian_weights=True,
/// sigma=1.5, use_sample_covariance=False)`: it filters the whole image (with reflect
/// padding) and then crops `pad = (11 − 1) / 2 = 5` pixels from every border before
/// taking the mean, so the padded values never reach the mean and only the valid region
/// counts. The tests check agreement to 1e-12 against scikit-image 0.26.0.
///
/// # Errors
/// [`MetricsError::ImageSize`] if a buffer is not `width * height * channels` long,
/// [`MetricsError::Empty`] for a zero dimension, [`MetricsError::TooSmall`] if `width` or
/// `height` is below 11.
pub fn ssim(a: &[u8], b: &[u8], width: usize, height: usize, channels: usize) -> Result<f64> {
    if width == 0 || height == 0 || channels == 0 {
        return Err(MetricsError::Empty { what: "ssim image" });
    }
    let expected = width
        .checked_mul(height)
        .and_then(|v| v.checked_mul(channels))
        .ok_or(MetricsError::InvalidParameter {
            name: "width * height * channels",
            reason: "overflows usize",
        })?;
    for buf in [a, b] {
        if buf.len() != expected {
            return Err(MetricsError::ImageSize {
                len: buf.len(),
                width,
                height,
                channels,
                expected,
            });
        }
    }
    if width < SSIM_WINDOW || height < SSIM_WINDOW {
        return Err(MetricsError::TooSmall {
            width,
            height,
            window: SSIM_WINDOW,
        });
    }
    let kernel = ssim_core::gaussian_kernel(SSIM_WINDOW, SSIM_SIGMA);
    let n = width * height;
    let mut pa = vec![0.0f64; n];
    let mut pb = vec![0.0f64; n];
    let mut sum = 0.0;
    for c in 0..channels {
        for (i, (x, y)) in pa.iter_mut().zip(pb.iter_mut()).enumerate() {
            *x = f64::from(a[i * channels + c]);
            *y = f64::from(b[i * channels + c]);
        }
        sum += ssim_core::ssim_plane_valid(&pa, &pb, width, height, &kernel, DATA_RANGE_U8);
    }
    Ok(sum / channels as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pattern(w: usize, h: usize, c: usize) -> Vec<u8> {
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

    #[test]
    fn psnr_known_values() {
        let a = [0u8, 0, 0, 0];
        assert_eq!(psnr(&a, &a).unwrap(), f64::INFINITY);
        // One value off by 255 among four: MSE = 255²/4, PSNR = 10 log10(4).
        let b = [255u8, 0, 0, 0];
        assert!((psnr(&a, &b).unwrap() - 10.0 * 4f64.log10()).abs() < 1e-12);
        // Every value off by 1: MSE = 1.
        let c = [1u8; 4];
        assert!((psnr(&a, &c).unwrap() - 20.0 * 255f64.log10()).abs() < 1e-12);
    }

    #[test]
    fn psnr_errors() {
        assert!(matches!(psnr(&[], &[]), Err(MetricsError::Empty { .. })));
        assert!(matches!(
            psnr(&[1, 2], &[1]),
            Err(MetricsError::LengthMismatch {
                left: 2,
                right: 1,
                ..
            })
        ));
    }

    #[test]
    fn ssim_identical_is_one() {
        let a = pattern(20, 15, 3);
        assert!((ssim(&a, &a, 20, 15, 3).unwrap() - 1.0).abs() < 1e-12);
    }

    #[test]
    fn ssim_is_symmetric_and_below_one() {
        let a = pattern(16, 16, 1);
        let b: Vec<u8> = a.iter().map(|&v| v.saturating_add(40)).collect();
        let s1 = ssim(&a, &b, 16, 16, 1).unwrap();
        let s2 = ssim(&b, &a, 16, 16, 1).unwrap();
        assert!((s1 - s2).abs() < 1e-14);
        assert!(s1 < 0.999 && s1 > 0.0, "{s1}");
    }

    #[test]
    fn ssim_errors() {
        let a = pattern(11, 11, 3);
        assert!(ssim(&a, &a, 11, 11, 3).is_ok());
        let small = pattern(10, 11, 3);
        assert!(matches!(
            ssim(&small, &small, 10, 11, 3),
            Err(MetricsError::TooSmall { width: 10, .. })
        ));
        assert!(matches!(
            ssim(&a, &a[1..], 11, 11, 3),
            Err(MetricsError::ImageSize { len: 362, .. })
        ));
        assert!(matches!(
            ssim(&a, &a, 11, 11, 2),
            Err(MetricsError::ImageSize { .. })
        ));
        assert!(matches!(
            ssim(&[], &[], 0, 11, 3),
            Err(MetricsError::Empty { .. })
        ));
        assert!(matches!(
            ssim(&a, &a, usize::MAX, 2, 3),
            Err(MetricsError::InvalidParameter { .. })
        ));
    }
}
