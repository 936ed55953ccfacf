//! Sound sources (a looping signal) and WAV I/O.
//!
//! The default source is a synthesized telephone ring ([`SourceSignal::ringtone`]); any WAV
//! file can be used instead ([`SourceSignal::from_wav`]). Sources always loop.

use std::io::{BufWriter, Write};
use std::path::Path;
use std::sync::Arc;

use avwm_core::SAMPLE_RATE_HZ;

use crate::dsp::resample::resample_looping;
use crate::error::AudioError;

/// A mono signal that loops with period `len()` samples. Cloning is cheap (shared samples).
#[derive(Clone, Debug, PartialEq)]
pub struct SourceSignal {
    samples: Arc<[f32]>,
    sample_rate_hz: u32,
}

/// Ring period (s): 1.0 s of trill followed by a 0.2 s pause.
const RING_PERIOD_S: f32 = 1.2;
/// Trill duration per period (s).
const RING_ON_S: f32 = 1.0;
/// Trill rate (Hz): the fundamental alternates between the two tones this many times per second.
const TRILL_HZ: f32 = 20.0;
/// The two fundamentals of the trill (Hz), about a major third apart.
const RING_TONES_HZ: [f32; 2] = [500.0, 640.0];
/// Harmonics per tone (amplitude 1/h), giving energy from 500 Hz up to ≈ 5 kHz.
const RING_HARMONICS: usize = 10;
/// Attack/release ramps of the trill (s), to avoid clicks at the loop seam.
const RING_RAMP_S: f32 = 0.01;
/// RMS level of the trill (full scale = 1).
const RING_RMS: f32 = 0.25;

impl SourceSignal {
    /// A source from raw samples.
    ///
    /// # Errors
    ///
    /// [`AudioError::Config`] if `samples` is empty, holds non-finite values or the sample rate is 0.
    pub fn from_samples(
        samples: Vec<f32>,
        sample_rate_hz: u32,
    ) -> Result<SourceSignal, AudioError> {
        if samples.is_empty() || sample_rate_hz == 0 {
            return Err(AudioError::Config(
                "a source needs ≥ 1 sample and a sample rate > 0".into(),
            ));
        }
        if samples.iter().any(|v| !v.is_finite()) {
            return Err(AudioError::Config("source samples must be finite".into()));
        }
        Ok(SourceSignal {
            samples: samples.into(),
            sample_rate_hz,
        })
    }

    /// The synthesized looping telephone ring (the default source of the paper's task).
    ///
    /// Our choice, since the classic North-American cadence (440 + 480 Hz, 2 s on, 4 s off)
    /// would leave most 0.15 s steps silent: an electronic-ringer *trill*. The fundamental
    /// switches between 500 and 640 Hz at 20 Hz (phase-continuous, so no clicks), each tone
    /// with 10 harmonics of amplitude 1/h (energy from 500 Hz to ≈ 5 kHz, enough for both
    /// interaural time and level cues); 1.0 s of trill then 0.2 s of silence, period 1.2 s.
    /// At most 4 % of 0.15 s windows fall entirely into the pause. RMS 0.25 during the trill.
    pub fn ringtone(sample_rate_hz: u32) -> SourceSignal {
        let fs = sample_rate_hz as f32;
        let n = (RING_PERIOD_S * fs).round() as usize;
        let n_on = (RING_ON_S * fs).round() as usize;
        let ramp = (RING_RAMP_S * fs).round().max(1.0);
        let nyquist = fs / 2.0;
        let mut x = vec![0.0f32; n];
        let mut phase = 0.0f64; // fundamental phase (cycles)
        for (i, v) in x.iter_mut().enumerate().take(n_on) {
            let t = i as f32 / fs;
            let f0 = RING_TONES_HZ[((t * TRILL_HZ) as usize) % 2];
            let mut s = 0.0f32;
            for h in 1..=RING_HARMONICS {
                if f0 * h as f32 >= nyquist * 0.95 {
                    break;
                }
                let ph = (phase * h as f64).fract() as f32;
                s += (2.0 * std::f32::consts::PI * ph).sin() / h as f32;
            }
            let env = (i as f32 / ramp).min(1.0).min((n_on - i) as f32 / ramp);
            *v = s * env;
            phase = (phase + f0 as f64 / fs as f64).fract();
        }
        let rms = (x[..n_on].iter().map(|v| v * v).sum::<f32>() / n_on as f32).sqrt();
        for v in &mut x {
            *v *= RING_RMS / rms;
        }
        SourceSignal {
            samples: x.into(),
            sample_rate_hz,
        }
    }

    /// Loads a WAV file as a looping source at [`SAMPLE_RATE_HZ`] (16 kHz): integer or float
    /// samples, channels mixed down to mono by averaging, resampled with a windowed sinc if the
    /// file has another rate.
    ///
    /// # Errors
    ///
    /// [`AudioError::Io`] if the file cannot be opened, [`AudioError::BadWav`] if it cannot be
    /// decoded or is empty; both name the file.
    pub fn from_wav(path: impl AsRef<Path>) -> Result<SourceSignal, AudioError> {
        SourceSignal::from_wav_at(path, SAMPLE_RATE_HZ)
    }

    /// As [`SourceSignal::from_wav`], resampled to `sample_rate_hz`.
    ///
    /// # Errors
    ///
    /// As [`SourceSignal::from_wav`].
    pub fn from_wav_at(
        path: impl AsRef<Path>,
        sample_rate_hz: u32,
    ) -> Result<SourceSignal, AudioError> {
        let path = path.as_ref();
        let (channels, rate) = read_wav(path)?;
        let n = channels[0].len();
        let inv = 1.0 / channels.len() as f32;
        let mono: Vec<f32> = (0..n)
            .map(|i| channels.iter().map(|c| c[i]).sum::<f32>() * inv)
            .collect();
        let resampled = resample_looping(&mono, rate, sample_rate_hz);
        SourceSignal::from_samples(resampled, sample_rate_hz).map_err(|e| AudioError::BadWav {
            path: path.to_owned(),
            reason: e.to_string(),
        })
    }

    /// RMS of one period (full scale = 1).
    pub fn rms(&self) -> f32 {
        let sum: f64 = self
            .samples
            .iter()
            .map(|&v| f64::from(v) * f64::from(v))
            .sum();
        (sum / self.samples.len() as f64).sqrt() as f32
    }

    /// The same signal scaled so that the RMS of one period is `dbfs` dB relative to full scale
    /// (the simulator's level convention: with free-field spreading `1/r`, this is the RMS of
    /// the direct sound 1 m from the source).
    ///
    /// # Errors
    ///
    /// [`AudioError::Config`] if `dbfs` is not finite or the signal is silent.
    pub fn with_rms_dbfs(&self, dbfs: f32) -> Result<SourceSignal, AudioError> {
        if !dbfs.is_finite() {
            return Err(AudioError::Config(format!(
                "source level must be finite, got {dbfs} dBFS"
            )));
        }
        let rms = self.rms();
        if !(rms > 0.0 && rms.is_finite()) {
            return Err(AudioError::Config(
                "the source signal is silent: it has no level to set".into(),
            ));
        }
        let g = 10f32.powf(dbfs / 20.0) / rms;
        SourceSignal::from_samples(
            self.samples.iter().map(|v| v * g).collect(),
            self.sample_rate_hz,
        )
    }

    /// The samples of one period.
    pub fn samples(&self) -> &[f32] {
        &self.samples
    }

    /// Loop period (samples), ≥ 1.
    pub fn len(&self) -> usize {
        self.samples.len()
    }

    /// Always `false` (a source has at least one sample); provided for API symmetry.
    pub fn is_empty(&self) -> bool {
        self.samples.is_empty()
    }

    /// Sample rate (Hz).
    pub fn sample_rate_hz(&self) -> u32 {
        self.sample_rate_hz
    }
}

/// Reads a WAV file: per-channel samples scaled to [-1, 1] and the sample rate (Hz).
///
/// # Errors
///
/// [`AudioError::Io`] if the file cannot be opened, [`AudioError::BadWav`] if it is not a
/// decodable WAV file, has no channels or no samples.
pub fn read_wav(path: impl AsRef<Path>) -> Result<(Vec<Vec<f32>>, u32), AudioError> {
    let path = path.as_ref();
    let bad = |reason: String| AudioError::BadWav {
        path: path.to_owned(),
        reason,
    };
    let file = std::fs::File::open(path).map_err(|source| AudioError::Io {
        path: path.to_owned(),
        source,
    })?;
    let reader =
        hound::WavReader::new(std::io::BufReader::new(file)).map_err(|e| bad(e.to_string()))?;
    let spec = reader.spec();
    let nch = spec.channels as usize;
    if nch == 0 || spec.sample_rate == 0 {
        return Err(bad("no channels or zero sample rate".into()));
    }
    let interleaved: Vec<f32> = match spec.sample_format {
        hound::SampleFormat::Float => reader
            .into_samples::<f32>()
            .collect::<Result<_, _>>()
            .map_err(|e| bad(e.to_string()))?,
        hound::SampleFormat::Int => {
            if spec.bits_per_sample == 0 || spec.bits_per_sample > 32 {
                return Err(bad(format!(
                    "unsupported bit depth {}",
                    spec.bits_per_sample
                )));
            }
            let scale = 1.0 / (1u64 << (spec.bits_per_sample - 1)) as f32;
            reader
                .into_samples::<i32>()
                .map(|s| s.map(|v| v as f32 * scale))
                .collect::<Result<_, _>>()
                .map_err(|e| bad(e.to_string()))?
        }
    };
    let n = interleaved.len() / nch;
    if n == 0 {
        return Err(bad("no samples".into()));
    }
    let channels = (0..nch)
        .map(|c| (0..n).map(|i| interleaved[i * nch + c]).collect())
        .collect();
    Ok((channels, spec.sample_rate))
}

/// Encodes channels as a WAV file in memory: 32-bit IEEE float samples (no clipping or
/// quantisation, read as float32 by soundfile / librosa / Hugging Face `datasets`).
///
/// # Errors
///
/// [`AudioError::Config`] if there are no channels, more than 65535, or their lengths differ.
pub fn encode_wav(channels: &[&[f32]], sample_rate_hz: u32) -> Result<Vec<u8>, AudioError> {
    let mut buf = std::io::Cursor::new(Vec::new());
    write_wav_to(&mut buf, channels, sample_rate_hz)
        .map_err(|e| AudioError::Config(format!("encoding WAV: {e}")))?;
    Ok(buf.into_inner())
}

fn check_channels(channels: &[&[f32]]) -> Result<u16, AudioError> {
    let nch = u16::try_from(channels.len())
        .map_err(|_| AudioError::Config("too many channels for WAV".into()))?;
    if nch == 0 {
        return Err(AudioError::Config("WAV needs at least one channel".into()));
    }
    if channels.iter().any(|c| c.len() != channels[0].len()) {
        return Err(AudioError::Config("WAV channels differ in length".into()));
    }
    Ok(nch)
}

fn write_wav_to<W: Write + std::io::Seek>(
    w: W,
    channels: &[&[f32]],
    sample_rate_hz: u32,
) -> Result<(), AudioError> {
    let nch = check_channels(channels)?;
    let spec = hound::WavSpec {
        channels: nch,
        sample_rate: sample_rate_hz,
        bits_per_sample: 32,
        sample_format: hound::SampleFormat::Float,
    };
    let err = |e: hound::Error| AudioError::Config(e.to_string());
    let mut writer = hound::WavWriter::new(w, spec).map_err(err)?;
    for i in 0..channels[0].len() {
        for c in channels {
            writer.write_sample(c[i]).map_err(err)?;
        }
    }
    writer.finalize().map_err(err)
}

/// Writes channels to a WAV file (32-bit IEEE float, interleaved), atomically: the data goes
/// to a temporary file in the same folder which is then renamed over `path`, so readers never
/// see a half-written file.
///
/// # Errors
///
/// [`AudioError::Config`] for bad channel layouts (see [`encode_wav`]), [`AudioError::Io`]
/// (naming the file) if writing or renaming fails.
pub fn write_wav(
    path: impl AsRef<Path>,
    channels: &[&[f32]],
    sample_rate_hz: u32,
) -> Result<(), AudioError> {
    let path = path.as_ref();
    check_channels(channels)?;
    let io = |source: std::io::Error| AudioError::Io {
        path: path.to_owned(),
        source,
    };
    let mut tmp_name = path
        .file_name()
        .map(|n| n.to_os_string())
        .unwrap_or_default();
    tmp_name.push(format!(".tmp{}", std::process::id()));
    let tmp = path.with_file_name(tmp_name);
    let result = (|| {
        let file = std::fs::File::create(&tmp).map_err(io)?;
        let mut w = BufWriter::new(file);
        write_wav_to(&mut w, channels, sample_rate_hz)?;
        let file = w.into_inner().map_err(|e| io(e.into_error()))?;
        file.sync_all().map_err(io)?;
        std::fs::rename(&tmp, path).map_err(io)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn level_sets_the_rms_of_one_period_and_keeps_the_waveform() {
        let src = SourceSignal::ringtone(16_000);
        let quiet = src.with_rms_dbfs(-36.0).unwrap();
        let db = 20.0 * quiet.rms().log10();
        assert!((db + 36.0).abs() < 1e-3, "{db} dBFS");
        // One gain for every sample: the ratio is constant.
        let g = quiet.rms() / src.rms();
        for (a, b) in src.samples().iter().zip(quiet.samples()) {
            assert!((a * g - b).abs() <= 1e-6 * a.abs().max(1e-3));
        }
        assert!(src.with_rms_dbfs(f32::NAN).is_err());
        let silent = SourceSignal::from_samples(vec![0.0; 100], 16_000).unwrap();
        assert!(silent.with_rms_dbfs(-20.0).is_err());
    }

    #[test]
    fn ringtone_loops_at_its_period_and_is_audible_in_most_steps() {
        let s = SourceSignal::ringtone(16_000);
        assert_eq!(s.len(), 19_200);
        // Seam: the last and first samples are both (near) silent, so the loop is continuous.
        assert!(s.samples()[0].abs() < 1e-3 && s.samples()[s.len() - 1].abs() < 1e-3);
        let win = 2400;
        let audible = (0..s.len())
            .step_by(100)
            .filter(|&i| {
                let e: f32 = (0..win)
                    .map(|k| s.samples()[(i + k) % s.len()].powi(2))
                    .sum();
                (e / win as f32).sqrt() > 0.01
            })
            .count();
        let total = s.len() / 100;
        assert!(
            audible as f32 / total as f32 > 0.95,
            "{audible}/{total} windows audible"
        );
    }
}
