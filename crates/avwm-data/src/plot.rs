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
