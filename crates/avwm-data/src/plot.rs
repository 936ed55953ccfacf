//! PNG charts of the statistics (the paper's Fig. 2): pattern shares per split, trajectory-length
//! and geodesic-distance histograms, one colour per split (train blue, validation orange, test
//! green), labelled with a built-in 3×5 pixel font; exact numbers are in `info.json`.

use crate::error::Result;
use crate::media::encode_png;
use crate::stats::{Histogram, Statistics};
use avwm_core::RgbImage;
use avwm_core::write_atomic;
use std::path::Path;

const W: u32 = 560;
const H: u32 = 280;
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

/// 3×5 pixel glyphs: bit `r * 3 + c` set = pixel at row `r`, column `c`.
const GLYPHS: [(char, u16); 45] = [
    ('%', 0x52a5),
    ('(', 0x224a),
    (')', 0x2922),
    ('-', 0x01c0),
    ('.', 0x2000),
    ('/', 0x12a4),
    ('0', 0x7b6f),
    ('1', 0x749a),
    ('2', 0x73e7),
    ('3', 0x79a7),
    ('4', 0x49ed),
    ('5', 0x79cf),
    ('6', 0x7bcf),
    ('7', 0x24a7),
    ('8', 0x7bef),
    ('9', 0x79ef),
    (':', 0x0410),
    ('=', 0x0e38),
    ('>', 0x1511),
    ('A', 0x5bea),
    ('B', 0x3aeb),
    ('C', 0x624e),
    ('D', 0x3b6b),
    ('E', 0x72cf),
    ('F', 0x12cf),
    ('G', 0x6b4e),
    ('H', 0x5bed),
    ('I', 0x7497),
    ('J', 0x2b24),
    ('K', 0x5aed),
    ('L', 0x7249),
    ('M', 0x5bfd),
    ('N', 0x5b6b),
    ('O', 0x2b6a),
    ('P', 0x12eb),
    ('Q', 0x676a),
    ('R', 0x5aeb),
    ('S', 0x388e),
    ('T', 0x2497),
    ('U', 0x7b6d),
    ('V', 0x2b6d),
    ('W', 0x5fed),
    ('X', 0x5aad),
    ('Y', 0x24ad),
    ('Z', 0x72a7),
];

/// Draws upper-case `text` at (x, y) with `scale`-pixel dots; unknown characters are blank.
fn text(img: &mut RgbImage, x: u32, y: u32, s: &str, scale: u32, c: [u8; 3]) {
    for (k, ch) in s.chars().enumerate() {
        let ch = ch.to_ascii_uppercase();
        let Some(&(_, bits)) = GLYPHS.iter().find(|(g, _)| *g == ch) else {
            continue;
        };
        let ox = x + k as u32 * 4 * scale;
        for r in 0..5 {
            for col in 0..3 {
                if bits >> (r * 3 + col) & 1 == 1 {
                    let (px, py) = (ox + col * scale, y + r * scale);
                    fill(img, px, py, px + scale, py + scale, c);
                }
            }
        }
    }
}

/// Top of the plot area (px): title and legend rows above it.
const TOP: u32 = 44;
/// Bottom margin (px): the x labels.
const BOTTOM: u32 = 22;

/// Grouped bars: `groups[g][s]` in [0, 1] of the plot height, with a title, a legend, the y
/// value of a full-height bar, and labels under the x axis (`(bar group, text)` pairs).
fn bars(title: &str, y_max: &str, groups: &[[f64; 3]], x_labels: &[(usize, String)]) -> RgbImage {
    let mut img = RgbImage {
        width: W,
        height: H,
        data: vec![255; (W * H * 3) as usize],
    };
    let black = [0, 0, 0];
    text(&mut img, 4, 4, title, 2, black);
    let mut x = 4;
    for (name, c) in [
        ("TRAIN ", COLORS[0]),
        ("VALIDATION ", COLORS[1]),
        ("TEST", COLORS[2]),
    ] {
        text(&mut img, x, 20, name, 2, c);
        x += 8 * name.len() as u32;
    }
    let y_axis = 20 + 4 * 2 * y_max.len() as u32 + 4;
    text(&mut img, 4, TOP, y_max, 2, black);
    fill(&mut img, y_axis, H - BOTTOM, W - 10, H - BOTTOM + 1, black);
    fill(&mut img, y_axis, TOP, y_axis + 1, H - BOTTOM + 1, black);
    fill(&mut img, y_axis - 4, TOP, y_axis, TOP + 1, black);
    let gw = (W - 15 - y_axis) / groups.len().max(1) as u32;
    let bw = (gw / 4).max(1);
    let x_of = |g: usize| y_axis + 5 + g as u32 * gw;
    for (g, vals) in groups.iter().enumerate() {
        for (s, v) in vals.iter().enumerate() {
            let h = (v.clamp(0.0, 1.0) * f64::from(H - BOTTOM - TOP)) as u32;
            let x0 = x_of(g) + s as u32 * bw;
            fill(
                &mut img,
                x0,
                H - BOTTOM - h,
                x0 + bw - 1,
                H - BOTTOM,
                COLORS[s],
            );
        }
    }
    for (g, label) in x_labels {
        text(&mut img, x_of(*g), H - BOTTOM + 6, label, 2, black);
    }
    img
}

/// Per-split bin fractions scaled so that the largest is 1; also returns that largest fraction.
fn hist_groups(
    stats: &Statistics,
    get: impl Fn(&crate::stats::SplitStats) -> &Histogram,
) -> (Vec<[f64; 3]>, f64) {
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
    (
        (0..bins)
            .map(|b| [frac[0][b] / max, frac[1][b] / max, frac[2][b] / max])
            .collect(),
        max,
    )
}

/// x labels at every `every`-th bin edge of `h` (the left edge of that bin).
fn edge_labels(h: &Histogram, every: usize) -> Vec<(usize, String)> {
    (0..h.counts.len())
        .step_by(every)
        .map(|b| (b, format!("{}", h.edges[b])))
        .collect()
}

/// Writes `plots/patterns.png`, `plots/length.png`, `plots/geodesic.png` (bars per split;
/// histograms as the share of each split's episodes or frames per bin); returns their paths
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
    let pat_labels = vec![
        (0, "SRC>GOAL".to_string()),
        (1, "START>SRC".to_string()),
        (2, "RND>RND".to_string()),
    ];
    let (len, len_max) = hist_groups(stats, |s| &s.length_frames);
    let (geo, geo_max) = hist_groups(stats, |s| &s.geodesic_m);
    let pct = |f: f64| format!("{:.0}%", 100.0 * f);
    let plots = [
        (
            "plots/patterns.png",
            bars(
                "MOTION PATTERN SHARE PER SPLIT",
                "100%",
                &patterns,
                &pat_labels,
            ),
        ),
        (
            "plots/length.png",
            bars(
                "TRAJECTORY LENGTH (FRAMES)",
                &pct(len_max),
                &len,
                &edge_labels(&stats.all.length_frames, 4),
            ),
        ),
        (
            "plots/geodesic.png",
            bars(
                "GEODESIC DISTANCE TO SOURCE (M)",
                &pct(geo_max),
                &geo,
                &edge_labels(&stats.all.geodesic_m, 10),
            ),
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::media::decode_png;
    use crate::schema::{EpisodeHeader, FrameRecord, MotionPattern, RawRow, Split};
    use crate::stats::StatsBuilder;
    use avwm_core::Pose;

    #[test]
    fn plots_are_written_with_labels_and_bars() {
        let mut b = StatsBuilder::new();
        for (ep, (split, n)) in [
            (Split::Train, 30u32),
            (Split::Validation, 120),
            (Split::Test, 300),
        ]
        .into_iter()
        .enumerate()
        {
            let header = EpisodeHeader {
                episode_id: ep as u64,
                scene_id: format!("s{ep}"),
                scene_seed: 0,
                split,
                pattern: MotionPattern::ALL[ep],
                episode_seed: 0,
                goal_xy: [0.0; 2],
            };
            let rows: Vec<RawRow> = (0..n)
                .map(|k| RawRow {
                    header: header.clone(),
                    frame: FrameRecord {
                        step: k,
                        action: None,
                        pose: Pose::new(0.0, 0.0, 0.0),
                        png: vec![],
                        wav: vec![],
                        geodesic_m: k as f32 * 0.05,
                        reward: 0.0,
                        distance_reduction_m: 0.0,
                        collided: false,
                    },
                })
                .collect();
            b.add_rows(&rows);
        }
        let dir = std::env::temp_dir().join(format!("avwm-data-plot-test-{}", std::process::id()));
        let files = write_plots(&dir, &b.finish()).unwrap();
        assert_eq!(files.len(), 3);
        for f in &files {
            let img = decode_png(&std::fs::read(dir.join(f)).unwrap()).unwrap();
            assert_eq!((img.width, img.height), (W, H));
            let count = |c: [u8; 3]| img.data.chunks_exact(3).filter(|p| **p == c).count();
            assert!(count([0, 0, 0]) > 300, "{f}: axes and text");
            assert!(
                COLORS.iter().all(|&c| count(c) > 50),
                "{f}: every split has bars or legend"
            );
        }
        if std::env::var_os("AVWM_KEEP_PLOTS").is_none() {
            std::fs::remove_dir_all(&dir).ok();
        }
    }
}
