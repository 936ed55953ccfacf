//! The per-frame media: PNG images and WAV audio, encoded and decoded without external tools.
//!
//! Both encoders are deterministic (no timestamps, fixed compression settings), which the
//! byte-identical dataset guarantee relies on.

use crate::error::{DataError, Result};
use avwm_core::{BinauralAudio, RgbImage};
use serde::{Deserialize, Serialize};

/// How step audio is stored in the WAV bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum AudioEncoding {
    /// 32-bit IEEE float (WAVE_FORMAT_IEEE_FLOAT): the simulator's samples exactly, no clipping.
    /// 19.2 kB per step.
    #[default]
    Float32,
    /// 16-bit PCM, samples clipped to [-1, 1] and rounded: half the size, 96 dB dynamic range.
    Pcm16,
}

/// Encodes an RGB image as an 8-bit RGB PNG ([`avwm_core::encode_png`]), as a [`DataError`].
///
/// # Errors
/// [`DataError::Media`] if the buffer size does not match `width × height × 3`.
pub fn encode_png(img: &RgbImage) -> Result<Vec<u8>> {
    avwm_core::encode_png(img).map_err(|e| DataError::Media(e.to_string()))
}

/// Decodes an 8-bit RGB (or RGBA, alpha dropped) PNG.
///
/// # Errors
/// [`DataError::Media`] for anything that is not such a PNG.
pub fn decode_png(bytes: &[u8]) -> Result<RgbImage> {
    let dec = png::Decoder::new(std::io::Cursor::new(bytes));
    let mut reader = dec
        .read_info()
        .map_err(|e| DataError::Media(format!("PNG: {e}")))?;
    let size = reader
        .output_buffer_size()
        .ok_or_else(|| DataError::Media("PNG: image too large".into()))?;
    let mut buf = vec![0; size];
    let info = reader
        .next_frame(&mut buf)
        .map_err(|e| DataError::Media(format!("PNG: {e}")))?;
    if info.bit_depth != png::BitDepth::Eight {
        return Err(DataError::Media(format!(
            "PNG: bit depth {:?}, expected 8",
            info.bit_depth
        )));
    }
    let (w, h) = (info.width, info.height);
    let data = match info.color_type {
        png::ColorType::Rgb => buf[..info.buffer_size()].to_vec(),
        png::ColorType::Rgba => buf[..info.buffer_size()]
            .chunks_exact(4)
            .flat_map(|p| [p[0], p[1], p[2]])
            .collect(),
        other => {
            return Err(DataError::Media(format!(
                "PNG: colour type {other:?}, expected RGB"
            )));
        }
    };
    Ok(RgbImage {
        width: w,
        height: h,
        data,
    })
}

/// Encodes two channels as a stereo WAV (left, right interleaved).
///
/// # Errors
/// [`DataError::Media`] if the channels differ in length or are too long for a WAV file;
/// [`DataError::Clipping`] for 16-bit PCM of audio with samples above full scale (|x| > 1), which
/// it would have to clip.
pub fn encode_wav(audio: &BinauralAudio, encoding: AudioEncoding) -> Result<Vec<u8>> {
    let n = audio.left.len();
    if audio.right.len() != n {
        return Err(DataError::Media(format!(
            "WAV: left has {n} samples, right {}",
            audio.right.len()
        )));
    }
    if encoding == AudioEncoding::Pcm16 {
        let all = || audio.left.iter().chain(&audio.right).map(|s| s.abs());
        let samples = all().filter(|&a| a > 1.0).count();
        if samples > 0 {
            let peak = all().fold(0f32, f32::max);
            return Err(DataError::Clipping {
                samples,
                peak_dbfs: 20.0 * f64::from(peak).log10(),
            });
        }
    }
    let (fmt_tag, bits, fmt_len): (u16, u16, u32) = match encoding {
        AudioEncoding::Float32 => (3, 32, 18),
        AudioEncoding::Pcm16 => (1, 16, 16),
    };
    let block = 2 * u32::from(bits / 8);
    let data_len = u32::try_from(n)
        .ok()
        .and_then(|n| n.checked_mul(block))
        .ok_or_else(|| DataError::Media("WAV: too many samples".into()))?;
    let fact = if encoding == AudioEncoding::Float32 {
        12
    } else {
        0
    };
    let riff_len = 4 + (8 + fmt_len) + fact + 8 + data_len;
    let mut out = Vec::with_capacity(riff_len as usize + 8);
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(&riff_len.to_le_bytes());
    out.extend_from_slice(b"WAVEfmt ");
    out.extend_from_slice(&fmt_len.to_le_bytes());
    out.extend_from_slice(&fmt_tag.to_le_bytes());
    out.extend_from_slice(&2u16.to_le_bytes());
    out.extend_from_slice(&audio.sample_rate_hz.to_le_bytes());
    out.extend_from_slice(&(audio.sample_rate_hz * block).to_le_bytes());
    out.extend_from_slice(&(block as u16).to_le_bytes());
    out.extend_from_slice(&bits.to_le_bytes());
    if encoding == AudioEncoding::Float32 {
        out.extend_from_slice(&0u16.to_le_bytes()); // cbSize
        out.extend_from_slice(b"fact");
        out.extend_from_slice(&4u32.to_le_bytes());
        out.extend_from_slice(&(n as u32).to_le_bytes());
    }
    out.extend_from_slice(b"data");
    out.extend_from_slice(&data_len.to_le_bytes());
    for (l, r) in audio.left.iter().zip(&audio.right) {
        for s in [*l, *r] {
            match encoding {
                AudioEncoding::Float32 => out.extend_from_slice(&s.to_le_bytes()),
                AudioEncoding::Pcm16 => {
                    let q = (s.clamp(-1.0, 1.0) * 32767.0).round() as i16;
                    out.extend_from_slice(&q.to_le_bytes());
                }
            }
        }
    }
    Ok(out)
}

/// Decodes a stereo WAV written by [`encode_wav`] (16-bit PCM or 32-bit float).
///
/// # Errors
/// [`DataError::Media`] for other layouts or truncated files.
pub fn decode_wav(bytes: &[u8]) -> Result<BinauralAudio> {
    let bad = |m: &str| DataError::Media(format!("WAV: {m}"));
    if bytes.len() < 12 || &bytes[0..4] != b"RIFF" || &bytes[8..12] != b"WAVE" {
        return Err(bad("not a RIFF/WAVE file"));
    }
    let u16_at = |o: usize| u16::from_le_bytes([bytes[o], bytes[o + 1]]);
    let u32_at =
        |o: usize| u32::from_le_bytes([bytes[o], bytes[o + 1], bytes[o + 2], bytes[o + 3]]);
    let mut pos = 12;
    let mut fmt: Option<(u16, u16, u32, u16)> = None;
    while pos + 8 <= bytes.len() {
        let id = &bytes[pos..pos + 4];
        let len = u32_at(pos + 4) as usize;
        let body = pos + 8;
        let end = body
            .checked_add(len)
            .filter(|&e| e <= bytes.len())
            .ok_or_else(|| bad("truncated chunk"))?;
        if id == b"fmt " {
            if len < 16 {
                return Err(bad("short fmt chunk"));
            }
            fmt = Some((
                u16_at(body),
                u16_at(body + 2),
                u32_at(body + 4),
                u16_at(body + 14),
            ));
        } else if id == b"data" {
            let (tag, channels, rate, bits) = fmt.ok_or_else(|| bad("data before fmt"))?;
            if channels != 2 {
                return Err(bad(&format!("{channels} channels, expected 2")));
            }
            let data = &bytes[body..end];
            let (mut left, mut right) = (Vec::new(), Vec::new());
            match (tag, bits) {
                (3, 32) => {
                    for f in data.chunks_exact(8) {
                        left.push(f32::from_le_bytes([f[0], f[1], f[2], f[3]]));
                        right.push(f32::from_le_bytes([f[4], f[5], f[6], f[7]]));
                    }
                }
                (1, 16) => {
                    for f in data.chunks_exact(4) {
                        left.push(f32::from(i16::from_le_bytes([f[0], f[1]])) / 32767.0);
                        right.push(f32::from(i16::from_le_bytes([f[2], f[3]])) / 32767.0);
                    }
                }
                _ => {
                    return Err(bad(&format!(
                        "format tag {tag} with {bits} bits is not supported"
                    )));
                }
            }
            return Ok(BinauralAudio {
                sample_rate_hz: rate,
                left,
                right,
            });
        }
        pos = end + (len & 1);
    }
    Err(bad("no data chunk"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wav_round_trip_float_is_exact_and_pcm16_within_half_lsb() {
        let left: Vec<f32> = (0..2400).map(|i| (i as f32 * 0.01).sin() * 0.7).collect();
        let right: Vec<f32> = left.iter().map(|x| -0.5 * x).collect();
        let a = BinauralAudio {
            sample_rate_hz: 16_000,
            left,
            right,
        };
        let f = encode_wav(&a, AudioEncoding::Float32).unwrap();
        // RIFF header 12 + fmt 26 + fact 12 + data header 8 + 2 × 2400 × 4 bytes.
        assert_eq!(f.len(), 12 + 26 + 12 + 8 + 19_200);
        assert_eq!(decode_wav(&f).unwrap(), a);
        let p = encode_wav(&a, AudioEncoding::Pcm16).unwrap();
        assert_eq!(p.len(), 44 + 9600, "canonical 44-byte PCM header");
        let d = decode_wav(&p).unwrap();
        let err = d
            .left
            .iter()
            .zip(&a.left)
            .map(|(x, y)| (x - y).abs())
            .fold(0.0, f32::max);
        assert!(err <= 0.5 / 32767.0 + 1e-7, "max error {err}");
        // Full scale itself is written; above it, 16-bit PCM is refused (float32 is exact).
        let mut loud = a.clone();
        loud.left[10] = 1.0;
        loud.right[20] = -1.0;
        assert!(encode_wav(&loud, AudioEncoding::Pcm16).is_ok());
        loud.left[11] = 2.0;
        loud.right[21] = -1.5;
        match encode_wav(&loud, AudioEncoding::Pcm16) {
            Err(DataError::Clipping { samples, peak_dbfs }) => {
                assert_eq!(samples, 2);
                assert!((peak_dbfs - 6.0206).abs() < 1e-3, "{peak_dbfs}");
            }
            other => panic!("expected a clipping error, got {other:?}"),
        }
        assert_eq!(
            decode_wav(&encode_wav(&loud, AudioEncoding::Float32).unwrap()).unwrap(),
            loud
        );
        assert!(decode_wav(&p[..30]).is_err());
    }

    #[test]
    fn png_round_trip() {
        let mut img = RgbImage::new(7, 5);
        for (i, b) in img.data.iter_mut().enumerate() {
            *b = (i * 37 % 256) as u8;
        }
        let bytes = encode_png(&img).unwrap();
        assert_eq!(&bytes[1..4], b"PNG");
        assert_eq!(decode_png(&bytes).unwrap(), img);
        assert_eq!(encode_png(&img).unwrap(), bytes, "deterministic");
        assert!(decode_png(&bytes[..20]).is_err());
    }
}
