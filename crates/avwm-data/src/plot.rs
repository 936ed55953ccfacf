//! Charts of the statistics (the paper's Fig. 2), drawn by [`avwm_plot::BarChart`]: pattern
//! shares per split, trajectory-length and geodesic-distance histograms, one colour per split
//! (train blue, validation orange, test green), each written as PNG and SVG; exact numbers are in
//! `info.json`. Also the spectrogram strips and contact sheets of dataset frames (images, not
//! charts).

use crate::error::Result;
use crate::stats::{Histogram, SplitStats, Statistics};
use avwm_core::RgbImage;
use avwm_plot::{BarChart, Chart as _};
use std::path::Path;

/// The splits in legend order, with their colours (matplotlib's `tab10` blue, orange, green).
const SPLITS: [(&str, [u8; 3]); 3] = [
    ("train", [31, 119, 180]),
    ("validation", [255, 127, 14]),
    ("test", [44, 160, 44]),
];

/// Per-split shares of each bin in percent (`groups[bin][split]`; a split without episodes has
/// none).
fn hist_groups(stats: &Statistics, get: impl Fn(&SplitStats) -> &Histogram) -> Vec<Vec<f64>> {
    let bins = get(&stats.all).counts.len();
    let pct: Vec<Vec<f64>> = SPLITS
        .iter()
        .map(|(s, _)| match stats.splits.get(*s) {
            Some(st) => {
                let h = get(st);
                h.counts
                    .iter()
                    .map(|c| 100.0 * *c as f64 / h.n.max(1) as f64)
                    .collect()
            }
            None => vec![0.0; bins],
        })
        .collect();
    (0..bins)
        .map(|b| pct.iter().map(|split| split[b]).collect())
        .collect()
}

/// x ticks at every `every`-th bin edge of `h`, the last edge included, labelled with the edge.
fn edge_ticks(h: &Histogram, every: usize) -> Vec<(f64, String)> {
    (0..h.edges.len())
        .step_by(every.max(1))
        .map(|b| (b as f64, format!("{}", h.edges[b])))
        .collect()
}

/// Writes `plots/patterns`, `plots/length` and `plots/geodesic`, each as `.png` and `.svg`
/// (bars per split: the motion patterns' shares of each split's episodes; histograms as the share
/// of each split's episodes or frames per bin); returns their paths relative to `dir`, each PNG
/// followed by its SVG. The same statistics give the same bytes.
///
/// # Errors
/// I/O errors naming the file.
pub fn write_plots(dir: &Path, stats: &Statistics) -> Result<Vec<String>> {
    let patterns: Vec<Vec<f64>> = crate::schema::MotionPattern::ALL
        .iter()
        .map(|p| {
            SPLITS
                .iter()
                .map(|(s, _)| {
                    stats
                        .splits
                        .get(*s)
                        .and_then(|st| st.pattern_share.get(p.name()))
                        .map_or(0.0, |f| 100.0 * f)
                })
                .collect()
        })
        .collect();
    let pattern_ticks: Vec<(f64, String)> = ["source → goal", "start → source", "random → random"]
        .iter()
        .enumerate()
        .map(|(g, l)| (g as f64 + 0.5, (*l).to_string()))
        .collect();
    let length = hist_groups(stats, |s| &s.length_frames);
    let geodesic = hist_groups(stats, |s| &s.geodesic_m);
    let length_ticks = edge_ticks(&stats.all.length_frames, 4);
    let geodesic_ticks = edge_ticks(&stats.all.geodesic_m, 10);
    let charts = [
        (
            "plots/patterns.png",
            BarChart {
                title: "Motion pattern share per split",
                x_label: "motion pattern",
                y_label: "share of the split's episodes",
                y_suffix: "%",
                series: &SPLITS,
                values: &patterns,
                x_ticks: &pattern_ticks,
            },
        ),
        (
            "plots/length.png",
            BarChart {
                title: "Trajectory length",
                x_label: &stats.all.length_frames.quantity,
                y_label: "share of the split's episodes",
                y_suffix: "%",
                series: &SPLITS,
                values: &length,
                x_ticks: &length_ticks,
            },
        ),
        (
            "plots/geodesic.png",
            BarChart {
                title: "Geodesic distance to the source",
                x_label: &stats.all.geodesic_m.quantity,
                y_label: "share of the split's frames",
                y_suffix: "%",
                series: &SPLITS,
                values: &geodesic,
                x_ticks: &geodesic_ticks,
            },
        ),
    ];
    let mut out = Vec::new();
    for (rel, chart) in charts {
        chart.write(&dir.join(rel))?;
        out.push(rel.to_string());
        out.push(format!("{}.svg", rel.trim_end_matches(".png")));
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
    let fft = realfft::RealFftPlanner::<f32>::new().plan_fft_forward(N);
    let mut frame = fft.make_input_vec();
    let mut spectrum = fft.make_output_vec();
    let mut scratch = fft.make_scratch_vec();
    for c in 0..cols {
        let start = (c as f32 * hop) as usize;
        for (i, x) in frame.iter_mut().enumerate() {
            *x = samples.get(start + i).copied().unwrap_or(0.0) * hann[i];
        }
        // The lengths are the plan's own, so the transform cannot fail.
        if fft
            .process_with_scratch(&mut frame, &mut spectrum, &mut scratch)
            .is_ok()
        {
            for (m, z) in mag[c * bins..(c + 1) * bins].iter_mut().zip(&spectrum) {
                *m = z.norm_sqr();
            }
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
        let stats = b.finish();
        let dir = std::env::temp_dir().join(format!("avwm-data-plot-test-{}", std::process::id()));
        let files = write_plots(&dir, &stats).unwrap();
        assert_eq!(
            files,
            [
                "plots/patterns.png",
                "plots/patterns.svg",
                "plots/length.png",
                "plots/length.svg",
                "plots/geodesic.png",
                "plots/geodesic.svg"
            ]
        );
        for f in files.iter().filter(|f| f.ends_with(".png")) {
            let img = decode_png(&std::fs::read(dir.join(f)).unwrap()).unwrap();
            assert_eq!((img.width, img.height), (BarChart::WIDTH, BarChart::HEIGHT));
            let count = |c: [u8; 3]| img.data.chunks_exact(3).filter(|p| **p == c).count();
            assert!(count([0, 0, 0]) > 100, "{f}: text");
            for (split, c) in SPLITS {
                assert!(count(c) > 100, "{f}: {split} has bars and a legend swatch");
            }
        }
        for f in files.iter().filter(|f| f.ends_with(".svg")) {
            let svg = std::fs::read_to_string(dir.join(f)).unwrap();
            assert!(
                svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"),
                "{f}"
            );
            for (split, _) in SPLITS {
                assert!(svg.contains(&format!(">\n{split}\n</text>")), "{f}: legend");
            }
        }
        let patterns = std::fs::read_to_string(dir.join("plots/patterns.svg")).unwrap();
        assert!(patterns.contains("Motion pattern share per split"));
        assert!(patterns.contains("start → source"));
        // The same statistics give the same bytes.
        let again = dir.join("again");
        write_plots(&again, &stats).unwrap();
        for f in &files {
            assert_eq!(
                std::fs::read(dir.join(f)).unwrap(),
                std::fs::read(again.join(f)).unwrap(),
                "{f}"
            );
        }
        if std::env::var_os("AVWM_KEEP_PLOTS").is_none() {
            std::fs::remove_dir_all(&dir).ok();
        }
    }

    #[test]
    fn a_pure_tone_lights_its_own_row_of_the_spectrogram() {
        // 2 kHz at 16 kHz is bin 32 of the 256-point transform; with 128 rows for bins 0..128
        // (8 kHz at the top), that is row 127 − 32 = 95.
        let tone: Vec<f32> = (0..2400)
            .map(|i| (std::f32::consts::TAU * 2000.0 * i as f32 / 16_000.0).sin())
            .collect();
        let (w, h) = (16u32, 128u32);
        let strip = spectrogram_strip(&tone, w, h);
        assert_eq!(strip.len(), (w * h) as usize);
        for x in 0..w as usize {
            let at = |y: usize| strip[y * w as usize + x];
            let peak = at(95);
            assert!(
                peak[0] >= 250 && peak[1] >= 250,
                "column {x}: the tone's row is at the maximum: {peak:?}"
            );
            // A Hann window's sidelobes are below −80 dB four octaves away: black.
            for y in [0, 20, 127] {
                assert_eq!(at(y), [0, 0, 0], "column {x}, row {y}");
            }
        }
        // Silence is black, not NaN-coloured, and a signal shorter than a window still draws.
        assert!(
            spectrogram_strip(&[0.0; 2400], w, h)
                .iter()
                .all(|c| *c == [0, 0, 0])
        );
        assert_eq!(
            spectrogram_strip(&tone[..100], w, h).len(),
            (w * h) as usize
        );
    }
}
