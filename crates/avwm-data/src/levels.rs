//! Audio levels of a dataset: peaks and RMS levels per split, in dBFS (full scale = 1.0, the
//! limit of a 16-bit WAV and of every player), so a dataset's headroom is measured rather than
//! assumed.

use crate::Result;
use crate::dataset::{Dataset, Filter};
use crate::media::decode_wav;
use crate::schema::Split;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// `20·log10(x)`, with −∞ mapped to −200 dB.
fn db(x: f64) -> f64 {
    if x > 0.0 { 20.0 * x.log10() } else { -200.0 }
}

/// One frame's place in the dataset.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct FrameRef {
    /// Episode id.
    pub episode_id: u64,
    /// Step.
    pub step: u32,
}

/// Audio levels of one split.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SplitLevels {
    /// Frames measured.
    pub frames: usize,
    /// Largest |sample| over both ears and all frames (dBFS) and where it is.
    pub peak_dbfs: f64,
    /// The frame holding the largest sample.
    pub peak_frame: Option<FrameRef>,
    /// Frames with a sample at or above full scale (|x| ≥ 1): a 16-bit encoding clips them.
    pub frames_at_full_scale: usize,
    /// Samples at or above full scale.
    pub samples_at_full_scale: usize,
    /// Frame RMS levels (both ears, dBFS): minimum, 1st percentile, median, 99th percentile and
    /// maximum.
    pub rms_dbfs: [f64; 5],
}

/// Audio levels of a dataset, per split.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AudioLevels {
    /// By split name.
    pub splits: BTreeMap<String, SplitLevels>,
}

/// Measures every frame's audio (decoding only the WAV column).
///
/// # Errors
/// A corrupt shard or WAV.
pub fn audio_levels(ds: &Dataset) -> Result<AudioLevels> {
    let mut splits = BTreeMap::new();
    for split in [Split::Train, Split::Validation, Split::Test] {
        let filter = Filter::split(split);
        let (mut peak, mut peak_frame) = (0f32, None);
        let (mut frames_fs, mut samples_fs) = (0usize, 0usize);
        let mut rms = Vec::new();
        for e in ds.episodes().iter().filter(|e| filter.accepts(e)) {
            let id = e.entry.episode_id;
            for row in ds.raw_rows(id, 0..e.entry.frames, true)? {
                let a = decode_wav(&row.frame.wav)?;
                let (mut p, mut ss, mut over) = (0f32, 0f64, 0usize);
                for &v in a.left.iter().chain(&a.right) {
                    p = p.max(v.abs());
                    ss += f64::from(v) * f64::from(v);
                    over += usize::from(v.abs() >= 1.0);
                }
                if p > peak || peak_frame.is_none() {
                    peak = p;
                    peak_frame = Some(FrameRef {
                        episode_id: id,
                        step: row.frame.step,
                    });
                }
                frames_fs += usize::from(over > 0);
                samples_fs += over;
                let n = (a.left.len() + a.right.len()).max(1);
                rms.push(db((ss / n as f64).sqrt()));
            }
        }
        if rms.is_empty() {
            continue;
        }
        rms.sort_by(f64::total_cmp);
        let q = |p: f64| rms[((rms.len() - 1) as f64 * p).round() as usize];
        splits.insert(
            split.name().to_string(),
            SplitLevels {
                frames: rms.len(),
                peak_dbfs: db(f64::from(peak)),
                peak_frame,
                frames_at_full_scale: frames_fs,
                samples_at_full_scale: samples_fs,
                rms_dbfs: [q(0.0), q(0.01), q(0.5), q(0.99), q(1.0)],
            },
        );
    }
    Ok(AudioLevels { splits })
}
