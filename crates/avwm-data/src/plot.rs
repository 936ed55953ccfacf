//! PNG charts of the statistics (the paper's Fig. 2): pattern shares per split, trajectory-length
//! and geodesic-distance histograms. Bars only, no text: one colour per split
//! (train blue, validation orange, test green); numbers are in `info.json`.

use crate::error::Result;
use crate::info::write_atomic;
use crate::media::encode_png;
use crate::stats::{Histogram, Statistics};
use avwm_core::RgbImage;
use std::path::Path;

const W: u32 = 480;
const H: u32 = 240;
const COLORS: [[u8; 3]; 3] = [[31, 119, 180], [255, 127, 14], [44, 160, 44]];
const SPLITS: [&str; 3] = ["train", "validation", "test"];

fn fill(img: &mut RgbImage, x0: u32, y0: u32, x1: u32, y1: u32, c: [u8; 3]) {
    for y in y0.min(H)..y1.min(H) {
        for x in x0.min(W)..x1.min(W) {
            let i = ((y * W + x) * 3) as usize;
            img.data[i..i + 3].copy_from_slice(&c);
        }
    }
}

fn canvas() -> RgbImage {
    let mut img = RgbImage {
        width: W,
        height: H,
        data: vec![255; (W * H * 3) as usize],
    };
    fill(&mut img, 20, H - 20, W - 10, H - 19, [0, 0, 0]); // x axis
    fill(&mut img, 20, 10, 21, H - 19, [0, 0, 0]); // y axis
    img
}

/// Grouped bars: `groups[g][s]` in [0, 1] of the plot height.
fn bars(groups: &[[f64; 3]]) -> RgbImage {
    let mut img = canvas();
    let gw = (W - 40) / groups.len().max(1) as u32;
    let bw = (gw / 4).max(1);
    for (g, vals) in groups.iter().enumerate() {
        for (s, v) in vals.iter().enumerate() {
            let h = (v.clamp(0.0, 1.0) * f64::from(H - 40)) as u32;
            let x0 = 25 + g as u32 * gw + s as u32 * bw;
            fill(&mut img, x0, H - 20 - h, x0 + bw - 1, H - 20, COLORS[s]);
        }
    }
    img
}

fn hist_groups(
    stats: &Statistics,
    get: impl Fn(&crate::stats::SplitStats) -> &Histogram,
) -> Vec<[f64; 3]> {
    let bins = get(&stats.all).counts.len();
    let frac: Vec<Vec<f64>> = SPLITS
        .iter()
        .map(|s| match stats.splits.get(*s) {
            Some(st) => {
                let h = get(st);
                h.counts
                    .iter()
                    .map(|c| *c as f64 / h.n.max(1) as f64)
                    .collect()
            }
            None => vec![0.0; bins],
        })
        .collect();
    let max = frac.iter().flatten().copied().fold(1e-9, f64::max);
    (0..bins)
        .map(|b| [frac[0][b] / max, frac[1][b] / max, frac[2][b] / max])
        .collect()
}

/// Writes `plots/patterns.png`, `plots/length.png`, `plots/geodesic.png`; returns their paths
/// relative to `dir`.
///
/// # Errors
/// I/O errors.
pub fn write_plots(dir: &Path, stats: &Statistics) -> Result<Vec<String>> {
    let patterns: Vec<[f64; 3]> = crate::schema::MotionPattern::ALL
        .iter()
        .map(|p| {
            std::array::from_fn(|s| {
                stats
                    .splits
                    .get(SPLITS[s])
                    .and_then(|st| st.pattern_share.get(p.name()))
                    .copied()
                    .unwrap_or(0.0)
            })
        })
        .collect();
    let plots = [
        ("plots/patterns.png", bars(&patterns)),
        (
            "plots/length.png",
            bars(&hist_groups(stats, |s| &s.length_frames)),
        ),
        (
            "plots/geodesic.png",
            bars(&hist_groups(stats, |s| &s.geodesic_m)),
        ),
    ];
    let mut out = Vec::new();
    for (rel, img) in plots {
        write_atomic(&dir.join(rel), &encode_png(&img)?)?;
        out.push(rel.to_string());
    }
    Ok(out)
}

/// Log-magnitude spectrogram of one channel as a `width × height` grey-scale-to-colour strip:
/// 256-sample Hann windows (16 ms at 16 kHz), columns spread over the signal, rows from 8 kHz
/// (top) to 0 Hz (bottom), −80…0 dB relative to the strip's maximum.
pub fn spectrogram_strip(samples: &[f32], width: u32, height: u32) -> Vec<[u8; 3]> {
    const N: usize = 256;
    let bins = N / 2;
    let cols = width as usize;
    let mut mag = vec![0f32; cols * bins];
    let hann: Vec<f32> = (0..N)
        .map(|i| 0.5 - 0.5 * (std::f32::consts::TAU * i as f32 / N as f32).cos())
        .collect();
    let hop = samples.len().saturating_sub(N) as f32 / (cols.max(2) - 1) as f32;
    let (cos, sin): (Vec<f32>, Vec<f32>) = (0..N)
        .map(|k| {
            (
                (std::f32::consts::TAU * k as f32 / N as f32).cos(),
                (std::f32::consts::TAU * k as f32 / N as f32).sin(),
            )
        })
        .unzip();
    for c in 0..cols {
        let start = (c as f32 * hop) as usize;
        let frame: Vec<f32> = (0..N)
            .map(|i| samples.get(start + i).copied().unwrap_or(0.0) * hann[i])
            .collect();
        for b in 0..bins {
            let (mut re, mut im) = (0f32, 0f32);
            for (i, x) in frame.iter().enumerate() {
                let k = (b * i) % N;
                re += x * cos[k];
                im -= x * sin[k];
            }
            mag[c * bins + b] = re * re + im * im;
        }
    }
    let max = mag.iter().copied().fold(1e-20f32, f32::max);
    let mut out = vec![[0u8; 3]; (width * height) as usize];
    for y in 0..height as usize {
        let b = ((height as usize - 1 - y) * bins / height as usize).min(bins - 1);
        for x in 0..cols {
            let db = 10.0 * (mag[x * bins + b] / max).max(1e-8).log10();
            let v = ((db + 80.0) / 80.0).clamp(0.0, 1.0);
            // A simple "magma-like" ramp: black → purple → orange → yellow.
            out[y * cols + x] = [
                (255.0 * v.sqrt()) as u8,
                (255.0 * v * v) as u8,
                (255.0 * (v * (1.0 - v) * 2.0).min(1.0)) as u8,
            ];
        }
    }
    out
}

/// A contact sheet: up to `max_frames` frames (evenly spaced) in a grid of `columns`, each frame
/// with its left- and right-ear spectrograms (each half the image height) under it.
pub fn contact_sheet(
    frames: &[crate::dataset::Frame],
    columns: usize,
    max_frames: usize,
) -> RgbImage {
    let Some(first) = frames.first() else {
        return RgbImage::new(1, 1);
    };
    let (w, h) = (first.rgb.width, first.rgb.height);
    let n = frames.len().min(max_frames.max(1));
    let pick: Vec<&crate::dataset::Frame> = (0..n).map(|i| &frames[i * frames.len() / n]).collect();
    let columns = columns.clamp(1, n);
    let rows = n.div_ceil(columns);
    let (cw, ch) = (w + 2, h + h / 2 * 2 + 4);
    let (sw, sh) = (cw * columns as u32, ch * rows as u32);
    let mut sheet = RgbImage {
        width: sw,
        height: sh,
        data: vec![255; (sw * sh * 3) as usize],
    };
    let mut put = |x: u32, y: u32, c: [u8; 3]| {
        if x < sw && y < sh {
            let i = ((y * sw + x) * 3) as usize;
            sheet.data[i..i + 3].copy_from_slice(&c);
        }
    };
    for (k, f) in pick.iter().enumerate() {
        let (ox, oy) = ((k % columns) as u32 * cw + 1, (k / columns) as u32 * ch + 1);
        for y in 0..h.min(f.rgb.height) {
            for x in 0..w.min(f.rgb.width) {
                let i = ((y * f.rgb.width + x) * 3) as usize;
                put(
                    ox + x,
                    oy + y,
                    [f.rgb.data[i], f.rgb.data[i + 1], f.rgb.data[i + 2]],
                );
            }
        }
        for (c, ch_samples) in [&f.audio.left, &f.audio.right].into_iter().enumerate() {
            let sh2 = h / 2;
            let strip = spectrogram_strip(ch_samples, w, sh2);
            let y0 = oy + h + 1 + c as u32 * (sh2 + 1);
            for y in 0..sh2 {
                for x in 0..w {
                    put(ox + x, y0 + y, strip[(y * w + x) as usize]);
                }
            }
        }
    }
    sheet
}
