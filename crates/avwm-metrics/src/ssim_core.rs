//! Gaussian-window SSIM on one `f64` plane, shared by image SSIM and spectrogram SSIM.

/// SSIM stabiliser constant K1 (Wang et al. 2004).
pub(crate) const K1: f64 = 0.01;
/// SSIM stabiliser constant K2 (Wang et al. 2004).
pub(crate) const K2: f64 = 0.03;
/// Standard deviation of the Gaussian SSIM window, in pixels.
pub(crate) const SIGMA: f64 = 1.5;
/// Side of the full Gaussian SSIM window (radius `int(3.5 σ + 0.5) = 5`).
pub(crate) const WINDOW: usize = 11;

/// Normalised 1-D Gaussian taps `exp(-x²/(2σ²))` for `x = -r..=r`, `win = 2r + 1`.
///
/// This is the kernel `scipy.ndimage.gaussian_filter` builds (and scikit-image uses) with
/// `truncate = r / σ`; the 2-D window is the outer product, so it also sums to one.
pub(crate) fn gaussian_kernel(win: usize, sigma: f64) -> Vec<f64> {
    debug_assert!(win % 2 == 1);
    let r = (win / 2) as f64;
    let mut k: Vec<f64> = (0..win)
        .map(|i| {
            let x = i as f64 - r;
            (-0.5 * x * x / (sigma * sigma)).exp()
        })
        .collect();
    let sum: f64 = k.iter().sum();
    k.iter_mut().for_each(|v| *v /= sum);
    k
}

/// Mean SSIM map of planes `a` and `b` (`height` rows of `width` values) over the "valid"
/// region, i.e. every position where the window lies fully inside the image.
///
/// Local statistics use population (co)variances: `σx² = E[x²] − μx²`, `σxy = E[xy] − μxμy`,
/// with the weights of `kernel` (separable), and
/// `S = (2μxμy + C1)(2σxy + C2) / ((μx² + μy² + C1)(σx² + σy² + C2))`,
/// `C1 = (K1 L)²`, `C2 = (K2 L)²` with [`K1`], [`K2`] and `L = data_range`. Callers guarantee `width, height >= kernel.len()`.
pub(crate) fn ssim_plane_valid(
    a: &[f64],
    b: &[f64],
    width: usize,
    height: usize,
    kernel: &[f64],
    data_range: f64,
) -> f64 {
    let win = kernel.len();
    debug_assert!(width >= win && height >= win);
    debug_assert_eq!(a.len(), width * height);
    debug_assert_eq!(b.len(), width * height);
    let ow = width - win + 1;
    let oh = height - win + 1;
    let c1 = (K1 * data_range).powi(2);
    let c2 = (K2 * data_range).powi(2);

    // Horizontal pass over every row for the five moments: x, y, x², y², xy.
    let n = height * ow;
    let mut h = vec![[0.0f64; 5]; n];
    for y in 0..height {
        let ra = &a[y * width..(y + 1) * width];
        let rb = &b[y * width..(y + 1) * width];
        for ox in 0..ow {
            let mut s = [0.0f64; 5];
            for (i, &w) in kernel.iter().enumerate() {
                let xa = ra[ox + i];
                let xb = rb[ox + i];
                s[0] += w * xa;
                s[1] += w * xb;
                s[2] += w * (xa * xa);
                s[3] += w * (xb * xb);
                s[4] += w * (xa * xb);
            }
            h[y * ow + ox] = s;
        }
    }

    // Vertical pass, evaluating the SSIM map on the fly.
    let mut total = 0.0f64;
    for oy in 0..oh {
        for ox in 0..ow {
            let mut m = [0.0f64; 5];
            for (j, &w) in kernel.iter().enumerate() {
                let s = &h[(oy + j) * ow + ox];
                for q in 0..5 {
                    m[q] += w * s[q];
                }
            }
            let [ux, uy, uxx, uyy, uxy] = m;
            let vx = uxx - ux * ux;
            let vy = uyy - uy * uy;
            let vxy = uxy - ux * uy;
            let num = (2.0 * ux * uy + c1) * (2.0 * vxy + c2);
            let den = (ux * ux + uy * uy + c1) * (vx + vy + c2);
            total += num / den;
        }
    }
    total / (ow * oh) as f64
}
